/**
 * `recurrent export --pytorch DIR`: a self-contained PyTorch package of a run, for training beyond one
 * machine. DIR gets the Python sources shipped in python/pytorch_package/ (model.py: the same
 * architecture and parameter names; train.py: DistributedDataParallel under torchrun; safetensors_io.py:
 * the file format with the standard library), the weights as safetensors with PyTorch's names, the
 * model's sizes (model_config.json), the run's config (run_config.json) and, for text runs, the run's
 * own token ids and split (data.safetensors), so PyTorch trains and evaluates on exactly the numbers
 * the library does. See docs/scaling.md.
 */
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { saveSafetensors } from '../io/index.js';
import { writeFileAtomic } from '../io/node.js';
import { Vocabulary } from '../data/index.js';
import { checkPytorchExportable } from '../nn/index.js';
import { tensor } from '../tensor/index.js';
import type { SequenceModel, TextSummary } from '../tasks/index.js';
import { reloadData } from './data.js';
import { modelConfigOf, vocabularyOf, type RunConfig } from './run-config.js';

const SOURCES = fileURLToPath(new URL('../../python/pytorch_package/', import.meta.url));

export const PACKAGE_FILES = ['model.py', 'train.py', 'safetensors_io.py', 'weights.safetensors', 'model_config.json', 'run_config.json'];

const json = (value: unknown): Uint8Array => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);

/** Writes the package; returns the names of the files written. */
export async function writePytorchPackage(out: string, runDir: string, config: RunConfig, model: SequenceModel, step: number): Promise<string[]> {
  checkPytorchExportable(model, 'export --pytorch');
  mkdirSync(out, { recursive: true });
  const written: string[] = [];
  for (const name of readdirSync(SOURCES).filter((f) => f.endsWith('.py'))) {
    copyFileSync(join(SOURCES, name), join(out, name));
    written.push(name);
  }
  const weights = saveSafetensors(model.stateDict(), { format: 'pt', producer: 'recurrent export --pytorch', step: String(step) });
  await writeFileAtomic(join(out, 'weights.safetensors'), weights);
  await writeFileAtomic(join(out, 'model_config.json'), json(modelConfigOf(config)));
  await writeFileAtomic(join(out, 'run_config.json'), json(config));
  written.push('weights.safetensors', 'model_config.json', 'run_config.json');
  if (config.task === 'text') {
    const data = reloadData('text', config.data, config.training.seed, runDir);
    if (data.task !== 'text') throw new Error(`internal: a text run reloaded ${data.task} data`);
    const ids = Vocabulary.fromJSON(vocabularyOf(config)).encode(data.text);
    const { splitIndex: split, characters } = config.summary as TextSummary;
    if (ids.length !== characters) throw new Error(`the run's text now has ${ids.length} characters, its config says ${characters}; the data changed since training`);
    // Token ids as float32: exact for every vocabulary below 2^24 entries.
    const bytes = saveSafetensors(
      { train_ids: tensor(Float32Array.from(ids.subarray(0, split))), val_ids: tensor(Float32Array.from(ids.subarray(split))) },
      { producer: 'recurrent export --pytorch', split: String(split) },
    );
    await writeFileAtomic(join(out, 'data.safetensors'), bytes);
    written.push('data.safetensors');
  }
  return written;
}
