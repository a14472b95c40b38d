/**
 * A Keras 3 Sequential model (its config.json) as our modules: Embedding, LSTM / GRU / SimpleRNN
 * (batch-first, like Keras), Bidirectional (merge_mode concat: our bidirectional layer), Dense (Linear
 * plus its activation), Dropout. What our modules cannot compute as Keras does is an error naming the
 * layer and the option, never a different answer.
 */
import { Dropout, Embedding, GRU, LSTM, Linear, Module, ReLU, RNN, Sigmoid, Softmax, Tanh } from '../../nn/index.js';
import { cat, select } from '../../ops/index.js';
import type { AnyTensor, Tensor } from '../../tensor/index.js';
import type { H5Store } from './hdf5.js';
import { prepareLayerLoad, recurrentLayerTensors, denseTensors, embeddingTensors, variablesAt, layersWithWeights, type KerasRecurrentClass } from './weights.js';

type Json = Record<string, unknown>;

const SNAKE: Record<string, string> = { LSTM: 'lstm', GRU: 'gru', SimpleRNN: 'simple_rnn', Bidirectional: 'bidirectional', Dense: 'dense', Embedding: 'embedding', Dropout: 'dropout' };
const ACTIVATIONS: Record<string, (() => Module) | null> = { linear: null, relu: () => new ReLU(), tanh: () => new Tanh(), sigmoid: () => new Sigmoid(), softmax: () => new Softmax({ dim: -1 }) };

interface Step {
  /** The Keras layer's name in the weights file (`lstm`, `lstm_1`, ...). */
  name: string;
  kind: 'embedding' | 'recurrent' | 'dense' | 'dropout';
  module: Module;
  activation: Module | null;
  returnSequences: boolean;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Keras serialises an activation as a name or as { class_name: 'function', config: name }. */
function activationName(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (isObject(value) && typeof value['config'] === 'string') return value['config'];
  return null;
}

export class KerasModel extends Module {
  /** The Keras layers in order, with the module each became (layers without weights included). */
  declare private readonly steps: Step[];

  /** @internal use loadKerasModel */
  constructor(steps: Step[]) {
    super();
    Object.defineProperty(this, 'steps', { value: steps, enumerable: false });
    for (const step of steps) {
      (this as unknown as Record<string, Module>)[step.name] = step.module;
      if (step.activation) (this as unknown as Record<string, Module>)[`${step.name}_activation`] = step.activation;
    }
  }

  /** The Keras layer names, in order (the names of the sub-modules). */
  get layerNames(): string[] {
    return this.steps.map((s) => s.name);
  }

