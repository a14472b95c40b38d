// The music recipe on real MIDI: both encodings train (NLL per time step falls), generation continues
// a prime into notes that make a valid MIDI file, and other pieces can be scored.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readMidiFile, shippedDataPath } from '../src/data/files.js';
import { parseMidi, writeMidi } from '../src/data/index.js';
import { createMusicTask, encodeMusic, evaluateMusic, generateMusic, train, type MusicOptions, type Piece } from '../src/tasks/index.js';
import { monoBaselineNll } from '../src/tasks/music-baselines.js';
import { crossEntropy } from '../src/nn/index.js';
import { noGrad } from '../src/tensor/index.js';

const PIECES: Piece[] = ['BoosterMusic-04-FrereJacques.mid', 'BoosterMusic-05-ScarboroughFair.mid', 'BoosterMusic-07-AmazingGrace.mid'].map(
  (name) => readMidiFile(shippedDataPath('music/pianobooster', name)),
);

function options(encoding: MusicOptions['encoding']): MusicOptions {
  return {
    training: { seed: 5, optimizer: 'adam', lr: 0.01, clip: 5, batch: 8, seqLen: 32, valSplit: 0.15 },
    model: { cell: 'gru', hiddenSize: 32, numLayers: 1, dropout: 0, bidirectional: false },
    encoding,
    embedding: 0,
  };
}

for (const encoding of ['mono', 'poly'] as const) {
  test(`${encoding}: validation NLL per step falls, and a generated piece is a valid MIDI file`, async () => {
    const task = createMusicTask(options(encoding), PIECES);
    const s = task.summary;
    assert.ok(s.low <= 48 && s.high >= 70, `range ${s.low}-${s.high}`);
    assert.equal(s.classes, encoding === 'mono' ? s.high - s.low + 3 : s.high - s.low + 1);
    assert.equal(s.totalSteps, s.pieces.reduce((n, p) => n + p.steps + 16, 0), 'pieces joined with a bar of rest');
    const before = task.evaluate().loss;
    const result = await train(task, { steps: 60, clip: 5 });
    const after = result.lastValidation!;
    assert.ok(after.loss < before * 0.7, `NLL ${before} → ${after.loss}`);
    assert.equal(after.metrics.nll, after.loss);
    // The reference points, in the same units, on the same validation steps; the trained model beats the unigram.
    const unigram = after.metrics.nll_unigram as number;
    const repeat = after.metrics.nll_repeat as number;
    assert.ok(unigram > 0 && repeat > 0 && repeat < unigram, `unigram ${unigram}, repeat ${repeat}`);
    assert.ok(after.loss < unigram, `model ${after.loss} vs unigram ${unigram}`);
    if (encoding === 'poly') {
      const accuracy = after.metrics.frame_accuracy as number;
      assert.ok(accuracy > 0 && accuracy <= 1 && (after.metrics.frame_accuracy_repeat as number) > 0);
    }

    const piece = task.generate({ length: 48, temperature: 1, topK: 0, seed: 2 });
    assert.equal(piece.totalSteps, piece.primeSteps + 48);
    assert.ok(piece.notes.length > 0);
    assert.ok(piece.notes.every((n) => n.pitch >= s.low && n.pitch <= s.high && n.start + n.duration <= piece.totalSteps));
    const reread = parseMidi(writeMidi(piece.notes, { bpm: s.bpm }), 'generated.mid');
    assert.equal(reread.notes.length, piece.notes.length);
    assert.deepEqual(reread.notes.map((n) => [n.pitch, n.start, n.duration]), piece.notes.map((n) => [n.pitch, n.start, n.duration]));
  });
}

test('generation needs only the model and the summary, and is reproducible from its seed', () => {
  const task = createMusicTask(options('mono'), PIECES);
  const a = generateMusic(task.model, task.summary, { length: 32, temperature: 1, topK: 5, seed: 7 });
  const b = generateMusic(task.model, task.summary, { length: 32, temperature: 1, topK: 5, seed: 7 });
  assert.deepEqual(a, b);
  assert.equal(a.primeSteps, 1, 'without a prime piece: one step of silence');
});

