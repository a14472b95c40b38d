// The ports of PyTorch programs in examples/, run on tiny data through the built package (as
// package-entry.test.ts runs the other examples): each must reach the figure its header states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const skip = existsSync(`${root}/dist/index.js`) ? false : 'dist/ is missing: run `npm run build` (npm ci does it)';
const run = (args: string[]): string => execFileSync(process.execPath, ['--import', 'tsx', ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
const numbers = (out: string, pattern: RegExp): number[] => [...out.matchAll(pattern)].map((m) => Number(m[1]));

test('time_sequence_prediction with LBFGS: training loss falls 100-fold in 3 steps, test loss below 2e-3', { skip }, () => {
  const out = run(['examples/time-sequence-prediction.ts', '3', '6', '80', '16']);
  const losses = numbers(out, /step \d+ {2}loss ([\d.e+-]+)/g);
  const testLosses = numbers(out, /test loss ([\d.e+-]+)/g);
  assert.equal(losses.length, 3, out);
  assert.ok(losses[0]! / losses[2]! >= 100, out);
  assert.ok(testLosses[2]! < 2e-3, out);
});

test('word_language_model with tied weights and truncated BPTT: validation perplexity falls 2.5-fold in 3 epochs', { skip }, () => {
  const out = run(['examples/word-language-model.ts', '3', '6000', '32']);
  const ppl = numbers(out, /valid ppl ([\d.]+)/g);
  assert.equal(ppl.length, 4, out);
  assert.ok(ppl[0]! / ppl[3]! >= 2.5, out);
  assert.match(out, /parameters \(tied\)/);
});

test('GRU seq2seq learns to reverse sequences: held-out accuracy above 0.85 after 300 steps (chance 0.125)', { skip }, () => {
  const out = run(['examples/seq2seq-gru.ts', '300']);
  const accuracy = numbers(out, /held-out accuracy ([\d.]+)/g);
  assert.equal(accuracy.length, 4, out);
  assert.ok(accuracy[0]! < 0.3, out);
  assert.ok(accuracy[3]! > 0.85, out);
});

test('name classification, ported to packed batches of sentences: held-out accuracy above 0.6 after 400 steps (chance 0.5)', { skip }, () => {
  const out = run(['examples/classify-sentences.ts', '400', '64']);
  const accuracy = numbers(out, /held-out accuracy ([\d.]+)/g);
  assert.equal(accuracy.length, 9, out);
  assert.ok(accuracy[0]! < 0.55, out);
  assert.ok(accuracy[8]! > 0.6, out);
});
