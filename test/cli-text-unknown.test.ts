// Text that a model's vocabulary does not cover: read with a stated stand-in and counted, or refused.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli, trainTinyTextRun } from './helpers/cli.js';
import { Vocabulary } from '../src/data/index.js';

const TMP = mkdtempSync(join(tmpdir(), 'recurrent-unknown-'));
let RUN = '';
after(() => rmSync(TMP, { recursive: true, force: true }));

before(async () => {
  RUN = await trainTinyTextRun(TMP);
});

test('eval --data replaces unknown characters by default, says how many and which, and --unknown error refuses', async () => {
  const other = join(TMP, 'other.txt');
  writeFileSync(other, 'the caté sat on the mat. the dog sat on the €.\n'.repeat(3));
  const lenient = await runCli(['eval', 'text', '--model', RUN, '--data', other, '--json']);
  assert.equal(lenient.code, 0, lenient.stderr);
  assert.match(lenient.stderr, /6 character\(s\) outside the model's vocabulary \("é" \(U\+00E9\), "€" \(U\+20AC\)\) were read as " "/);
  assert.equal(JSON.parse(lenient.stdout.trim().split('\n').at(-1)!).unknown_replaced, 6);
  const strict = await runCli(['eval', 'text', '--model', RUN, '--data', other, '--unknown', 'error']);
  assert.equal(strict.code, 1);
  assert.match(strict.stderr, /character "é" \(U\+00E9\) at line 1, column 8 is not in the vocabulary/);
  const generated = await runCli(['generate', 'text', '--model', RUN, '--prime', 'the caté', '--length', '5']);
  assert.equal(generated.code, 0, generated.stderr);
  assert.match(generated.stderr, /--prime: 1 character\(s\) outside the model's vocabulary/);
  assert.ok(generated.stdout.startsWith('the caté'));
});

test('encodeReplacing counts and stands in; the stand-in must itself be in the vocabulary', () => {
  const v = Vocabulary.fromText('ab c');
  const r = v.encodeReplacing('abxyc');
  assert.deepEqual(Array.from(r.ids), [v.encode('a')[0], v.encode('b')[0], v.encode(' ')[0], v.encode(' ')[0], v.encode('c')[0]]);
  assert.equal(r.replaced, 2);
  assert.throws(() => v.encodeReplacing('x', 'z'), /the replacement "z" \(U\+007A\) is not in the vocabulary itself/);
});
