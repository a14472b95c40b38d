// `recurrent generate --quantize int8`: generation on int8-quantized weights from the command line,
// and the refusal of a quantization it does not offer.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli, trainTinyTextRun } from './helpers/cli.js';

const TMP = mkdtempSync(join(tmpdir(), 'recurrent-quantized-'));
let RUN = '';
after(() => rmSync(TMP, { recursive: true, force: true }));

before(async () => {
  RUN = await trainTinyTextRun(TMP);
});

test('generate text --quantize int8 continues the prime; other values are refused with the choices', async () => {
  const generated = await runCli(['generate', 'text', '--model', RUN, '--prime', 'the ', '--length', '12', '--quantize', 'int8']);
  assert.equal(generated.code, 0, generated.stderr);
  assert.ok(generated.stdout.startsWith('the '));
  assert.equal(generated.stdout.length, 4 + 12 + 1, 'the prime, 12 characters and a newline');
  const refused = await runCli(['generate', 'text', '--model', RUN, '--quantize', 'int4']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /--quantize.*int4.*int8/s);
});
