/**
 * A run folder trained by the CLI (`recurrent train series --out DIR`), read from its config.json:
 * the page's settings that rebuild the same model on the same data, the same way the CLI's
 * createTask does (its target, splits and saved normalisation), or a message saying why the page
 * cannot. The weights then come from the folder's checkpoint (best.safetensors or latest.safetensors).
 */
import type { ZScoreJSON } from '../src/data/index.js';
import { CELLS, NONLINEARITIES, OPTIMIZERS, SERIES_TARGETS } from '../src/tasks/index.js';
import type { PlaygroundConfig } from './protocol.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `datasets`: the series the page holds, by name ('sine' and the shipped ones). */
export function cliRunSettings(text: string, name: string, datasets: readonly string[]): PlaygroundConfig {
  let run: unknown;
  try {
    run = JSON.parse(text);
  } catch (error) {
    throw new Error(`${name} is not JSON (${(error as Error).message}): a run folder's config.json was expected`);
  }
  if (!isObject(run) || run['format'] !== 'recurrent-run') throw new Error(`${name} is not a recurrent run configuration (expected "format": "recurrent-run")`);
  const { task, model, training, options, data, summary } = run;
  if (task !== 'series') throw new Error(`${name} is a ${String(task)} run; the page loads series runs trained by the CLI`);
  if (!isObject(model) || !isObject(training) || !isObject(data) || !isObject(summary)) throw new Error(`${name} lacks its model, training, data or summary section`);
  const shipped = typeof data['path'] === 'string' ? /^series\/(.+)\.csv$/.exec(data['path'])?.[1] : undefined;
  const dataset = data['synthetic'] === 'sine' ? 'sine' : data['shipped'] === true && shipped !== undefined && data['column'] === undefined && !data['wide'] ? shipped : undefined;
  if (dataset === undefined || !datasets.includes(dataset)) {
    const source = data['synthetic'] ?? data['path'] ?? 'its data';
    throw new Error(`${name} was trained on ${String(source)}; the page holds only the series ${datasets.join(', ')}`);
  }
  if (model['bidirectional'] === true) throw new Error(`${name}: a bidirectional model cannot forecast, and the page shows one direction only`);
  const choice = <T extends string>(field: string, value: unknown, allowed: readonly T[]): T => {
    if (!allowed.includes(value as T)) throw new Error(`${name}: ${field} must be one of ${allowed.join(', ')}, received ${JSON.stringify(value)}`);
    return value as T;
  };
  const options_ = isObject(options) ? options : {};
  return {
    dataset,
    cell: choice('model.cell', model['cell'], CELLS),
    ...(model['nonlinearity'] === undefined ? {} : { nonlinearity: choice('model.nonlinearity', model['nonlinearity'], NONLINEARITIES) }),
    hidden: model['hiddenSize'] as number,
    layers: model['numLayers'] as number,
    seqLen: training['seqLen'] as number,
    lr: training['lr'] as number,
    optimizer: choice('training.optimizer', training['optimizer'], OPTIMIZERS),
    batch: training['batch'] as number,
    seed: training['seed'] as number,
    // As the CLI builds the task: its default target is delta, and the normalisation is the saved one.
    target: choice('options.target', options_['target'] ?? 'delta', SERIES_TARGETS),
    valSplit: training['valSplit'] as number,
    ...(training['testSplit'] === undefined ? {} : { testSplit: training['testSplit'] as number }),
    normalization: summary['normalization'] as ZScoreJSON,
  };
}
