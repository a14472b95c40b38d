/**
 * The float datasets of an HDF5 file, by path, through h5wasm (the HDF5 C library compiled to
 * WebAssembly). h5wasm works on files in its own in-memory file system, so the bytes are written
 * there under a unique name and removed after reading; it is loaded on first use, so programs that
 * never read Keras files never load its 4 MB module.
 */
export interface H5Array {
  shape: number[];
  data: Float32Array;
}

/** Everything a Keras weights file holds that this library uses: float datasets by path. */
export type H5Store = Map<string, H5Array>;

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
/** HDF5 allows a user block before the superblock; the signature sits at 0, 512, 1024, 2048, ... */
function hasSignature(bytes: Uint8Array): boolean {
  for (let at = 0; at + SIGNATURE.length <= bytes.length; at = at === 0 ? 512 : at * 2) {
    if (SIGNATURE.every((b, i) => bytes[at + i] === b)) return true;
  }
  return false;
}

let files = 0;

type H5Module = typeof import('h5wasm');

async function h5wasm(): Promise<{ lib: H5Module; fs: NonNullable<H5Module['FS']> }> {
  const lib = (await import('h5wasm')).default as unknown as H5Module;
  const { FS } = await lib.ready;
  return { lib, fs: FS as NonNullable<H5Module['FS']> };
}

/**
 * Reads every float dataset. A dataset's declared size is checked against the file's size before its
 * values are read (Keras writes uncompressed datasets, so a larger declared size means a damaged or
 * hostile file, and reading it would allocate what it claims).
 */
export async function readHdf5(bytes: Uint8Array, where: string): Promise<H5Store> {
  if (!(bytes instanceof Uint8Array)) throw new Error(`${where}: expected the file's bytes as a Uint8Array, got ${typeof bytes}`);
  if (!hasSignature(bytes)) throw new Error(`${where}: not an HDF5 file (no HDF5 signature; a Keras .weights.h5 file is HDF5)`);
  const { lib, fs } = await h5wasm();
  const name = `/recurrent-keras-${Date.now()}-${files++}.h5`;
  fs.writeFile(name, bytes);
  let file: InstanceType<H5Module['File']> | null = null;
  try {
    const opened = new lib.File(name, 'r');
    if (Number(opened.file_id) < 0) throw new Error(`${where}: the HDF5 library could not open the file (truncated or damaged)`);
    file = opened;
    const store: H5Store = new Map();
    const visit = (group: InstanceType<H5Module['Group']>, prefix: string, depth: number): void => {
      if (depth > 32) throw new Error(`${where}: groups nested more than 32 deep at '${prefix}'`);
      for (const key of group.keys()) {
        const path = prefix ? `${prefix}/${key}` : key;
        const entry = group.get(key);
        if (entry instanceof lib.Group) visit(entry, path, depth + 1);
        else if (entry instanceof lib.Dataset) {
          const array = readDataset(entry, path, bytes.length, where);
          if (array) store.set(path, array);
        }
      }
    };
    visit(file, '', 0);
    return store;
  } finally {
    try { file?.close(); } catch { /* the file may not have opened */ }
    fs.unlink(name);
  }
}

function readDataset(dataset: InstanceType<H5Module['Dataset']>, path: string, fileBytes: number, where: string): H5Array | null {
  const meta = dataset.metadata;
  // Keras stores floats; integer or string datasets (a seed generator's state) are not weights.
  if (meta.type !== 1) return null; // H5T_FLOAT
  const shape = dataset.shape ?? [];
  const count = shape.reduce((a, b) => a * b, 1);
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0) || count * meta.size > fileBytes) {
    throw new Error(`${where}: dataset '${path}' declares shape [${shape.join(', ')}] of ${meta.size}-byte values, more than the file's ${fileBytes} bytes hold`);
  }
  if (meta.size !== 4 && meta.size !== 8) throw new Error(`${where}: dataset '${path}' holds ${meta.size * 8}-bit floats; float32 and float64 are supported`);
  if ((dataset.attrs as Record<string, unknown>)['dtype'] !== undefined) {
    const declared = dataset.get_attribute('dtype', true);
    if (declared === 'bfloat16') throw new Error(`${where}: dataset '${path}' is bfloat16, which is not supported`);
  }
  const value = dataset.value;
  if (!(value instanceof Float32Array || value instanceof Float64Array) || value.length !== count) {
    throw new Error(`${where}: dataset '${path}' could not be read as ${count} floats (damaged file?)`);
  }
  return { shape, data: value instanceof Float32Array ? value : Float32Array.from(value) };
}
