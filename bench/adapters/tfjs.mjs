// TensorFlow.js 4.x (tfjs-layers on the cpu or wasm backend), written as a TF.js user would: Keras-style
// layers applied eagerly inside tf.variableGrads, one optimizer update per step. Recurrent kernels use
// glorotUniform: the default orthogonal initialiser takes minutes at these sizes (not what we time).
// Sequences are batch-major [batch, seq, features] in TF.js.
import { createRequire } from 'node:module';
import { generator, makeBatch, toBatchMajor } from '../data.mjs';
import { WORKLOADS } from '../workloads.mjs';

const require = createRequire(import.meta.url);
const tf = require('@tensorflow/tfjs');

export async function info(variant) {
  if (variant === 'wasm') require('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend(variant))) throw new Error(`TF.js backend '${variant}' did not initialise`);
  await tf.ready();
  const about = { backend: tf.getBackend(), version: tf.version.tfjs };
  if (variant === 'wasm') {
    about.simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    about.wasmThreads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  }
  return about;
}

const recurrentOptions = { recurrentInitializer: 'glorotUniform', returnSequences: true };

/** A training step: gradients of every trainable weight, optional global-norm clipping, one update. */
function trainer(model, optimizer, loss, clip) {
  const vars = model.trainableWeights.map((w) => w.read());
  return () => tf.tidy(() => {
    const { grads } = tf.variableGrads(loss, vars);
    if (clip) {
      const norm = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))));
      const factor = tf.minimum(1, tf.div(clip, tf.add(norm, 1e-6)));
      for (const name of Object.keys(grads)) grads[name] = tf.mul(grads[name], factor);
    }
    optimizer.applyGradients(grads);
  });
}

export async function setup(id) {
  const w = WORKLOADS[id];
  const model = tf.sequential();
  switch (id) {
    case 'W1': {
      const { oneHot, targets } = makeBatch(id);
      const x = tf.tensor3d(toBatchMajor(oneHot, w.seq, w.batch, w.vocab), [w.batch, w.seq, w.vocab]);
      const targetOneHot = new Float32Array(targets.length * w.vocab);
      targets.forEach((t, i) => { targetOneHot[i * w.vocab + t] = 1; });
      const y = tf.tensor3d(toBatchMajor(targetOneHot, w.seq, w.batch, w.vocab), [w.batch, w.seq, w.vocab]);
      model.add(tf.layers.lstm({ units: w.hidden, inputShape: [w.seq, w.vocab], ...recurrentOptions }));
      for (let l = 1; l < w.layers; l++) model.add(tf.layers.lstm({ units: w.hidden, ...recurrentOptions }));
      model.add(tf.layers.dense({ units: w.vocab }));
      return trainer(model, tf.train.adam(w.lr), () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true })), w.clip);
    }
    case 'W2': {
      const { x, y } = makeBatch(id);
      const xs = tf.tensor3d(x, [1, w.seq, 1]);
      const ys = tf.tensor3d(y, [1, w.seq, 1]);
      model.add(tf.layers.simpleRNN({ units: w.hidden, activation: 'tanh', inputShape: [w.seq, 1], ...recurrentOptions }));
      model.add(tf.layers.dense({ units: 1 }));
      return trainer(model, tf.train.adam(w.lr), () => tf.losses.meanSquaredError(ys, model.apply(xs, { training: true })));
    }
    case 'W3': {
      const { x, y } = makeBatch(id);
      const xs = tf.tensor3d(toBatchMajor(x, w.seq, w.batch, w.input), [w.batch, w.seq, w.input]);
      const ys = tf.tensor3d(toBatchMajor(y, w.seq, w.batch, 1), [w.batch, w.seq, 1]);
      model.add(tf.layers.gru({ units: w.hidden, inputShape: [w.seq, w.input], ...recurrentOptions }));
      model.add(tf.layers.dense({ units: 1 }));
      return trainer(model, tf.train.sgd(w.lr), () => tf.losses.meanSquaredError(ys, model.apply(xs, { training: true })));
    }
    case 'W4': {
      // Stateful layers carry h and c from one predict() to the next; resetStates() starts a generation.
      model.add(tf.layers.lstm({ units: w.hidden, stateful: true, batchInputShape: [1, 1, w.vocab], ...recurrentOptions }));
      for (let l = 1; l < w.layers; l++) {
        model.add(tf.layers.lstm({ units: w.hidden, stateful: true, ...recurrentOptions, returnSequences: l < w.layers - 1 }));
      }
      model.add(tf.layers.dense({ units: w.vocab }));
      const oneHot = new Float32Array(w.vocab);
      return generator((token, fresh) => {
        if (fresh) model.resetStates();
        oneHot.fill(0);
        oneHot[token] = 1;
        const x = tf.tensor3d(oneHot, [1, 1, w.vocab]);
        const logits = model.predict(x);
        const values = logits.dataSync();
        tf.dispose([x, logits]);
        return values;
      });
    }
    case 'W5': {
      const { x, y } = makeBatch(id);
      const xs = tf.tensor3d(toBatchMajor(x, w.seq, w.batch, w.input), [w.batch, w.seq, w.input]);
      const ys = tf.tensor3d(toBatchMajor(y, w.seq, w.batch, w.hidden), [w.batch, w.seq, w.hidden]);
      model.add(tf.layers.lstm({ units: w.hidden, inputShape: [w.seq, w.input], ...recurrentOptions }));
      return trainer(model, tf.train.sgd(w.lr), () => tf.losses.meanSquaredError(ys, model.apply(xs, { training: true })));
    }
    default:
      throw new Error(`tfjs adapter: unknown workload ${id}`);
  }
}
