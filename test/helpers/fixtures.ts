import { loadSafetensors } from '../../src/io/index.js';
import type { Tensor } from '../../src/tensor/index.js';

/**
 * A PyTorch fixture's tensors, typed as the float tensors nearly all of them are. Its integer entries
 * (I64 lengths, batch sizes, token ids) load as int32 index tensors: tests read those through `.data`
 * or pass them where indices go, and the ops refuse them anywhere else at run time.
 */
export function loadFixtureTensors(bytes: Uint8Array): Record<string, Tensor> {
  return loadSafetensors(bytes) as Record<string, Tensor>;
}
