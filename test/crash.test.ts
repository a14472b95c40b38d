// Crash test: a training run killed with SIGKILL at seeded random moments (some inside a checkpoint
// save) leaves a folder whose checkpoints load, and --resume ends with the very history of a run that
// was never killed. `npm run crash` does the same with 50 kills and records the figures.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CRASH_RUN, crashAndResume } from './helpers/crash.js';
import { runCli } from './helpers/cli.js';

const TMP = mkdtempSync(join(tmpdir(), 'recurrent-crash-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

test('SIGKILL at random moments: every checkpoint left loads, and --resume gives the uninterrupted history', { timeout: 300_000 }, async () => {
  const steps = 40;
  const reference = join(TMP, 'whole');
  const whole = await runCli(['train', 'series', ...CRASH_RUN, '--steps', String(steps), '--out', reference]);
  assert.equal(whole.code, 0, whole.stderr);
  const figures = await crashAndResume(join(TMP, 'killed'), reference, steps, 4, 16);
  assert.deepEqual(figures.problems, []);
  assert.ok(figures.kills >= 2, `only ${figures.kills} kills landed before the run ended`);
  assert.equal(figures.identical, true);
  console.log(`crash test: ${figures.kills} kills, ${figures.duringSave} inside a save, ${figures.checkpointsLoaded} checkpoints loaded`);
});
