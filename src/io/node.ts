// Node-only: these touch the file system. Import from here, never from the browser barrel.
export { writeFileAtomic, removeStaleTemporaries, saveModel, loadModel, saveCheckpoint, loadCheckpoint } from './files.js';
