/**
 * The files of a run folder:
 *   config.json          how to rebuild the model and its data split (run-config.ts)
 *   history.csv          step,loss,val_loss,lr,time (one row per step; val_loss where validated)
 *   latest.safetensors   checkpoint at the last save (model, optimizer, step, RNG, task state)
 *   best.safetensors     checkpoint at the lowest validation loss
 *   *.svg, samples       plots and outputs of the task
 * Every file is written whole or not at all (a temporary file renamed into place).
 */
import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { acquireLock, LockHeldError, loadCheckpoint, saveCheckpoint, writeFileAtomic, type FileLock } from '../io/node.js';
import type { StatefulModel } from '../io/index.js';
import type { DivergenceState, Task, TaskName, TaskState } from '../tasks/index.js';
import { parseRunConfig, type RunConfig } from './run-config.js';

export const CONFIG_FILE = 'config.json';
export const HISTORY_FILE = 'history.csv';
export const LATEST = 'latest.safetensors';
export const BEST = 'best.safetensors';
/** Held by the one process writing the folder (train, --resume, --force). */
export const LOCK_FILE = '.train.lock';
const HISTORY_HEADER = 'step,loss,val_loss,lr,time\n';

export interface HistoryRow {
  step: number;
  loss: number;
  valLoss: number | null;
  lr: number;
  time: number;
}

/** What a checkpoint's `extra` holds besides the model, optimizer and generator. */
export interface CheckpointExtra {
  task: TaskState;
  elapsed: number;
  /** null until a validation has run (JSON has no Infinity). */
  bestLoss: number | null;
  bestStep: number | null;
  /** The divergence guard's state (absent in checkpoints written before it was saved). */
  divergence?: DivergenceState;
}

export async function writeText(path: string, text: string): Promise<void> {
  await writeFileAtomic(path, new TextEncoder().encode(text));
}

export async function writeJson(path: string, value: unknown): Promise<void> {
  await writeText(path, JSON.stringify(value, null, 2) + '\n');
}

/** A run folder opened for reading, with the task checked against the command. */
export interface OpenRun {
  dir: string;
  config: RunConfig;
}

export function openRun(dir: string, option: string, expected?: TaskName, command?: string): OpenRun {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new Error(`${option} ${dir}: no such folder`);
  }
  if (!isDir) throw new Error(`${option} ${dir} is a file; expected a run folder written by "recurrent train"`);
  const configPath = join(dir, CONFIG_FILE);
  if (!existsSync(configPath)) throw new Error(`${option} ${dir} holds no ${CONFIG_FILE}; expected a run folder written by "recurrent train"`);
  const config = parseRunConfig(readFileSync(configPath, 'utf8'), configPath);
  if (expected && config.task !== expected) {
    throw new Error(`${option} ${dir} holds a ${config.task} model; "${command ?? 'this command'}" needs a ${expected} model`);
  }
  return { dir, config };
}

/** The checkpoint to use for inference: the best one, else the latest. */
export function inferenceCheckpoint(run: OpenRun): string {
  for (const name of [BEST, LATEST]) {
    const path = join(run.dir, name);
    if (existsSync(path)) return path;
  }
  throw new Error(`${run.dir} holds no checkpoint (${BEST} or ${LATEST}); was its training stopped before the first save?`);
}

/**
 * Takes the run folder's lock, or refuses naming the process that holds it. `option` is how the user
 * named the folder (--out, --resume), `command` how this process will be named to others.
 */
export function lockRunFolder(dir: string, option: string, command: string): FileLock {
  try {
    return acquireLock(join(dir, LOCK_FILE), command);
  } catch (e) {
    if (e instanceof LockHeldError) throw new Error(`${option} ${dir} is ${e.reason}`, { cause: e });
    throw e;
  }
}

/** The lock file and what taking it leaves for an instant (its temporary, the takeover guard). */
export const isLockFile = (name: string): boolean => name === LOCK_FILE || name.startsWith(`${LOCK_FILE}.`) || name.startsWith(`.${LOCK_FILE}.`);

/** Loads only the weights of a checkpoint into a model. */
export async function loadWeights(path: string, model: StatefulModel): Promise<{ step: number }> {
  const { step } = await loadCheckpoint(path, { model });
  return { step };
}

export async function saveTaskCheckpoint(path: string, task: Task, step: number, extra: Omit<CheckpointExtra, 'task'>): Promise<void> {
  const full: CheckpointExtra = { task: task.saveState(), ...extra };
  await saveCheckpoint(path, { model: task.model, optimizer: task.optimizer, generator: task.generator, step, extra: full });
}

/** Restores everything a resumed run needs; returns the step and the bookkeeping of earlier sessions. */
export async function restoreTaskCheckpoint(path: string, task: Task): Promise<{ step: number; extra: CheckpointExtra }> {
  const { step, extra } = await loadCheckpoint(path, { model: task.model, optimizer: task.optimizer, generator: task.generator });
  const e = extra as Partial<CheckpointExtra> | undefined;
  if (!e || typeof e !== 'object' || typeof e.task !== 'object' || e.task === null || typeof e.elapsed !== 'number') {
    throw new Error(`${path} is a checkpoint without the training state a resume needs`);
  }
  task.loadState(e.task);
  return {
    step,
    extra: { task: e.task, elapsed: e.elapsed, bestLoss: e.bestLoss ?? null, bestStep: e.bestStep ?? null, ...(e.divergence !== undefined ? { divergence: e.divergence } : {}) },
  };
}

const fmt = (x: number | null): string => (x === null || !Number.isFinite(x) ? '' : String(Number(x.toPrecision(7))));

/** Appends rows in batches (at each save), so a long run does not write once per step. */
export class HistoryWriter {
  private pending: string[] = [];

  constructor(private readonly path: string) {}

  /** Starts a new file, or keeps the rows of a resumed run up to its checkpoint's step. */
  async start(resumeStep: number | null): Promise<void> {
    const kept = resumeStep === null ? [] : readHistory(this.path).filter((r) => r.step <= resumeStep);
    await writeText(this.path, HISTORY_HEADER + kept.map(formatRow).join(''));
  }

  add(row: HistoryRow): void {
    this.pending.push(formatRow(row));
  }

  /** Marks the validation loss on the row of that step (still pending: validation follows its step). */
  setValidation(step: number, valLoss: number): void {
    const last = this.pending[this.pending.length - 1];
    if (last === undefined || !last.startsWith(`${step},`)) return;
    const cells = last.trimEnd().split(',');
    cells[2] = fmt(valLoss);
    this.pending[this.pending.length - 1] = cells.join(',') + '\n';
  }

  flush(): void {
    if (this.pending.length === 0) return;
    appendFileSync(this.path, this.pending.join(''));
    this.pending = [];
  }
}

function formatRow(r: HistoryRow): string {
  return `${r.step},${fmt(r.loss)},${fmt(r.valLoss)},${fmt(r.lr)},${r.time.toFixed(3)}\n`;
}

export function readHistory(path: string): HistoryRow[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n').slice(1).filter((l) => l.trim() !== '');
  return lines.map((line) => {
    const [step, loss, val, lr, time] = line.split(',');
    return {
      step: Number(step),
      loss: Number(loss),
      valLoss: val === undefined || val === '' ? null : Number(val),
      lr: Number(lr),
      time: Number(time),
    };
  });
}
