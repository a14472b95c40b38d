// Crash testing: a child `recurrent train` is killed with SIGKILL at seeded random moments, then the
// run folder must load and `--resume` must go on to the history an uninterrupted run writes. With a
// validation (two checkpoint saves, each fsynced) at every step, much of a run's time is spent saving,
// so many kills land inside a save; a temporary file left behind shows which.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataRng } from '../../src/data/index.js';
import { decodeCheckpoint } from '../../src/io/index.js';
import { runCli, type CliRun } from './cli.js';

export const CRASH_RUN = ['--data', 'sine', '--hidden', '8', '--seq-len', '8', '--batch', '4', '--val-every', '1', '--seed', '3'];

/** step,loss,val_loss,lr of every history row (the time differs between runs). */
export function trajectory(dir: string): string[] {
  return readFileSync(join(dir, 'history.csv'), 'utf8').trim().split('\n').map((l) => l.split(',').slice(0, 4).join(','));
}

export interface CrashFigures {
  kills: number;
  /** Kills after which a save's temporary file was left: the kill landed inside a save. */
  duringSave: number;
  /** Kills before the first checkpoint (the next start is a fresh train with --force). */
  beforeFirstCheckpoint: number;
  /** Every checkpoint present after a kill decoded (header, checksum, values). */
  checkpointsLoaded: number;
  identical: boolean;
  problems: string[];
}

/** Resolves with the outcome once the child is killed (or ends by itself). */
function runUntilKilled(args: string[], afterSteps: number, delayMs: number): Promise<CliRun> {
  let armed = false;
  return runCli([...args, '--json'], (stdout, child) => {
    if (armed || (stdout.match(/"event":"step"/g) ?? []).length < afterSteps) return;
    armed = true;
    setTimeout(() => child.kill('SIGKILL'), delayMs);
  });
}

/**
 * Trains `steps` steps into `dir` through `kills` SIGKILLs, then finishes with a last --resume, and
 * compares the history with `reference` (the folder of an uninterrupted run of the same options).
 */
export async function crashAndResume(dir: string, reference: string, steps: number, kills: number, seed: number): Promise<CrashFigures> {
  const rng = new DataRng(seed);
  const figures: CrashFigures = { kills: 0, duringSave: 0, beforeFirstCheckpoint: 0, checkpointsLoaded: 0, identical: false, problems: [] };
  const start = (): string[] =>
    existsSync(join(dir, 'latest.safetensors'))
      ? ['train', 'series', '--resume', dir]
      : ['train', 'series', ...CRASH_RUN, '--steps', String(steps), '--out', dir, '--force'];
  for (let k = 0; k < kills; k++) {
    const afterSteps = 1 + (rng.nextUint32() % 8);
    const delayMs = rng.nextUint32() % 40;
    const r = await runUntilKilled(start(), afterSteps, delayMs);
    if (r.signal !== 'SIGKILL') {
      // Finished (or failed) before the kill: a run that ends by itself is not a crash case.
      if (r.code !== 0) figures.problems.push(`kill ${k}: the run failed before it was killed: ${r.stderr.trim()}`);
      break;
    }
    figures.kills++;
    const names = readdirSync(dir);
    if (names.some((n) => n.endsWith('.tmp') && !n.includes('.train.lock'))) figures.duringSave++;
    if (!names.includes('latest.safetensors')) figures.beforeFirstCheckpoint++;
    for (const name of ['latest.safetensors', 'best.safetensors'].filter((n) => names.includes(n))) {
      try {
        decodeCheckpoint(readFileSync(join(dir, name)));
        figures.checkpointsLoaded++;
      } catch (e) {
        figures.problems.push(`kill ${k}: ${name} does not load: ${(e as Error).message}`);
      }
    }
  }
  const last = await runCli(start());
  if (last.code !== 0) figures.problems.push(`the final resume failed (exit ${last.code}): ${last.stderr.trim()}`);
  const leftovers = readdirSync(dir).filter((n) => n.endsWith('.tmp') || n.startsWith('.train.lock'));
  if (leftovers.length > 0) figures.problems.push(`left behind after the final resume: ${leftovers.join(', ')}`);
  const got = trajectory(dir);
  const expected = trajectory(reference);
  figures.identical = got.length === expected.length && got.every((row, i) => row === expected[i]);
  if (!figures.identical) {
    const i = got.findIndex((row, j) => row !== expected[j]);
    figures.problems.push(`history differs from the uninterrupted run at row ${i}: ${got[i]} instead of ${expected[i]} (${got.length} rows, expected ${expected.length})`);
  }
  return figures;
}
