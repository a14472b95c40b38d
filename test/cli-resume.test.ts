// --resume continues the exact trajectory: a run stopped (by --steps, or by Ctrl-C, which saves
// before exiting) and resumed writes the same history as a run that was never stopped.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliRun } from './helpers/cli.js';
import { after, test } from 'node:test';
import { readSafetensorsMetadata } from '../src/io/index.js';

const TMP = mkdtempSync(join(tmpdir(), 'recurrent-resume-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

/** Runs the CLI; `interrupt` sends SIGINT once stdout shows that many step events (with --json). */
function cli(args: string[], interrupt?: number): Promise<CliRun> {
  let sent = false;
  return runCli(args, (stdout, child) => {
    if (interrupt !== undefined && !sent && (stdout.match(/"event":"step"/g) ?? []).length >= interrupt) {
      sent = true;
      child.kill('SIGINT');
    }
  });
}

/** step,loss,val_loss,lr of every row (time differs between runs). */
function trajectory(dir: string): string[] {
  return readFileSync(join(dir, 'history.csv'), 'utf8').trim().split('\n').map((l) => l.split(',').slice(0, 4).join(','));
}

const MODEL = ['--data', 'sine', '--layers', '2', '--hidden', '16', '--dropout', '0.2', '--seed', '9'];

test('stopping at --steps and resuming gives the same losses as one uninterrupted run', async () => {
  const whole = join(TMP, 'whole');
  const parts = join(TMP, 'parts');
  const [a, b] = await Promise.all([
    cli(['train', 'series', ...MODEL, '--val-every', '10', '--steps', '60', '--out', whole]),
    cli(['train', 'series', ...MODEL, '--val-every', '10', '--steps', '30', '--out', parts]),
  ]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  // What a save killed mid-write leaves behind (a process id that no longer runs): resume removes it.
  const leftover = `.latest.safetensors.${spawnSync(process.execPath, ['-e', '']).pid}.00112233aabb.tmp`;
  writeFileSync(join(parts, leftover), 'torn');
  const c = await cli(['train', 'series', '--resume', parts, '--steps', '60']);
  assert.equal(c.code, 0, c.stderr);
  assert.ok(!existsSync(join(parts, leftover)), 'the stale temporary file is gone');
  assert.equal(trajectory(parts).length, 61);
  assert.deepEqual(trajectory(parts), trajectory(whole));
  assert.equal(JSON.parse(readFileSync(join(parts, 'config.json'), 'utf8')).training.steps, 60);
});

test('Ctrl-C stops cleanly after saving (exit 130), and --resume continues the same trajectory', async () => {
  const whole = join(TMP, 'whole-300');
  const cut = join(TMP, 'interrupted');
  const [a, b] = await Promise.all([
    cli(['train', 'series', ...MODEL, '--val-every', '50', '--steps', '300', '--out', whole]),
    cli(['train', 'series', ...MODEL, '--val-every', '50', '--steps', '300', '--out', cut, '--json'], 25),
  ]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 130, `exit ${b.code} (${b.signal}): ${b.stderr}`);
  assert.match(b.stderr, /stopping after this step and saving/);
  const done = JSON.parse(b.stdout.trim().split('\n').pop()!) as { event: string; stopped: boolean; step: number };
  assert.equal(done.event, 'done');
  assert.equal(done.stopped, true);
  assert.ok(done.step >= 25 && done.step < 300, `stopped at ${done.step}`);
  // Everything up to the stop is saved: the checkpoint and the history end at the same step.
  assert.equal(Number(readSafetensorsMetadata(readFileSync(join(cut, 'latest.safetensors'))).step), done.step);
  assert.equal(trajectory(cut).length, done.step + 1);

  const c = await cli(['train', 'series', '--resume', cut]);
  assert.equal(c.code, 0, c.stderr);
  assert.deepEqual(trajectory(cut), trajectory(whole));
});

test('a resumed run keeps its options: changing one is refused', async () => {
  const dir = join(TMP, 'fixed');
  assert.equal((await cli(['train', 'series', ...MODEL, '--steps', '10', '--out', dir])).code, 0);
  const r = await cli(['train', 'series', '--resume', dir, '--hidden', '64', '--lr', '0.1', '--steps', '20']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--hidden, --lr cannot be changed when resuming/);
  assert.equal(trajectory(dir).length, 11, 'the run is untouched');
  const other = await cli(['train', 'text', '--resume', dir]);
  assert.equal(other.code, 1);
  assert.match(other.stderr, /holds a series model; "train text" needs a text model/);
});

test('a run folder without a checkpoint (stopped before its first save) is no circle: both commands point to --force, which starts it anew', async () => {
  const dir = join(TMP, 'unsaved');
  const tiny = ['--data', 'sine', '--hidden', '4', '--seq-len', '8', '--batch', '2', '--steps', '3'];
  assert.equal((await cli(['train', 'series', ...tiny, '--out', dir])).code, 0);
  for (const name of ['latest.safetensors', 'best.safetensors']) rmSync(join(dir, name), { force: true });
  const again = await cli(['train', 'series', ...tiny, '--out', dir]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already holds a run; it stopped before its first checkpoint; --force to replace it/);
  const resumed = await cli(['train', 'series', '--resume', dir]);
  assert.equal(resumed.code, 1);
  assert.match(resumed.stderr, new RegExp(`holds no latest\\.safetensors to resume from: the run stopped before its first checkpoint; start it anew with its options \\(in ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/config\\.json\\) and --out \\S+ --force`));
  const forced = await cli(['train', 'series', ...tiny, '--out', dir, '--force']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.ok(existsSync(join(dir, 'latest.safetensors')));
});

test('--time-limit ends a run by the clock (exit 0, after a last validation); resuming it needs a new limit', async () => {
  const dir = join(TMP, 'clock');
  const r = await cli(['train', 'series', '--data', 'sine', '--hidden', '8', '--time-limit', '0.02', '--val-every', '1000000', '--out', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /trained (\d+) steps in .* \(--time-limit reached\)/);
  const rows = trajectory(dir);
  const last = rows[rows.length - 1]!.split(',');
  assert.notEqual(last[2], '', 'the last step is validated');
  const again = await cli(['train', 'series', '--resume', dir]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /limited by time only; give --steps or --time-limit/);
  const more = await cli(['train', 'series', '--resume', dir, '--steps', String(rows.length + 9)]);
  assert.equal(more.code, 0, more.stderr);
  assert.equal(trajectory(dir).length, rows.length + 10);
});
