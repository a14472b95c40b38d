// Step 1 of the Keras fixtures (step 2: tools/make_keras_fixtures_keras.py has Keras 3 itself build,
// save and run these models with these arrays; the tests check against Keras' outputs, not these).
//
// For each case: seeded weights and inputs, the Keras 3 model config (config.json of a .keras file),
// and the reference output computed by TensorFlow.js layers, Keras' layers in JavaScript, given the
// same weight arrays in Keras' layout (kernel [input, gates*units], recurrent_kernel [units,
// gates*units], gate order LSTM i, f, c, o; GRU z, r, h). TensorFlow.js' GRU has no reset_after=True
// (Keras 3's default), so that cell's reference is written here with tfjs-core ops from the equations
// of keras/src/layers/rnn/gru.py (GRUCell.call, keras-team/keras 3422977a5e38fb2f7709aaa9a08e47f0c43d0f60,
// lines 234-256): r applied to (h U_h + b_rh), two bias rows.
//
//   cd tools/keras-reference && npm ci && node make_cases.mjs > ../../test/fixtures/keras/cases.json
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';

await tf.setBackend('cpu');

function generator(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const array = (random, shape, scale = 0.6) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Array.from({ length: n }, () => Math.fround((random() * 2 - 1) * scale)) };
};
const toTf = (a) => tf.tensor(a.data, a.shape, 'float32');

// The Keras 3 serialisation of a layer (keras.saving.serialize_keras_object's shape).
const kerasLayer = (className, config) => ({ module: 'keras.layers', class_name: className, config, registered_name: null });

const rnnConfig = (className, name, units, extra) => kerasLayer(className, {
  name, trainable: true, dtype: 'float32', units,
  activation: 'tanh', use_bias: true, return_sequences: false, return_state: false, go_backwards: false,
  stateful: false, unroll: false, dropout: 0.0, recurrent_dropout: 0.0, seed: null,
  ...(className === 'SimpleRNN' ? {} : { recurrent_activation: 'sigmoid' }),
  ...(className === 'GRU' ? { reset_after: true } : {}),
  ...(className === 'LSTM' ? { unit_forget_bias: true } : {}),
  ...extra,
});

const GATES = { LSTM: 4, GRU: 3, SimpleRNN: 1 };

/** Keras-layout weights of one recurrent cell. */
function cellWeights(random, className, input, units, resetAfter, useBias) {
  const g = GATES[className];
  const list = [array(random, [input, g * units]), array(random, [units, g * units])];
  if (useBias) list.push(array(random, className === 'GRU' && resetAfter ? [2, g * units] : [g * units], 0.3));
  return list;
}

/** Keras 3's GRU with reset_after=True over a whole batch-first sequence (see the header). */
function gruResetAfter(x, [kernel, recurrent, bias], units, returnSequences, goBackwards) {
  return tf.tidy(() => {
    const [B, T] = x.shape;
    let h = tf.zeros([B, units]);
    const outputs = [];
    const [bx, bh] = bias ? tf.split(toTf(bias), 2, 0).map((b) => tf.reshape(b, [3 * units])) : [tf.zeros([3 * units]), tf.zeros([3 * units])];
    for (let s = 0; s < T; s++) {
      const t = goBackwards ? T - 1 - s : s;
      const xt = tf.reshape(tf.slice(x, [0, t, 0], [B, 1, -1]), [B, -1]);
      const [xz, xr, xh] = tf.split(tf.add(tf.matMul(xt, toTf(kernel)), bx), 3, 1);
      const [hz, hr, hh] = tf.split(tf.add(tf.matMul(h, toTf(recurrent)), bh), 3, 1);
      const z = tf.sigmoid(tf.add(xz, hz));
      const r = tf.sigmoid(tf.add(xr, hr));
      const candidate = tf.tanh(tf.add(xh, tf.mul(r, hh)));
      h = tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), candidate));
      outputs.push(h);
    }
    return returnSequences ? tf.stack(outputs, 1) : h;
  });
}

