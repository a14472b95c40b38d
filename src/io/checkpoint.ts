/**
 * Checkpoints: everything needed to resume training, in one safetensors file.
 *
 *   tensors   `model.<name>` (the model's state dict) and `optimizer.<index>.<buffer>` (its state)
 *   metadata  format "recurrent-checkpoint", version "1", step, rng (the generator's state as JSON),
 *             optimizer (its JSON state: hyper-parameters, step counts), extra (free-form JSON),
 *             data_crc32 (CRC-32 of the data section: damage there passes every check of the header;
 *             files written before it existed have none and still load)
 *
 * Pure encode/decode over bytes, so the browser can checkpoint too; files.ts writes them to disk
 * atomically. A scheduler's state is plain JSON: keep it in `extra`.
 */
import type { OptimizerMeta, OptimizerStateDict } from '../optim/index.js';
import type { AnyTensor, Tensor } from '../tensor/index.js';
import { crc32 } from './crc32.js';
import { loadSafetensors, readSafetensorsMetadata, saveSafetensors } from './safetensors.js';

export const CHECKPOINT_FORMAT = 'recurrent-checkpoint';
export const CHECKPOINT_VERSION = '1';

/**
 * What a model must offer (nn.Module does). checkStateDict, when present, throws what loadStateDict
 * would and changes nothing: restoreCheckpoint calls it before loading any part.
 */
export interface StatefulModel {
  stateDict(): Record<string, Tensor>;
  loadStateDict(dict: Readonly<Record<string, AnyTensor>>, options?: { strict?: boolean }): unknown;
  checkStateDict?(dict: Record<string, Tensor>, options?: { strict?: boolean }): unknown;
}

/** What an optimizer must offer (every optim.Optimizer does, checkStateDict included). */
export interface StatefulOptimizer {
  stateDict(): OptimizerStateDict;
  loadStateDict(dict: OptimizerStateDict): void;
  checkStateDict?(dict: OptimizerStateDict): void;
}

/** A random generator whose state can be saved (tensor.Generator). */
export interface StatefulGenerator {
  getState(): number[];
  setState(state: readonly number[]): void;
}

export interface CheckpointContents {
  model: StatefulModel;
  optimizer?: StatefulOptimizer;
  /** Training steps taken so far (a non-negative integer). */
  step: number;
  generator?: StatefulGenerator;
  /** Anything JSON can hold: epoch, scheduler state, losses, options of the run. */
  extra?: unknown;
}

export interface DecodedCheckpoint {
  model: Record<string, Tensor>;
  optimizer: OptimizerStateDict | null;
  rng: number[] | null;
  step: number;
  extra: unknown;
}

export interface RestoreTargets {
  model: StatefulModel;
  optimizer?: StatefulOptimizer;
  generator?: StatefulGenerator;
  /** Passed to model.loadStateDict. Default true. */
  strict?: boolean;
}

export function encodeCheckpoint(contents: CheckpointContents, where = 'encodeCheckpoint'): Uint8Array {
  const { model, optimizer, step, generator, extra } = contents;
  if (!model || typeof model.stateDict !== 'function') throw new Error(`${where}: model must have a stateDict() method`);
  if (!Number.isSafeInteger(step) || step < 0) throw new Error(`${where}: step must be an integer >= 0, got ${String(step)}`);
  const tensors: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(model.stateDict())) tensors[`model.${name}`] = t;
  const metadata: Record<string, string> = { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, step: String(step) };
  if (optimizer) {
    const state = optimizer.stateDict();
    for (const [key, t] of Object.entries(state.state)) tensors[`optimizer.${key}`] = t;
    metadata.optimizer = JSON.stringify(state.meta);
  }
  if (generator) {
    // JSON has no NaN: the generator marks "no cached normal" with NaN, stored as null.
    metadata.rng = JSON.stringify(generator.getState().map((x) => (Number.isNaN(x) ? null : x)));
  }
  if (extra !== undefined) {
    let json: string | undefined;
    try {
      json = JSON.stringify(extra);
    } catch (e) {
      throw new Error(`${where}: extra must be JSON-serialisable (${(e as Error).message})`);
    }
    if (json === undefined) throw new Error(`${where}: extra must be JSON-serialisable, got ${typeof extra}`);
    metadata.extra = json;
  }
  // The checksum goes in the header, which comes before the data: encode, sum the data, encode again
  // (the data section is the same bytes both times).
  const unsummed = saveSafetensors(tensors, metadata);
  return saveSafetensors(tensors, { ...metadata, [CHECKSUM_KEY]: crc32(dataSection(unsummed)) });
}

const CHECKSUM_KEY = 'data_crc32';

/** The bytes after a safetensors header (the header length is its first 8 bytes, little-endian). */
function dataSection(bytes: Uint8Array): Uint8Array {
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  return bytes.subarray(8 + headerLength);
}

