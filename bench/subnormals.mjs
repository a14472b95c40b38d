// Subnormal gradients in a tanh RNN's backward, before and after the kernels flush them, side by
// side in one process.
//
//   node --import tsx bench/subnormals.mjs [--rounds R] [--threads N] [--train N [--against DIR]]
//
// A gradient that vanishes through time shrinks at every step back and, on its way to 0, spends
// several steps in float32's subnormal range (below 1.2e-38), where each multiply costs x86 cores a
// microcode assist. rnnBackward now flushes |dPre| < 1e-30 to 0 (assembly/elementwise.ts).
//
// Products: the adding experiment's shapes (hidden 65, batch 32, 100 steps). The backward operands
// dPre are computed here step by step as the kernels compute them, once as before (no flush) and
// once as now (flushed), over a tanh RNN whose gradient vanishes into the subnormal range (14% of
// dPre subnormal; the slow seed had 10%); then the two products that slowed are timed on both,
// alternating: dW_hh = dPre^T H over all steps (gemm) and the per-step dh = dPre W_hh (gemmPacked),
// on the native BLAS where present and on the wasm kernels. These ratios are the products' alone,
// on operands whose subnormals fill whole steps; a training step, of which the products are a part,
// gains less (--train).
//
// --train N: the experiment's own runs (seeds 0 and 1 at T = 100, which ran 59.5 and 167 steps/s in
// docs/experiments.md's run) trained N steps each, then timed in alternating chunks: with the flush
// the two seeds' step times should be within noise of each other. --against DIR trains the same
// weights on the library of another checkout too (one from before the flush, its dependencies
// installed), side by side in this process, and prints the ratio of its step times to ours.
//
// Runs on one thread (--threads N for more), so that the process's CPU time is the work's own: on a
// shared machine it varies far less than the wall clock. Prints medians and the spread (min-max) of
// R rounds of both; only ratios measured side by side mean anything.
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const rounds = Number(flag('rounds', '9'));
const trainSteps = Number(flag('train', '0'));

const load = async (path) => import(`../src/${path}.ts`).catch(() => import(`../dist/${path}.js`));
const kernelsIndex = await load('kernels/index');
await kernelsIndex.setThreads(Number(flag('threads', '1')));
const k = kernelsIndex.kernelsFor('float32');
const hasBlas = kernelsIndex.getBackendInfo().gemm === 'native';

const [H, B, T] = [65, 32, 100];
const SMALLEST_NORMAL = 2 ** -126;
const FLUSH_BELOW = Math.fround(1e-30);

/** A seeded uniform stream in [-1, 1). */
function uniform(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

/**
 * States of a tanh RNN over T steps and its dPre walking back from the last step, in float32,
 * flushing or not. W_hh's scale sets how fast the gradient vanishes: with 0.35, 14% of dPre is
 * subnormal without the flush, near the slow seed's share (10.3% of its dW_hh product's operand).
 */
function backwardOperands(flush) {
  const next = uniform(7);
  const wHh = Float32Array.from({ length: H * H }, () => (next() * 0.35 * Math.sqrt(3)) / Math.sqrt(H));
  const states = new Float32Array((T + 1) * B * H);
  for (let i = 0; i < B * H; i++) states[i] = next() * 0.5;
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < H; j++) {
        let s = next() * 0.8; // the input projection's share
        for (let i = 0; i < H; i++) s += states[(t * B + b) * H + i] * wHh[j * H + i];
        states[((t + 1) * B + b) * H + j] = Math.tanh(s);
      }
    }
  }
  const dPre = new Float32Array(T * B * H);
  let dh = Float32Array.from({ length: B * H }, () => next() * 1e-2);
  for (let t = T - 1; t >= 0; t--) {
    for (let i = 0; i < B * H; i++) {
      const y = states[(t + 1) * B * H + i];
      const v = Math.fround(dh[i] * Math.fround(1 - Math.fround(y * y)));
      dPre[t * B * H + i] = flush && Math.abs(v) < FLUSH_BELOW ? 0 : v;
    }
    const back = new Float32Array(B * H);
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < H; i++) {
        let s = 0;
        for (let j = 0; j < H; j++) s += dPre[(t * B + b) * H + j] * wHh[j * H + i];
        back[b * H + i] = s;
      }
    }
    dh = back;
  }
  return { wHh, states: states.subarray(0, T * B * H), dPre };
}