/**
 * A case: `layers` is a list of specs; each gives the Keras config, the file's weights (paths as
 * Keras 3's saving_lib writes them) and how TensorFlow.js computes it.
 */
function makeCase(name, seed, inputSpec, layers) {
  const random = generator(seed);
  const used = {};
  const uniqueName = (base) => {
    if (base in used) return `${base}_${++used[base]}`;
    used[base] = 0;
    return base;
  };
  const weights = {};
  const configs = [kerasLayer('InputLayer', { batch_shape: [null, ...inputSpec.shape.slice(1)], dtype: inputSpec.ids ? 'int32' : 'float32', sparse: false, name: 'input_layer' })];
  const input = inputSpec.ids
    ? { shape: inputSpec.shape, data: Array.from({ length: inputSpec.shape[0] * inputSpec.shape[1] }, () => Math.floor(random() * inputSpec.vocab)) }
    : array(random, inputSpec.shape, 1);
  let x = inputSpec.ids ? tf.tensor(input.data, input.shape, 'int32') : toTf(input);
  let features = inputSpec.shape[2];
  const put = (path, list) => list.forEach((a, i) => { weights[`${path}/vars/${i}`] = a; });
  for (const spec of layers) {
    const snake = { LSTM: 'lstm', GRU: 'gru', SimpleRNN: 'simple_rnn', Bidirectional: 'bidirectional', Dense: 'dense', Embedding: 'embedding', Dropout: 'dropout' }[spec.type];
    const path = `layers/${uniqueName(snake)}`;
    const layerName = path.slice('layers/'.length);
    if (spec.type === 'Embedding') {
      const table = array(random, [spec.vocab, spec.dim], 1);
      put(path, [table]);
      configs.push(kerasLayer('Embedding', { name: layerName, trainable: true, dtype: 'float32', input_dim: spec.vocab, output_dim: spec.dim, mask_zero: false, embeddings_initializer: { module: 'keras.initializers', class_name: 'RandomUniform', config: { minval: -0.05, maxval: 0.05, seed: null }, registered_name: null } }));
      const layer = tfl.layers.embedding({ inputDim: spec.vocab, outputDim: spec.dim });
      layer.apply(x); // builds it
      layer.setWeights([toTf(table)]);
      x = layer.apply(x);
      features = spec.dim;
    } else if (spec.type === 'Dense') {
      const list = [array(random, [features, spec.units]), array(random, [spec.units], 0.3)];
      put(path, list);
      configs.push(kerasLayer('Dense', { name: layerName, trainable: true, dtype: 'float32', units: spec.units, activation: spec.activation ?? 'linear', use_bias: true }));
      const layer = tfl.layers.dense({ units: spec.units, activation: spec.activation ?? 'linear' });
      layer.apply(x);
      layer.setWeights(list.map(toTf));
      x = layer.apply(x);
      features = spec.units;
    } else if (spec.type === 'Dropout') {
      configs.push(kerasLayer('Dropout', { name: layerName, trainable: true, dtype: 'float32', rate: 0.5, seed: null, noise_shape: null }));
    } else {
      const inner = spec.type === 'Bidirectional' ? spec.layer : spec;
      const extra = { return_sequences: spec.returnSequences ?? false, ...(inner.activation ? { activation: inner.activation } : {}), ...(inner.type === 'GRU' ? { reset_after: inner.resetAfter ?? true } : {}) };
      const directions = spec.type === 'Bidirectional' ? ['forward_layer', 'backward_layer'] : [''];
      const lists = directions.map((d) => cellWeights(random, inner.type, features, inner.units, inner.resetAfter ?? true, true));
      directions.forEach((d, i) => put(d ? `${path}/${d}/cell` : `${path}/cell`, lists[i]));
      if (spec.type === 'Bidirectional') {
        const forward = rnnConfig(inner.type, `forward_${layerName}`, inner.units, extra);
        const backward = rnnConfig(inner.type, `backward_${layerName}`, inner.units, { ...extra, go_backwards: true });
        configs.push(kerasLayer('Bidirectional', { name: layerName, trainable: true, dtype: 'float32', merge_mode: 'concat', layer: forward, backward_layer: backward }));
      } else {
        configs.push(rnnConfig(inner.type, layerName, inner.units, extra));
      }
      const tfArgs = { units: inner.units, returnSequences: spec.returnSequences ?? false, recurrentActivation: 'sigmoid', activation: inner.activation ?? 'tanh', kernelInitializer: 'zeros', recurrentInitializer: 'zeros' }; // replaced by setWeights;
      if (inner.type === 'GRU' && (inner.resetAfter ?? true)) {
        if (spec.type === 'Bidirectional') throw new Error('no reference for a bidirectional reset_after GRU');
        x = gruResetAfter(x, lists[0], inner.units, spec.returnSequences ?? false, false);
      } else {
        const make = { LSTM: tfl.layers.lstm, GRU: tfl.layers.gru, SimpleRNN: tfl.layers.simpleRNN }[inner.type];
        const layer = spec.type === 'Bidirectional' ? tfl.layers.bidirectional({ layer: make(tfArgs), mergeMode: 'concat' }) : make(tfArgs);
        layer.apply(x);
        layer.setWeights(lists.flat().map(toTf));
        x = layer.apply(x);
      }
      features = inner.units * directions.length;
    }
  }
  const config = {
    module: 'keras', class_name: 'Sequential',
    config: { name: 'sequential', trainable: true, dtype: 'float32', layers: configs },
    registered_name: null, build_config: { input_shape: [null, ...inputSpec.shape.slice(1)] }, compile_config: null,
  };
  return { name, config, weights, input, output: { shape: x.shape, data: Array.from(x.dataSync()) } };
}