test('other pieces are scored in the run\'s pitch range (notes outside it are folded in)', () => {
  const task = createMusicTask(options('mono'), PIECES.slice(0, 1));
  const other = readMidiFile(shippedDataPath('music/pianobooster/BoosterMusic-03-SkipToMyLoo.mid'));
  const e = evaluateMusic(task.model, task.summary, [other], 32);
  assert.ok(Number.isFinite(e.loss) && e.loss > 0);
});

test('too little music for one sequence names the options to change', () => {
  const tiny: Piece = { source: 'tiny.mid', bpm: 120, stepsPerQuarter: 4, notes: [{ pitch: 60, start: 0, duration: 4, velocity: 0.8 }] };
  assert.throws(() => createMusicTask(options('mono'), [tiny]), /gives 20 steps.*--seq-len 32/);
});

test('music baselines: hand-computed NLLs and frame accuracy', async () => {
  const { monoStats, monoBaselineNll, polyStats, polyBaselines, frameAccuracy } = await import('../src/tasks/music-baselines.js');
  // Training part 0 0 1 over 3 classes: counts [2, 1, 0], one repeat in two transitions.
  const stats = monoStats([0, 0, 1], 3);
  assert.deepEqual(stats, { encoding: 'mono', classCounts: [2, 1, 0], repeats: 1, transitions: 2 });
  const p = [3 / 6, 2 / 6, 1 / 6];
  const stay = 2 / 4;
  const nll = monoBaselineNll(stats as Extract<typeof stats, { encoding: 'mono' }>, [1, 1, 2]);
  assert.ok(Math.abs(nll.unigram - -(Math.log(p[1]!) + Math.log(p[2]!)) / 2) < 1e-12);
  assert.ok(Math.abs(nll.repeat - -(Math.log(stay) + Math.log(((1 - stay) * p[2]!) / (1 - p[1]!))) / 2) < 1e-12);
  // Piano roll of 2 pitches over 3 frames: [1,0], [1,1], [0,1].
  const roll = [1, 0, 1, 1, 0, 1];
  const ps = polyStats(roll, 3, 2) as Extract<ReturnType<typeof polyStats>, { encoding: 'poly' }>;
  assert.deepEqual(ps.pitchOn, [2, 2]);
  assert.deepEqual([ps.onAfterOn, ps.onBefore, ps.onAfterOff, ps.offBefore], [2, 3, 1, 1]);
  const b = polyBaselines(ps, roll, 3, 2);
  // Repeat predicts frame t as frame t-1: frame 1 gets TP 1, FN 1; frame 2 TP 1, FP 1.
  assert.equal(b.repeatAccuracy, 2 / 4);
  assert.equal(frameAccuracy({ truePositives: 0, falsePositives: 0, falseNegatives: 0 }), 1);
  const on = (3 / 5);
  assert.ok(Math.abs(b.unigram - -(Math.log(on) * 3 + Math.log(1 - on)) / 2) < 1e-12);
});

test('mono sampling stops a drift into silence after maxSilence steps; 0 turns the limit off', async () => {
  const { noGrad } = await import('../src/tensor/index.js');
  const task = createMusicTask(options('mono'), PIECES);
  const rest = task.summary.high - task.summary.low + 1;
  // A model that almost always rests: the failure the limit is for.
  noGrad(() => {
    const bias = task.model.head.bias!;
    const data = bias.data;
    data[rest] = 12;
    bias.bumpVersion();
  });
  const longestSilence = (maxSilence: number): number => {
    const piece = generateMusic(task.model, task.summary, { length: 200, temperature: 1, topK: 0, seed: 3, maxSilence });
    const sounding = new Uint8Array(piece.totalSteps);
    for (const n of piece.notes) sounding.fill(1, n.start, n.start + n.duration);
    let longest = 0;
    let run = 0;
    for (let s = piece.primeSteps; s < piece.totalSteps; s++) {
      run = sounding[s] ? 0 : run + 1;
      longest = Math.max(longest, run);
    }
    return longest;
  };
  assert.ok(longestSilence(0) > 150, 'without a limit the biased model rests almost throughout');
  assert.ok(longestSilence(8) <= 8, 'with the limit no silence is longer than 8 steps');
});

