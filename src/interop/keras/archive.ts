/**
 * A `.keras` file: a zip holding config.json (the model's architecture), model.weights.h5 and
 * metadata.json (Keras 3's saving_lib). Read with fflate; sizes are checked against limits before
 * anything is inflated, so a zip bomb is an error, not an allocation.
 */
import { unzipSync } from 'fflate';

export interface KerasArchive {
  config: unknown;
  weights: Uint8Array;
}

const MAX_CONFIG_BYTES = 16 << 20;
const MAX_WEIGHTS_BYTES = 2 ** 31 - 1;
const WANTED = ['config.json', 'model.weights.h5'];

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

export function readKerasArchive(bytes: Uint8Array, where: string): KerasArchive {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, {
      filter: (file) => {
        if (!WANTED.includes(file.name)) return false;
        const limit = file.name === 'config.json' ? MAX_CONFIG_BYTES : MAX_WEIGHTS_BYTES;
        if (file.originalSize > limit) throw new Error(`${where}: ${file.name} declares ${file.originalSize} bytes, over the limit of ${limit}`);
        return true;
      },
    });
  } catch (e) {
    const message = (e as Error).message;
    throw new Error(message.startsWith(where) ? message : `${where}: not a readable .keras zip (${message})`);
  }
  for (const name of WANTED) {
    if (!entries[name]) {
      const hint = name === 'model.weights.h5' && Object.keys(entries).length > 0 ? ' (a .keras file saved with weights as .npz is not supported)' : '';
      throw new Error(`${where}: the .keras archive has no ${name}${hint}`);
    }
  }
  let config: unknown;
  try {
    config = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(entries['config.json']));
  } catch (e) {
    throw new Error(`${where}: config.json is not valid JSON (${(e as Error).message})`);
  }
  return { config, weights: entries['model.weights.h5']! };
}
