// The music experiment and its data on tiny budgets: the shipped chorales load and a damaged file is
// refused, the NLL is the summed Bernoulli NLL a hand computation gives, and the runs' numbers are
// computed (a different seed gives different numbers, the same seed the same).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, gunzipSync } from 'node:zlib';
import { after, test } from 'node:test';
import { runCli } from './helpers/cli.js';
import '../src/ops/index.js';
import { parseChorales, type ChoraleRoll, type ChoraleSet } from '../src/data/index.js';
import { SHIPPED_CHORALES, readChorales, shippedDataPath } from '../src/data/files.js';
import { choraleBatch, musicBaselines, musicExperiment, musicPlot, musicTable, runMusic, summedBernoulliNll } from '../src/experiments/index.js';

const TMP = mkdtempSync(join(tmpdir(), 'recurrent-music-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

const shipped = readChorales();
const shippedText = gunzipSync(readFileSync(shippedDataPath(SHIPPED_CHORALES))).toString('latin1');

/** A chorale from steps of MIDI pitches. */
function roll(steps: number[][]): ChoraleRoll {
  const active = new Float32Array(steps.length * 88);
  steps.forEach((pitches, t) => pitches.forEach((p) => (active[t * 88 + p - 21] = 1)));
  return { low: 21, pitches: 88, steps: steps.length, active };
}

test('the shipped JSB chorales load with the split of Boulanger-Lewandowski et al. (2012)', () => {
  assert.deepEqual([shipped.train.length, shipped.valid.length, shipped.test.length], [229, 76, 77]);
  const steps = (split: ChoraleRoll[]) => split.reduce((n, c) => n + c.steps, 0);
  assert.deepEqual([steps(shipped.train), steps(shipped.valid), steps(shipped.test)], [13807, 4602, 4725]);
  // The first training chorale opens on C4, C5, G5, E6 (MIDI 60, 72, 79, 88), as the source file does.
  const first = shipped.train[0]!;
  const sounding = [...first.active.subarray(0, 88)].flatMap((v, j) => (v === 1 ? [j + 21] : []));
  assert.deepEqual(sounding, [60, 72, 79, 88]);
  assert.ok(first.active.every((v) => v === 0 || v === 1));
});

test('a damaged chorales file is refused with the file and the reason', () => {
  const bytes = readFileSync(shippedDataPath(SHIPPED_CHORALES));
  const flipped = Buffer.from(bytes);
  flipped[Math.floor(flipped.length / 2)]! ^= 0xff;
  const flippedPath = join(TMP, 'flipped.txt.gz');
  writeFileSync(flippedPath, flipped);
  assert.throws(() => readChorales(flippedPath), (err: Error) => err.message.includes(flippedPath) && /not an intact gzip file/.test(err.message));
  const truncatedPath = join(TMP, 'truncated.txt.gz');
  writeFileSync(truncatedPath, bytes.subarray(0, bytes.length - 100));
  assert.throws(() => readChorales(truncatedPath), /not an intact gzip file/);
  assert.throws(() => readChorales(join(TMP, 'missing.txt.gz')), /readChorales: cannot read .*missing\.txt\.gz \(no such file\)/);

  // Intact gzip around damaged text: the counts and the pitches stand guard.
  const lines = shippedText.split('\n');
  const withoutOneChorale = [...lines.slice(0, 5), ...lines.slice(6)].join('\n');
  assert.throws(() => parseChorales(withoutOneChorale, 'x'), /parseChorales: x, line 231: train announces 229 chorales, but the next section \("valid 76 4602"\) starts after 228/);
  assert.throws(() => parseChorales(lines.slice(0, 100).join('\n'), 'x'), /train announces 229 chorales, but the file ends after 98/);
  const offKeyboard = shippedText.replace('60,72,79,88', '60,72,79,109');
  assert.throws(() => parseChorales(offKeyboard, 'x'), /line 3: step 1: expected MIDI pitches 21\.\.108/);
  const extraStep = shippedText.replace('60,72,79,88 ', '60,72,79,88 60 ');
  assert.throws(() => parseChorales(extraStep, 'x'), /line 2: train announces 13807 steps but its chorales hold 13808/);
  assert.throws(() => parseChorales('hello\n', 'x'), /line 1: expected the header/);
  const zipped = join(TMP, 'extra.txt.gz');
  writeFileSync(zipped, gzipSync(extraStep));
  assert.throws(() => readChorales(zipped), /announces 13807 steps/);
});

test('chorale batches pad with silence, score only real predictions, and the NLL matches a hand computation', () => {
  const a = roll([[60], [62], [60, 64]]);
  const b = roll([[48], [], [50], [52], [55]]);
  const set = choraleBatch([a, b]);
  assert.deepEqual(set.inputs.shape, [4, 2, 88]);
  assert.equal(set.predictions, 2 + 4);
  assert.deepEqual([...set.mask.data], [1, 1, 1, 1, 0, 1, 0, 1]);
  assert.equal(set.targets.data[(1 * 2 + 0) * 88 + 64 - 21], 1); // a's third step is the target of its second
  // Zero logits: every note costs ln 2, so each scored step costs 88 ln 2 whatever sounds.
  const zero = new Float32Array(4 * 2 * 88);
  assert.ok(Math.abs(summedBernoulliNll(zero, set) - 6 * 88 * Math.LN2) < 1e-9);
  // Logit ln 3 (p = 3/4) on MIDI 62 everywhere, else 0: a's first prediction has 62 on (cost ln 4/3),
  // every other scored step has 62 off (cost ln 4); the other 87 notes cost ln 2 each.
  const logits = new Float32Array(zero);
  for (let r = 0; r < 8; r++) logits[r * 88 + 62 - 21] = Math.log(3);
  const expected = 6 * 87 * Math.LN2 + Math.log(4 / 3) + 5 * Math.log(4);
  assert.ok(Math.abs(summedBernoulliNll(logits, set) - expected) < 1e-6, `${summedBernoulliNll(logits, set)} vs ${expected}`);
  // Padding is never scored: changing a padded logit changes nothing.
  logits[(2 * 2 + 0) * 88] = 50;
  assert.ok(Math.abs(summedBernoulliNll(logits, set) - expected) < 1e-6);
  assert.throws(() => choraleBatch([roll([[60]])]), /chorale 0 has 1 step\(s\), expected at least 2/);
});

test('baselines: per-note frequency and the smoothed previous step, by hand on a tiny set', () => {
  const data: ChoraleSet = { train: [roll([[60], [60], []])], valid: [roll([[60], [62]])], test: [roll([[60], [62]])] };
  const { unigram, repeat } = musicBaselines(data);
  // Training frames: 3, MIDI 60 on in 2, so p(60) = 3/5 and every other key 1/5 (add-one). The one
  // predicted step of the test chorale: 60 off, 62 on, 86 others off.
  const expectedUnigram = -Math.log(2 / 5) - Math.log(1 / 5) - 86 * Math.log(4 / 5);
  assert.ok(Math.abs(unigram.test - expectedUnigram) < 1e-9, `${unigram.test} vs ${expectedUnigram}`);
  // Transitions: 60 on→on once, on→off once (p(on | on) = 2/4); off→off 174 times (p(on | off) = 1/176).
  const expectedRepeat = -Math.log(2 / 4) - Math.log(1 / 176) - 86 * Math.log(175 / 176);
  assert.ok(Math.abs(repeat.test - expectedRepeat) < 1e-9, `${repeat.test} vs ${expectedRepeat}`);
});

const tiny: ChoraleSet = { train: shipped.train.slice(0, 6), valid: shipped.valid.slice(0, 3), test: shipped.test.slice(0, 3) };

test('music experiment: runs per cell and seed chosen on validation, numbers computed from the runs', () => {
  const result = musicExperiment({ data: tiny, cells: ['rnn', 'gru'], epochs: 3, patience: 2, seeds: 2, batch: 3, parameters: 2000 });
  assert.equal(result.runs.length, 2 * 2);
  assert.deepEqual(result.summary.map((s) => s.cell), ['rnn', 'gru']);
  assert.deepEqual(result.sizes.test, { chorales: 3, predictions: tiny.test.reduce((n, c) => n + c.steps - 1, 0) });
  for (const run of result.runs) {
    assert.ok(run.epochs >= 1 && run.epochs <= 3 && run.bestEpoch <= run.epochs);
    const chosen = run.curve.find((c) => c.epoch === run.bestEpoch)!;
    assert.equal(chosen.valid, run.nll.valid);
    assert.ok(run.curve.every((c) => c.valid >= run.nll.valid), 'the chosen epoch has the lowest validation NLL');
    for (const v of Object.values(run.nll)) assert.ok(Number.isFinite(v) && v > 0 && v < 88 * 5, String(v));
    assert.ok(Math.abs(run.parameters - 2000) < 300, `${run.cell}: ${run.parameters}`);
  }
  const [seed0, seed1] = result.runs.filter((r) => r.cell === 'gru');
  assert.notEqual(seed0!.nll.test, seed1!.nll.test);
  const again = runMusic('gru', 1, { data: tiny, epochs: 3, patience: 2, batch: 3, parameters: 2000 });
  assert.equal(again.nll.test, seed1!.nll.test);
  for (const s of result.summary) {
    const runs = result.runs.filter((r) => r.cell === s.cell);
    assert.ok(Math.abs(s.mean.test - (runs[0]!.nll.test + runs[1]!.nll.test) / 2) < 1e-12);
  }
  const table = musicTable(result);
  assert.equal(table.split('\n').length, 2 + 2 + 2);
  assert.match(table, /\| rnn +\| \d+ +\| \d+ +\| 2 /);
  assert.match(table, /\| 9\.10 +\|/);
  assert.match(table, /per-note frequency/);
  assert.match(musicPlot(result), /data-name="gru"/);
  assert.throws(() => musicExperiment({ data: { ...tiny, valid: [] } }), /data\.valid must hold at least one chorale, got none/);
  assert.throws(() => musicExperiment({ data: tiny, cells: ['lstm', 'sigmoid' as 'lstm'] }), /cell must be one of rnn, .*, got sigmoid/);
  assert.throws(() => musicExperiment({ data: tiny, epochs: 0 }), /experiment music: epochs must be an integer >= 1, got 0/);
});

test('music experiment: a GRU learns the chorales beyond the per-note frequency baseline', () => {
  const data: ChoraleSet = { train: shipped.train.slice(0, 40), valid: shipped.valid.slice(0, 10), test: shipped.test.slice(0, 10) };
  const run = runMusic('gru', 0, { data, epochs: 10, patience: 10, batch: 4, lr: 0.02, parameters: 8000 });
  const baseline = musicBaselines(data).unigram.test;
  assert.ok(run.nll.test < baseline - 0.2, `GRU test NLL ${run.nll.test} vs per-note frequency ${baseline}`);
});

test('recurrent experiment music --data FILE --json; a damaged --data file is named', async () => {
  const file = join(TMP, 'tiny.txt.gz');
  const text = shippedText.split('\n');
  const section = (name: string, chorales: ChoraleRoll[], lines: string[]) => [`${name} ${chorales.length} ${chorales.reduce((n, c) => n + c.steps, 0)}`, ...lines];
  const start = { train: 2, valid: 2 + 229 + 1, test: 2 + 229 + 1 + 76 + 1 };
  const pick = (split: 'train' | 'valid' | 'test', n: number) => section(split, shipped[split].slice(0, n), text.slice(start[split], start[split] + n));
  writeFileSync(file, gzipSync([text[0]!, ...pick('train', 3), ...pick('valid', 2), ...pick('test', 2), ''].join('\n')));
  const plot = join(TMP, 'music.svg');
  const run = await runCli(['experiment', 'music', '--data', file, '--cells', 'rnn,lstm', '--epochs', '1', '--seeds', '1', '--parameters', '1000', '--json', '--plot', plot]);
  assert.equal(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
  assert.equal(out.experiment, 'music');
  assert.deepEqual(out.summary.map((s: { cell: string }) => s.cell), ['rnn', 'lstm']);
  assert.equal(out.sizes.train.chorales, 3);
  assert.match(readFileSync(plot, 'utf8'), /JSB chorales: validation NLL/);
  const broken = join(TMP, 'broken.txt.gz');
  writeFileSync(broken, readFileSync(file).subarray(0, 50));
  const bad = await runCli(['experiment', 'music', '--data', broken, '--epochs', '1', '--plot', join(TMP, 'x.svg')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /error: .*broken\.txt\.gz is not an intact gzip file/);
});