test('top-p keeps the smallest set of likely classes; excluded classes are never drawn', async () => {
  const { sampleClass } = await import('../src/tasks/sampling.js');
  const { Generator } = await import('../src/tensor/index.js');
  const logits = [Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)];
  const g = new Generator(1);
  const drawn = new Set<number>();
  for (let i = 0; i < 2000; i++) drawn.add(sampleClass(logits, { temperature: 1, topK: 0, topP: 0.7 }, g));
  assert.deepEqual([...drawn].sort(), [0, 1]);
  const all = new Set<number>();
  for (let i = 0; i < 2000; i++) all.add(sampleClass(logits, { temperature: 1, topK: 0 }, g, new Set([0])));
  assert.deepEqual([...all].sort(), [1, 2, 3]);
  assert.equal(sampleClass(logits, { temperature: 0, topK: 0 }, g, new Set([0])), 1, 'greedy picks the best allowed class');
});

test('windows inside one piece each, batched with their lengths: both encodings learn, reproducibly', async () => {
  for (const encoding of ['mono', 'poly'] as const) {
    // seqLen 128 is longer than the end of most windows' pieces, so nearly every batch mixes lengths.
    const make = () => createMusicTask({ ...options(encoding), training: { ...options(encoding).training, seqLen: 128 }, windows: 'pieces' }, PIECES);
    const task = make();
    // Pieces of 272, 252 and 480 steps, the third cut to 338 by the validation split (at 894): a piece of n
    // steps has n − 1 starts with mean window min(128, ·) of (128·129/2 + 128·(n − 1 − 128))/(n − 1) real
    // steps: 98.01, 95.62, 103.88; their mean times batch 8 is 793.35 real tokens of the padded 1024.
    assert.ok(Math.abs(task.tokensPerStep - 793.35) < 0.01, `${encoding}: real tokens per step ${task.tokensPerStep}`);
    const before = task.evaluate().loss;
    const firstLosses = [task.trainLoss().item(), task.trainLoss().item()];
    const again = make();
    assert.deepEqual([again.trainLoss().item(), again.trainLoss().item()], firstLosses, `${encoding}: the same seed gives the same batches`);
    const result = await train(again, { steps: 60, clip: 5 });
    const after = result.lastValidation!;
    assert.ok(after.loss < before * 0.7, `${encoding}: NLL ${before} → ${after.loss}`);
    assert.ok(after.loss < (after.metrics.nll_unigram as number), `${encoding}: model ${after.loss} vs unigram ${after.metrics.nll_unigram}`);
  }
  assert.throws(() => createMusicTask({ ...options('mono'), windows: 'bars' as never }, PIECES), /windows/);
});

