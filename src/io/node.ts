// Node-only: these touch the file system. Import from here, never from the browser barrel.
export { writeFileAtomic, removeStaleTemporaries, saveModel, loadModel, saveCheckpoint, loadCheckpoint } from './files.js';
export { acquireLock, describeHolder, LockHeldError, type FileLock, type LockHolder } from './lock.js';