const subnormalShare = (a) => a.filter((x) => x !== 0 && Math.abs(x) < SMALLEST_NORMAL).length / a.length;
const inMemory = (array) => {
  const buffer = k.allocate(array.length, 'float32');
  buffer.view().set(array);
  return buffer;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const spread = (xs) => `${Math.min(...xs).toFixed(3)}-${Math.max(...xs).toFixed(3)}`;

const before = backwardOperands(false);
const after = backwardOperands(true);
console.log(`backend ${k.name}${hasBlas ? ' + native BLAS' : ''}; dPre [${T}x${B}, ${H}]: ${(100 * subnormalShare(before.dPre)).toFixed(1)}% subnormal before the flush, ${(100 * subnormalShare(after.dPre)).toFixed(1)}% after`);

const wHh = inMemory(before.wHh);
const states = inMemory(before.states);
const dW = k.allocate(H * H, 'float32');
const dh = k.allocate(B * H, 'float32');
const operands = { before: inMemory(before.dPre), after: inMemory(after.dPre) };
const packed = k.packB(false, H, H, wHh.view(), 0, H);
const products = {
  'dW_hh = dPre^T H': (dPre) => k.gemm(true, false, H, H, T * B, 1, dPre.view(), 0, H, states.view(), 0, H, 0, dW.view(), 0, H),
  'dh = dPre W_hh, 100 steps': (dPre) => {
    const d = dPre.view(), out = dh.view();
    for (let t = T - 1; t >= 0; t--) k.gemmPacked(false, B, H, H, 1, d, t * B * H, H, packed, 0, out, 0, H);
  },
};

for (const gemm of hasBlas ? ['native BLAS', 'wasm'] : ['wasm']) {
  kernelsIndex.setNativeBlas?.(gemm === 'native BLAS');
  for (const [name, run] of Object.entries(products)) {
    const wall = { before: [], after: [] }, cpu = { before: [], after: [] };
    for (const which of ['before', 'after']) for (let i = 0; i < 3; i++) run(operands[which]);
    for (let r = 0; r < rounds; r++) {
      for (const which of r % 2 ? ['after', 'before'] : ['before', 'after']) {
        const reps = 20;
        const t0 = performance.now(), c0 = process.cpuUsage();
        for (let i = 0; i < reps; i++) run(operands[which]);
        wall[which].push((performance.now() - t0) / reps);
        const c = process.cpuUsage(c0);
        cpu[which].push((c.user + c.system) / 1000 / reps);
      }
    }
    for (const [clock, ms] of [['wall', wall], ['cpu', cpu]]) {
      const ratios = ms.before.map((b, i) => b / ms.after[i]);
      console.log(`${gemm.padEnd(11)} ${name.padEnd(26)} ${clock.padEnd(4)} before ${median(ms.before).toFixed(3)} ms (${spread(ms.before)}), after ${median(ms.after).toFixed(3)} ms (${spread(ms.after)}): before/after ${median(ratios).toFixed(2)}x (rounds ${spread(ratios)})`);
    }
  }
}
kernelsIndex.setNativeBlas?.(hasBlas);

if (trainSteps > 0) {
  // This checkout's library and, with --against, another checkout's (one from before the flush):
  // separate module instances, each with its own kernels and memory, in this one process.
  const libraryAt = async (root) => {
    const from = (path) => (root ? import(`${root}/src/${path}.ts`) : load(path));
    const [index, adding, models, seeds, data, optim, nn, kernels] = await Promise.all(
      ['index', 'experiments/adding', 'experiments/models', 'experiments/seeds', 'experiments/adding-data', 'optim/index', 'nn/index', 'kernels/index'].map(from),
    );
    await kernels.setThreads(Number(flag('threads', '1')));
    return { name: root ?? 'this checkout', index, adding, models, seeds, data, optim, nn, kernels };
  };
  const against = flag('against');
  const libraries = [await libraryAt(null), ...(against ? [await libraryAt(against)] : [])];
  const [ours] = libraries;
  const modelOf = (lib, seed) => new lib.models.LastStepRegressor(
    'rnn', 2, lib.models.hiddenForBudget('rnn', 2, 1, 4500), 1, new lib.index.Generator(lib.seeds.deriveSeed(seed, 'weights')),
  );
  const runs = [];
  for (const seed of [0, 1]) {
    // The experiment's own loop for the first N steps (the threshold never reached), then the same
    // weights in every library's model.
    const trained = modelOf(ours, seed);
    ours.adding.runAddingModel(trained, T, seed, { steps: trainSteps, threshold: 1e-12 });
    for (const lib of libraries) {
      const model = lib === ours ? trained : modelOf(lib, seed);
      const params = [...model.parameters()];
      if (lib !== ours) {
        const from = [...trained.parameters()];
        params.forEach((p, i) => {
          p.data.set(from[i].data);
          p.bumpVersion();
        });
      }
      runs.push({
        lib, seed, model, params, optimizer: new lib.optim.Adam(params, { lr: 0.01 }),
        data: new lib.index.Generator(lib.seeds.deriveSeed(seed, 'bench')), wall: [], cpu: [],
      });
    }
  }
  const chunk = 10;
  for (let r = 0; r < rounds; r++) {
    for (const run of r % 2 ? [...runs].reverse() : runs) {
      const { data, nn, optim } = run.lib;
      const t0 = performance.now(), c0 = process.cpuUsage();
      for (let i = 0; i < chunk; i++) {
        const batch = data.addingBatch(T, B, run.data);
        run.optimizer.zeroGrad();
        nn.mseLoss(run.model.predict(batch.inputs), batch.targets).backward();
        optim.clipGradNorm(run.params, 1);
        run.optimizer.step();
      }
      run.wall.push((performance.now() - t0) / chunk);
      const c = process.cpuUsage(c0);
      run.cpu.push((c.user + c.system) / 1000 / chunk);
    }
  }
  const ratio = (x, y, clock) => {
    const ratios = x[clock].map((m, i) => m / y[clock][i]);
    return `${median(ratios).toFixed(2)}x (rounds ${spread(ratios)})`;
  };
  for (const clock of ['wall', 'cpu']) {
    for (const run of runs) {
      console.log(`adding T=${T} tanh RNN seed ${run.seed} after ${trainSteps} steps, ${run.lib.name}, ${clock}: ${median(run[clock]).toFixed(2)} ms/step (${spread(run[clock])})`);
    }
    for (const lib of libraries) {
      const [seed0, seed1] = runs.filter((run) => run.lib === lib);
      console.log(`${clock}, ${lib.name}: seed 0 / seed 1 ${ratio(seed0, seed1, clock)}`);
    }
    if (against) {
      for (const seed of [0, 1]) {
        const [now, before] = runs.filter((run) => run.seed === seed);
        console.log(`${clock}, seed ${seed}: ${against} / this checkout ${ratio(before, now, clock)}`);
      }
    }
  }
}