test('--windows pieces: a held-out part is scored piece by piece, never across a boundary', async () => {
  // Pieces of 272, 252 and 480 steps, each followed by a 16-step bar of rest (1052 steps). valSplit 0.5
  // puts validation at [526, 1052): the last 14 steps of the second piece [526, 540), the rest
  // [540, 556), the whole third piece [556, 1036) and the rest after it.
  const base = { ...options('mono'), training: { ...options('mono').training, valSplit: 0.5 } };
  const pieces = createMusicTask({ ...base, windows: 'pieces' }, PIECES);
  const stream = createMusicTask({ ...base, windows: 'stream' }, PIECES);
  assert.equal(pieces.summary.splitIndex, 526);
  await train(pieces, { steps: 15, clip: 5 });
  stream.model.loadStateDict(pieces.model.stateDict());

  // By hand, through the library: both validation stretches as one packed batch (lengths 13 and 479
  // predicted steps), each from a zero state; the NLL summed over real steps and divided by their count.
  const { ids } = encodeMusic(pieces.summary, PIECES);
  const spans = [[526, 540], [556, 1036]] as const;
  const lengths = spans.map(([a, b]) => b - a - 1);
  const steps = Math.max(...lengths), batch = spans.length, classes = pieces.summary.classes;
  const data = new Int32Array(steps * batch);
  const targets: number[] = [], rows: number[] = [];
  for (let t = 0; t < steps; t++) {
    spans.forEach(([a], b) => {
      if (t >= lengths[b]!) return;
      data[t * batch + b] = ids![a + t]!;
      targets.push(ids![a + t + 1]!);
      rows.push(t * batch + b);
    });
  }
  pieces.model.eval();
  const byHand = noGrad(() => {
    const { output } = pieces.model.forward({ data, steps, batch, lengths });
    const logits = output.reshape([steps * batch, classes]).indexSelect(0, Int32Array.from(rows));
    return crossEntropy(logits, targets, { reduction: 'sum' }).item() / targets.length;
  });
  const scored = pieces.evaluate();
  assert.ok(Math.abs(scored.loss - byHand) < 1e-5 * byHand, `pieces ${scored.loss} vs by hand ${byHand}`);
  // The baselines on the same predictions: each stretch on its own, weighted by its predicted steps.
  const stats = pieces.summary.baselines as Extract<NonNullable<typeof pieces.summary.baselines>, { encoding: 'mono' }>;
  const repeat = spans.reduce((sum, [a, b]) => sum + monoBaselineNll(stats, ids!.subarray(a, b)).repeat * (b - a - 1), 0) / targets.length;
  assert.ok(Math.abs((scored.metrics.nll_repeat as number) - repeat) < 1e-12, `repeat ${scored.metrics.nll_repeat} vs ${repeat}`);

  // The stream mode scores the whole part as one sequence, rests and boundaries included: a different figure.
  const streamed = stream.evaluate();
  assert.ok(Math.abs(streamed.loss - scored.loss) > 1e-3, `stream ${streamed.loss} vs pieces ${scored.loss}`);

  // The PyTorch package (export --pytorch) scores the same stretches.
  assert.deepEqual(JSON.parse(pieces.exportData().meta.evalSpans as string), spans);
  assert.deepEqual(JSON.parse(stream.exportData().meta.evalSpans as string), [[526, 1052]]);

  // eval --data on a pieces run scores every piece whole, each on its own.
  const whole = evaluateMusic(pieces.model, pieces.summary, PIECES.slice(1, 3), 32, 'pieces');
  const second = evaluateMusic(pieces.model, pieces.summary, PIECES.slice(1, 2), 32, 'pieces');
  const third = evaluateMusic(pieces.model, pieces.summary, PIECES.slice(2, 3), 32, 'pieces');
  const expected = (second.loss * 251 + third.loss * 479) / (251 + 479);
  assert.ok(Math.abs(whole.loss - expected) < 1e-6 * expected, `two pieces ${whole.loss} vs their weighted mean ${expected}`);
  assert.notEqual(evaluateMusic(pieces.model, pieces.summary, PIECES.slice(1, 3), 32, 'stream').loss, whole.loss);

  const poly = createMusicTask({ ...base, encoding: 'poly', windows: 'pieces' }, PIECES).evaluate();
  for (const key of ['nll', 'nll_unigram', 'nll_repeat', 'frame_accuracy', 'frame_accuracy_repeat']) {
    assert.ok(Number.isFinite(poly.metrics[key] as number), `poly ${key} ${poly.metrics[key]}`);
  }
  // A held-out part that holds no piece of 2 steps is refused when the task is made, naming the part.
  const restOnly = { ...base, training: { ...base.training, valSplit: 0.01 } };
  assert.throws(() => createMusicTask({ ...restOnly, windows: 'pieces' }, PIECES), /the validation part \(steps 1041 to 1052\) holds no piece/);
});