const cases = [
  makeCase('lstm_dense', 11, { shape: [2, 5, 3] }, [{ type: 'LSTM', units: 4, returnSequences: true }, { type: 'Dense', units: 2 }]),
  makeCase('stacked_lstm', 12, { shape: [3, 4, 2] }, [{ type: 'LSTM', units: 5, returnSequences: true }, { type: 'LSTM', units: 3 }, { type: 'Dense', units: 2, activation: 'tanh' }]),
  makeCase('gru_reset_after', 13, { shape: [2, 6, 3] }, [{ type: 'GRU', units: 4, returnSequences: true, resetAfter: true }, { type: 'Dense', units: 3 }]),
  makeCase('gru_reset_before', 14, { shape: [2, 6, 3] }, [{ type: 'GRU', units: 4, resetAfter: false }, { type: 'Dense', units: 3, activation: 'softmax' }]),
  makeCase('simple_rnn_relu', 15, { shape: [3, 5, 2] }, [{ type: 'SimpleRNN', units: 4, activation: 'relu', returnSequences: true }, { type: 'Dropout' }, { type: 'Dense', units: 1, activation: 'sigmoid' }]),
  makeCase('embedding_bidirectional_lstm', 16, { shape: [2, 5], ids: true, vocab: 7 }, [{ type: 'Embedding', vocab: 7, dim: 3 }, { type: 'Bidirectional', layer: { type: 'LSTM', units: 4 }, returnSequences: true }, { type: 'Dense', units: 7 }]),
  makeCase('bidirectional_gru_last', 17, { shape: [2, 4, 3] }, [{ type: 'Bidirectional', layer: { type: 'GRU', units: 3, resetAfter: false } }, { type: 'Dense', units: 3 }]),
];

process.stdout.write(`${JSON.stringify({ producer: `tools/keras-reference/make_cases.mjs, @tensorflow/tfjs-layers ${tfl.version_layers}`, cases })}\n`);
