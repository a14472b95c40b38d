// Browser-safe: byte-level codecs only. Node file helpers are in ./node.ts.
export { loadSafetensors, readSafetensorsMetadata, saveSafetensors, MAX_HEADER_BYTES, MAX_HEADER_DEPTH } from './safetensors.js';
export {
  encodeCheckpoint, decodeCheckpoint, restoreCheckpoint, CHECKPOINT_FORMAT, CHECKPOINT_VERSION,
  type CheckpointContents, type DecodedCheckpoint, type RestoreTargets,
  type StatefulModel, type StatefulOptimizer, type StatefulGenerator,
} from './checkpoint.js';
