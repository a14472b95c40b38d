/**
 * Keras 3 models and weights: `.keras` files (a zip of config.json and model.weights.h5) become a
 * KerasModel of our modules; a `.weights.h5` file loads into modules the caller built, by Keras layer
 * name. See weights.ts for the layout mapping and model.ts for what a config may hold.
 */
import type { Module } from '../../nn/index.js';
import { isZip, readKerasArchive } from './archive.js';
import { readHdf5 } from './hdf5.js';
import { buildKerasModel, KerasModel } from './model.js';
import { layersWithWeights, prepareLayerLoad } from './weights.js';

export { KerasModel };

/**
 * A Keras 3 Sequential model as a KerasModel (a Module: forward, parameters, stateDict, training).
 * `bytes` is a `.keras` file, or a `.weights.h5` file with `options.config` giving the architecture
 * (the parsed or textual config.json / model.to_json()).
 */
export async function loadKerasModel(bytes: Uint8Array, options: { config?: unknown } = {}): Promise<KerasModel> {
  const where = 'loadKerasModel';
  if (!(bytes instanceof Uint8Array)) throw new Error(`${where}: expected the file's bytes as a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  let config = options.config;
  let weights = bytes;
  if (isZip(bytes)) {
    const archive = readKerasArchive(bytes, where);
    config ??= archive.config;
    weights = archive.weights;
  } else if (config === undefined) {
    throw new Error(`${where}: a .weights.h5 file holds no architecture; pass { config } (the model's config.json or model.to_json()), or give the .keras file`);
  }
  if (typeof config === 'string') {
    try { config = JSON.parse(config); } catch (e) { throw new Error(`${where}: options.config is not valid JSON (${(e as Error).message})`); }
  }
  return buildKerasModel(config, await readHdf5(weights, where), where);
}

/**
 * Loads a Keras 3 `.weights.h5` (or the weights inside a `.keras` file) into modules the caller
 * built, keyed by Keras layer name as the file stores it (`lstm`, `lstm_1`, `gru`, `bidirectional`,
 * `dense`, `embedding`, ...): Dense → Linear, Embedding → Embedding, LSTM / GRU / SimpleRNN → a
 * one-layer LSTM / GRU / RNN (bidirectional for a Bidirectional; a GRU with reset_after=False needs
 * `linearBeforeReset: false`). Every layer of the file that has weights must be given a module.
 */
export async function loadKerasWeights(bytes: Uint8Array, modules: Record<string, Module>): Promise<void> {
  const where = 'loadKerasWeights';
  if (!(bytes instanceof Uint8Array)) throw new Error(`${where}: expected the file's bytes as a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  const store = await readHdf5(isZip(bytes) ? readKerasArchive(bytes, where).weights : bytes, where);
  const inFile = layersWithWeights(store);
  const unknown = Object.keys(modules).filter((n) => !inFile.includes(n));
  if (unknown.length > 0) throw new Error(`${where}: the file has no layer ${unknown.map((n) => `'${n}'`).join(', ')} (its layers with weights: ${inFile.join(', ') || 'none'})`);
  const missing = inFile.filter((n) => !(n in modules));
  if (missing.length > 0) throw new Error(`${where}: no module given for the file's layer${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  const loads = inFile.map((name) => prepareLayerLoad(store, name, modules[name]!, where));
  for (const load of loads) load();
}