/** Reads and checks a checkpoint without changing anything. */
export function decodeCheckpoint(bytes: Uint8Array, where = 'decodeCheckpoint'): DecodedCheckpoint {
  const metadata = inContext(where, () => readSafetensorsMetadata(bytes));
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new Error(`${where}: not a recurrent checkpoint (metadata format is ${metadata.format === undefined ? 'missing' : JSON.stringify(metadata.format)}, expected "${CHECKPOINT_FORMAT}")`);
  }
  if (metadata.version !== CHECKPOINT_VERSION) {
    throw new Error(`${where}: checkpoint version ${JSON.stringify(metadata.version)} is not supported (this library reads version "${CHECKPOINT_VERSION}")`);
  }
  const recorded = metadata[CHECKSUM_KEY];
  if (recorded !== undefined) {
    const actual = crc32(dataSection(bytes));
    if (actual !== recorded) {
      throw new Error(`${where}: the data section's CRC-32 is ${actual} but the file records ${recorded}: the file is damaged (changed after it was written)`);
    }
  }
  const stepText = metadata.step ?? '';
  const step = Number(stepText);
  if (!/^(0|[1-9][0-9]*)$/.test(stepText) || !Number.isSafeInteger(step)) {
    throw new Error(`${where}: metadata step must be a non-negative integer, got ${JSON.stringify(metadata.step)}`);
  }

  const model: Record<string, Tensor> = {};
  const optimizerState: Record<string, Tensor> = {};
  for (const [key, t] of Object.entries(inContext(where, () => loadSafetensors(bytes)))) {
    // Parameters and optimizer state are float; an integer tensor here is not one we wrote.
    if (!t.isFloatingPoint()) throw new Error(`${where}: tensor '${key}' has dtype ${t.dtype}, but checkpoint tensors are float32 or float64: the file is damaged or not a checkpoint`);
    if (key.startsWith('model.')) model[key.slice(6)] = t;
    else if (key.startsWith('optimizer.')) optimizerState[key.slice(10)] = t;
    else throw new Error(`${where}: unexpected tensor '${key}' (checkpoint tensors start with 'model.' or 'optimizer.')`);
  }

  for (const [prefix, tensors] of [['model.', model], ['optimizer.', optimizerState]] as const) {
    for (const [key, t] of Object.entries(tensors)) checkValues(`${prefix}${key}`, t, where);
  }

  let optimizer: OptimizerStateDict | null = null;
  if (metadata.optimizer !== undefined) {
    const meta = parseJson(metadata.optimizer, 'optimizer', where);
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) throw new Error(`${where}: metadata optimizer must be a JSON object`);
    optimizer = { state: optimizerState, meta: meta as OptimizerMeta };
  } else if (Object.keys(optimizerState).length > 0) {
    throw new Error(`${where}: the file has optimizer tensors but no optimizer metadata`);
  }

  let rng: number[] | null = null;
  if (metadata.rng !== undefined) {
    const state = parseJson(metadata.rng, 'rng', where);
    const valid = Array.isArray(state) && state.length === 5
      && state.slice(0, 4).every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32)
      && (state[4] === null || typeof state[4] === 'number');
    if (!valid) throw new Error(`${where}: metadata rng must be 4 unsigned 32-bit integers and a number or null, got ${metadata.rng}`);
    rng = (state as (number | null)[]).map((x) => x ?? NaN);
  }

  const extra = metadata.extra === undefined ? undefined : parseJson(metadata.extra, 'extra', where);
  return { model, optimizer, rng, step, extra };
}

/**
 * Restores a checkpoint into a model (and optimizer and generator, when given) and returns the step
 * and extra data. All or nothing: the file (step, RNG state) and every target's part (the model's
 * keys and shapes, the optimizer's groups, buffers and step counts) are checked before any target
 * changes, so a bad optimizer state cannot leave a half-restored model. A custom target without
 * checkStateDict is checked only by its own loadStateDict, in the order model, optimizer, generator.
 */
export function restoreCheckpoint(bytes: Uint8Array, targets: RestoreTargets, where = 'restoreCheckpoint'): { step: number; extra: unknown } {
  const decoded = decodeCheckpoint(bytes, where);
  if (targets.optimizer && !decoded.optimizer) throw new Error(`${where}: an optimizer was given but the checkpoint holds no optimizer state`);
  if (targets.generator && !decoded.rng) throw new Error(`${where}: a generator was given but the checkpoint holds no RNG state`);
  const strict = targets.strict ?? true;
  inContext(where, () => targets.model.checkStateDict?.(decoded.model, { strict }));
  if (targets.optimizer) inContext(where, () => targets.optimizer!.checkStateDict?.(decoded.optimizer!));
  targets.model.loadStateDict(decoded.model, { strict });
  if (targets.optimizer) targets.optimizer.loadStateDict(decoded.optimizer!);
  if (targets.generator) targets.generator.setState(decoded.rng!);
  return { step: decoded.step, extra: decoded.extra };
}

/** State buffers that hold averages of squares, which are never negative (Adam's, RMSprop's). */
const SQUARES = /\.(exp_avg_sq|max_exp_avg_sq|square_avg)$/;

/**
 * Damage inside the data section passes every check of the header. NaN or infinite values, or a
 * negative average of squares, are refused here rather than turning the weights into NaN at the next
 * step: no training can continue from them, whether the bytes were damaged or the run had diverged.
 */
function checkValues(key: string, t: Tensor, where: string): void {
  const data = t.data;
  const squares = SQUARES.test(key);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) throw new Error(`${where}: tensor '${key}' holds ${v} at element ${i}: the file is damaged, or the run had diverged when it was saved`);
    if (squares && v < 0) throw new Error(`${where}: tensor '${key}' (an average of squares) holds ${v} at element ${i}: the file is damaged`);
  }
}

function parseJson(text: string, key: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${where}: metadata ${key} is not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Prefixes errors of the file layer with the caller's context (which names the file), in place of
 * the reader's own name: "loadCheckpoint: runs/x/best.safetensors: the header is not valid JSON".
 */
function inContext<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const message = (e as Error).message.replace(/^(readSafetensorsMetadata|loadSafetensors): /, '');
    throw new Error(`${where}: ${message}`, { cause: e });
  }
}
