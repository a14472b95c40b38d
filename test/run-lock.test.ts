// One writer per run folder: a second train, --resume or --force on a folder a live run holds is
// refused with a message naming the running process; a lock whose holder is gone is taken over.
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { acquireLock, LockHeldError } from '../src/io/node.js';
import { runCli, type CliRun } from './helpers/cli.js';

const TMP = mkdtempSync(join(tmpdir(), 'recurrent-lock-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

const TINY = ['--data', 'sine', '--hidden', '4', '--seq-len', '8', '--batch', '2', '--val-every', '1000'];
/** A pid that certainly no longer runs: a child that has exited. */
const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid!;

/**
 * Starts a long training run and resolves once it has taken a step (so it holds the folder); `stop`
 * then interrupts it with Ctrl-C and gives its outcome.
 */
async function startHolder(args: string[]): Promise<{ pid: number; stop: () => Promise<CliRun> }> {
  let child: ChildProcess | undefined;
  let running: () => void;
  const started = new Promise<void>((resolve) => (running = resolve));
  const done = runCli([...args, '--json'], (stdout, c) => {
    child = c;
    if (stdout.includes('"event":"step"')) running();
  });
  await Promise.race([started, done.then((r) => assert.fail(`the holder ended early (exit ${r.code}): ${r.stderr}`))]);
  return {
    pid: child!.pid!,
    stop: () => {
      child!.kill('SIGINT');
      return done;
    },
  };
}

const historyRows = (dir: string): number => readFileSync(join(dir, 'history.csv'), 'utf8').trim().split('\n').length - 1;

test('acquireLock: exclusive, names its holder, released, and a dead holder on this host is taken over', () => {
  const dir = join(TMP, 'unit');
  mkdirSync(dir);
  const path = join(dir, 'x.lock');
  const lock = acquireLock(path, 'test holder');
  assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')).pid, process.pid);
  assert.throws(() => acquireLock(path, 'second'), (e: unknown) => {
    assert.ok(e instanceof LockHeldError);
    assert.match(e.message, new RegExp(`in use by test holder \\(pid ${process.pid} on host .+, started .+\\); wait for it to end or stop it`));
    return true;
  });
  lock.release();
  lock.release();
  assert.ok(!existsSync(path));

  writeFileSync(path, JSON.stringify({ pid: deadPid(), host: hostname(), started: '2020-01-01T00:00:00.000Z', command: 'killed run' }));
  const taken = acquireLock(path, 'taker');
  assert.equal(JSON.parse(readFileSync(path, 'utf8')).command, 'taker');
  taken.release();

  writeFileSync(path, JSON.stringify({ pid: deadPid(), host: 'another-host', started: '2020-01-01T00:00:00.000Z', command: 'remote run' }));
  assert.throws(() => acquireLock(path, 'taker'), /in use by remote run \(pid \d+ on host another-host, .*cannot tell whether it still runs: if it does not, delete /);
  writeFileSync(path, 'garbage');
  assert.throws(() => acquireLock(path, 'taker'), /not a lock this program wrote/);
  assert.deepEqual(readdirSync(dir), ['x.lock'], 'no temporary or guard file is left behind');
});

test('a second train, --force or --resume on a folder a live run holds is refused, naming that run', { timeout: 120_000 }, async () => {
  const dir = join(TMP, 'held');
  // No early stopping (--patience 0, kept on resume): a holder must still be training when it is
  // interrupted, however many steps it took meanwhile on a fast machine.
  const holder = await startHolder(['train', 'series', ...TINY, '--steps', '1000000', '--patience', '0', '--out', dir]);
  const named = new RegExp(`--(out|resume) ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by recurrent train series --out \\S+ \\(pid ${holder.pid} on host \\S+, started \\S+\\); wait for it to end or stop it`);
  const [again, forced] = await Promise.all([
    runCli(['train', 'series', ...TINY, '--steps', '5', '--out', dir]),
    runCli(['train', 'series', ...TINY, '--steps', '5', '--out', dir, '--force']),
  ]);
  // A time limit ends the refused commands even if they were (wrongly) let in.
  const resumed = await runCli(['train', 'series', '--resume', dir, '--time-limit', '0.05']);
  for (const [name, r] of [['train', again], ['--force', forced], ['--resume', resumed]] as const) {
    assert.equal(r.code, 1, `${name}: ${r.stderr}`);
    assert.match(r.stderr, named, name);
  }
  const stopped = await holder.stop();
  assert.equal(stopped.code, 130, stopped.stderr);
  // The holder saved everything it did, untouched by the refused writers, and gave the lock back.
  const steps = (JSON.parse(stopped.stdout.trim().split('\n').pop()!) as { step: number }).step;
  assert.equal(historyRows(dir), steps);
  assert.ok(!existsSync(join(dir, '.train.lock')));
  assert.equal(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).training.patience, 0, '--patience is recorded, so the resumed holder below keeps training too');

  // The other order: a resumed run holds the folder; a new train and a second resume are refused.
  const resumer = await startHolder(['train', 'series', '--resume', dir, '--steps', '2000000']);
  const [fresh, second] = await Promise.all([
    runCli(['train', 'series', ...TINY, '--steps', '5', '--out', dir, '--force']),
    runCli(['train', 'series', '--resume', dir, '--time-limit', '0.05']),
  ]);
  for (const r of [fresh, second]) {
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`is in use by recurrent train series --resume \\S+ \\(pid ${resumer.pid} on host`));
  }
  assert.equal((await resumer.stop()).code, 130);
  assert.ok(existsSync(join(dir, 'latest.safetensors')), '--force did not delete the live run');
});

test('two trainers started at once on one folder: exactly one runs, the other is refused', async () => {
  const dir = join(TMP, 'race');
  const runs = await Promise.all([1, 2].map(() => runCli(['train', 'series', ...TINY, '--steps', '30', '--out', dir])));
  const codes = runs.map((r) => r.code).sort();
  assert.deepEqual(codes, [0, 1], runs.map((r) => r.stderr).join('\n'));
  const loser = runs.find((r) => r.code === 1)!;
  // Whoever lost either met the running winner or, arriving after it ended, a finished run.
  assert.match(loser.stderr, /is in use by recurrent train series --out \S+ \(pid \d+ on host|already holds a run; use --resume/);
  assert.doesNotMatch(loser.stderr, /not a run folder/);
  assert.equal(historyRows(dir), 30);
});

test('a lock left by a killed run does not block the next one', async () => {
  const dir = join(TMP, 'killed');
  mkdirSync(dir);
  writeFileSync(join(dir, '.train.lock'), JSON.stringify({ pid: deadPid(), host: hostname(), started: '2020-01-01T00:00:00.000Z', command: 'recurrent train series' }));
  const r = await runCli(['train', 'series', ...TINY, '--steps', '3', '--out', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!existsSync(join(dir, '.train.lock')));
});
