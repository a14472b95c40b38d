/**
 * 'recurrent/node': the Node-only helpers (they use the file system), kept out of the main entry so
 * browser bundles never see `node:fs`.
 */
export { writeFileAtomic, saveModel, loadModel, saveCheckpoint, loadCheckpoint } from './io/node.js';
export { readSeriesFile, readTextFile, readMidiFile, readMidiFolder, shippedDataPath, listShippedData, resolveDataPath, readChorales } from './data/files.js';
export * from './index.js';