  /**
   * x: [batch, time, features] floats, or [batch, time] token ids when the first layer is an Embedding
   * (an index tensor, or a float tensor of whole numbers).
   */
  forward(x: AnyTensor): Tensor {
    if (!x.isFloatingPoint() && this.steps[0]?.kind !== 'embedding') {
      throw new Error(`KerasModel.forward: x is an index tensor (${x.dtype}) but the first layer is not an Embedding; give floats [batch, time, features]`);
    }
    let h = x as Tensor; // an index tensor only until the Embedding (the first layer) has read it
    for (const step of this.steps) {
      if (step.kind === 'embedding') h = (step.module as Embedding).forward(h);
      else if (step.kind === 'dense') h = (step.module as Linear).forward(h);
      else if (step.kind === 'dropout') h = (step.module as Dropout).forward(h);
      else {
        const layer = step.module as LSTM | GRU | RNN;
        const [output, state] = (layer as LSTM).forward(h) as [Tensor, Tensor | [Tensor, Tensor]];
        if (step.returnSequences) h = output;
        else {
          // Keras' last output: the forward direction's final state, and (Bidirectional) the backward
          // direction's, which is its state after reading the sequence back to its first step.
          const hn = Array.isArray(state) ? state[0] : state;
          h = layer.bidirectional ? cat([select(hn, 0, 0), select(hn, 0, 1)], -1) : select(hn, 0, 0);
        }
      }
      if (step.activation) h = (step.activation as Tanh).forward(h);
    }
    return h;
  }
}

function option<T>(config: Json, key: string, fallback: T): T {
  return (key in config ? config[key] : fallback) as T;
}

/** The recurrent layer one Keras LSTM / GRU / SimpleRNN config (inside a Bidirectional or not) describes. */
/** The config's use_bias (Keras' default true) against the file: a bias dataset missing from the
 * file would otherwise build a layer without one, and a wrong answer. */
function checkBiasInFile(config: Json, fileHasBias: boolean, path: string, at: string): void {
  const useBias = Boolean(option(config, 'use_bias', true));
  if (useBias !== fileHasBias) {
    throw new Error(`${at}: the config says use_bias=${useBias ? 'True' : 'False'}, but the file ${fileHasBias ? 'has' : 'has no'} bias under ${path} (a dataset missing, or another model's config?)`);
  }
}

function recurrentOptions(kind: KerasRecurrentClass, config: Json, at: string, insideBidirectional: boolean): { nonlinearity: 'tanh' | 'relu'; resetAfter: boolean; useBias: boolean; returnSequences: boolean } {
  const activation = activationName(option(config, 'activation', 'tanh'));
  const allowed = kind === 'SimpleRNN' ? ['tanh', 'relu'] : ['tanh'];
  if (!activation || !allowed.includes(activation)) throw new Error(`${at}: activation '${String(activation ?? JSON.stringify(config['activation']))}' is not supported for ${kind} (supported: ${allowed.join(', ')})`);
  if (kind !== 'SimpleRNN') {
    const recurrent = activationName(option(config, 'recurrent_activation', 'sigmoid'));
    if (recurrent !== 'sigmoid') throw new Error(`${at}: recurrent_activation '${String(recurrent)}' is not supported (only sigmoid, Keras 3's default)`);
  }
  for (const key of ['return_state', 'stateful']) {
    if (option(config, key, false)) throw new Error(`${at}: ${key}=True is not supported`);
  }
  if (option(config, 'go_backwards', false) && !insideBidirectional) throw new Error(`${at}: go_backwards=True is not supported outside a Bidirectional`);
  return {
    nonlinearity: activation as 'tanh' | 'relu',
    resetAfter: kind === 'GRU' ? Boolean(option(config, 'reset_after', true)) : true,
    useBias: Boolean(option(config, 'use_bias', true)),
    returnSequences: Boolean(option(config, 'return_sequences', false)),
  };
}

function recurrentModule(kind: KerasRecurrentClass, inputSize: number, hiddenSize: number, options: { nonlinearity: 'tanh' | 'relu'; resetAfter: boolean; useBias: boolean }, bidirectional: boolean): LSTM | GRU | RNN {
  const common = { inputSize, hiddenSize, bias: options.useBias, batchFirst: true, bidirectional };
  if (kind === 'LSTM') return new LSTM(common);
  if (kind === 'GRU') return new GRU({ ...common, linearBeforeReset: options.resetAfter });
  return new RNN({ ...common, nonlinearity: options.nonlinearity });
}

/** Builds the modules a Sequential config describes, sized by the weights, and loads the weights. */
export function buildKerasModel(config: unknown, store: H5Store, where: string): KerasModel {
  if (!isObject(config)) throw new Error(`${where}: the model config must be a JSON object (config.json of a .keras file, or model.to_json())`);
  if (config['class_name'] !== 'Sequential') {
    throw new Error(`${where}: the model is a ${String(config['class_name'])}; only Sequential models are supported (load the weights of each layer with loadKerasWeights)`);
  }
  const inner = config['config'];
  const layers = isObject(inner) && Array.isArray(inner['layers']) ? inner['layers'] : null;
  if (!layers) throw new Error(`${where}: the Sequential config has no layers list`);
  const used = new Map<string, number>();
  const steps: Step[] = [];
  for (const [i, entry] of layers.entries()) {
    if (!isObject(entry) || typeof entry['class_name'] !== 'string' || !isObject(entry['config'])) throw new Error(`${where}: layer ${i} of the config is not a { class_name, config } object`);
    const className = entry['class_name'];
    const layerConfig = entry['config'];
    const at = `${where}: layer ${i} (${className} '${String(layerConfig['name'] ?? '')}')`;
    if (className === 'InputLayer') continue;
    const snake = SNAKE[className];
    if (!snake) throw new Error(`${at}: ${className} layers are not supported (supported: ${Object.keys(SNAKE).join(', ')}, InputLayer)`);
    // saving_lib's _get_unique_name: the first of a class is `lstm`, then `lstm_1`, `lstm_2`, ...
    const count = used.get(snake);
    used.set(snake, count === undefined ? 0 : count + 1);
    const name = count === undefined ? snake : `${snake}_${count + 1}`;
    const path = `layers/${name}`;
    if (className === 'Dropout') {
      steps.push({ name, kind: 'dropout', module: new Dropout(Number(option(layerConfig, 'rate', 0))), activation: null, returnSequences: true });
    } else if (className === 'Embedding') {
      if (option(layerConfig, 'mask_zero', false)) throw new Error(`${at}: mask_zero=True is not supported (masking would change what the recurrent layers compute; use packed sequences)`);
      const e = embeddingTensors(variablesAt(store, path, at), at);
      steps.push({ name, kind: 'embedding', module: new Embedding(e.rows, e.dim), activation: null, returnSequences: true });
    } else if (className === 'Dense') {
      const activation = activationName(option(layerConfig, 'activation', 'linear'));
      if (activation === null || !(activation in ACTIVATIONS)) throw new Error(`${at}: activation '${String(activation ?? JSON.stringify(layerConfig['activation']))}' is not supported (supported: ${Object.keys(ACTIVATIONS).join(', ')})`);
      const d = denseTensors(variablesAt(store, path, at), at);
      checkBiasInFile(layerConfig, 'bias' in d.tensors, path, at);
      steps.push({ name, kind: 'dense', module: new Linear(d.inFeatures, d.outFeatures, { bias: 'bias' in d.tensors }), activation: ACTIVATIONS[activation]?.() ?? null, returnSequences: true });
    } else {
      const bidirectional = className === 'Bidirectional';
      let layerEntry: Json = entry;
      if (bidirectional) {
        const mergeMode = option(layerConfig, 'merge_mode', 'concat');
        if (mergeMode !== 'concat') throw new Error(`${at}: merge_mode '${String(mergeMode)}' is not supported (only concat)`);
        if (!isObject(layerConfig['layer'])) throw new Error(`${at}: the Bidirectional config has no layer`);
        layerEntry = layerConfig['layer'];
      }
      const kind = layerEntry['class_name'] as KerasRecurrentClass;
      if (!['LSTM', 'GRU', 'SimpleRNN'].includes(kind)) throw new Error(`${at}: a Bidirectional over ${String(kind)} is not supported (LSTM, GRU, SimpleRNN)`);
      const options = recurrentOptions(kind, (layerEntry['config'] ?? {}) as Json, at, bidirectional);
      const backward = bidirectional ? layerConfig['backward_layer'] : undefined;
      if (isObject(backward)) {
        const b = recurrentOptions(backward['class_name'] as KerasRecurrentClass, (backward['config'] ?? {}) as Json, `${at} backward_layer`, true);
        if (backward['class_name'] !== kind || b.nonlinearity !== options.nonlinearity || b.resetAfter !== options.resetAfter || b.useBias !== options.useBias || b.returnSequences !== options.returnSequences) {
          throw new Error(`${at}: the backward_layer's options differ from the forward layer's; our bidirectional layers use one set for both`);
        }
      }
      const w = recurrentLayerTensors(store, path, kind, bidirectional, at);
      checkBiasInFile({ use_bias: options.useBias }, w.bias, path, at);
      steps.push({ name, kind: 'recurrent', module: recurrentModule(kind, w.inputSize, w.units, options, bidirectional), activation: null, returnSequences: options.returnSequences });
    }
  }
  const known = new Set(steps.map((s) => s.name));
  const stray = layersWithWeights(store).filter((n) => !known.has(n));
  if (stray.length > 0) throw new Error(`${where}: the weights file has layers the config does not list: ${stray.join(', ')} (is this config the model's?)`);
  for (const step of steps) {
    if (step.kind !== 'dropout') prepareLayerLoad(store, step.name, step.module, where)();
  }
  const model = new KerasModel(steps);
  model.eval();
  return model;
}
