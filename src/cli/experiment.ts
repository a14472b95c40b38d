/**
 * `recurrent experiment <name>`: runs one of the experiments in src/experiments, prints its table (or
 * one JSON object with --json) and writes its SVG plot.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  EXPERIMENT_CELLS, activationExperiment, activationPlot, activationTable, addingExperiment, addingPlot, addingTable,
  gradflowExperiment, gradflowPlot, gradflowTable, musicExperiment, musicPlot, musicTable, timingExperiment, timingPlot, timingProbeTable, timingTable, ACTIVATION_TASKS, type ActivationTask, type ExperimentCell, type TimingTask,
} from '../experiments/index.js';
import { readChorales } from '../data/files.js';
import { writeFileAtomic } from '../io/files.js';

export const EXPERIMENTS = ['adding', 'gradflow', 'activation', 'timing', 'music'] as const;
export type ExperimentName = (typeof EXPERIMENTS)[number];

export interface ExperimentFlags {
  cells?: string;
  lengths?: string;
  periods?: string;
  task?: TimingTask;
  cycles?: number;
  length?: number;
  tasks?: string;
  steps?: number;
  trainSteps?: number;
  trainLength?: number;
  seeds?: number;
  seed?: number;
  batch?: number;
  lr?: number;
  parameters?: number;
  epochs?: number;
  patience?: number;
  data?: string;
  plot?: string;
  json?: boolean;
}

/** A comma-separated list whose every item is one of `allowed`. */
export function listOf<T extends string>(option: string, value: string, allowed: readonly T[]): T[] {
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new Error(`${option} must list at least one of ${allowed.join(', ')}, got "${value}"`);
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new Error(`${option}: expected items among ${allowed.join(', ')}, got "${item}"`);
  }
  return items as T[];
}

/** "50,100,200": integers from 2 to 100000 (a longer sequence would need gigabytes of workspace). */
export function lengthList(value: string, option = '--lengths'): number[] {
  const items = value.split(',').map((s) => s.trim());
  return items.map((item) => {
    const n = Number(item);
    if (item === '' || !Number.isInteger(n) || n < 2 || n > 100_000) throw new Error(`${option}: expected integers in [2, 100000] separated by commas, got "${item}"`);
    return n;
  });
}

function progress(line: string, json: boolean | undefined): void {
  if (!json) process.stderr.write(`${line}\n`);
}

export async function experimentCommand(name: ExperimentName, flags: ExperimentFlags): Promise<void> {
  const cells = flags.cells === undefined ? undefined : listOf<ExperimentCell>('--cells', flags.cells, EXPERIMENT_CELLS);
  let table: string;
  let plot: string;
  let result: unknown;
  if (name === 'adding') {
    const r = addingExperiment({
      cells, lengths: flags.lengths === undefined ? undefined : lengthList(flags.lengths), steps: flags.steps, seeds: flags.seeds,
      seed: flags.seed, batch: flags.batch, lr: flags.lr, parameters: flags.parameters,
      onRun: (run) => progress(`${run.cell} T=${run.length} seed ${run.seed}: ${run.solvedAt === null ? 'not solved' : `solved at step ${run.solvedAt}`}, test MSE ${run.testMse.toFixed(4)} (${run.seconds.toFixed(1)} s)`, flags.json),
    });
    [table, plot, result] = [addingTable(r), addingPlot(r), r];
  } else if (name === 'gradflow') {
    const r = gradflowExperiment({
      cells, length: flags.length, seed: flags.seed, batch: flags.batch, lr: flags.lr, parameters: flags.parameters,
      trainSteps: flags.trainSteps, trainLength: flags.trainLength,
    });
    [table, plot, result] = [gradflowTable(r), gradflowPlot(r), r];
  } else if (name === 'timing') {
    const r = timingExperiment({
      task: flags.task, cells, periods: flags.periods === undefined ? undefined : lengthList(flags.periods, '--periods'), cycles: flags.cycles, steps: flags.steps,
      seeds: flags.seeds, seed: flags.seed, batch: flags.batch, lr: flags.lr, parameters: flags.parameters,
    });
    [table, plot, result] = [`${timingTable(r)}\n\nEach run taken apart (what it times with):\n\n${timingProbeTable(r)}`, timingPlot(r), r];
  } else if (name === 'music') {
    const r = musicExperiment({
      data: readChorales(flags.data), cells, epochs: flags.epochs, patience: flags.patience, seeds: flags.seeds, seed: flags.seed,
      batch: flags.batch, lr: flags.lr, parameters: flags.parameters,
      onRun: (run) => progress(`${run.cell} seed ${run.seed}: epoch ${run.bestEpoch} of ${run.epochs} chosen, test NLL ${run.nll.test.toFixed(2)} (${run.seconds.toFixed(1)} s)`, flags.json),
    });
    [table, plot, result] = [musicTable(r), musicPlot(r), r];
  } else {
    const tasks = flags.tasks === undefined ? undefined : listOf<ActivationTask>('--tasks', flags.tasks, ACTIVATION_TASKS);
    const r = activationExperiment({
      cells, tasks, length: flags.length, steps: flags.steps, seeds: flags.seeds, seed: flags.seed, batch: flags.batch, lr: flags.lr, parameters: flags.parameters,
    });
    [table, plot, result] = [activationTable(r), activationPlot(r), r];
  }
  const plotPath = flags.plot ?? `runs/experiments/${name}.svg`;
  await mkdir(dirname(plotPath), { recursive: true });
  await writeFileAtomic(plotPath, new TextEncoder().encode(plot));
  if (flags.json) {
    console.log(JSON.stringify({ experiment: name, plot: plotPath, ...(result as object) }));
  } else {
    console.log(table);
    console.log(`plot: ${plotPath}`);
  }
}
