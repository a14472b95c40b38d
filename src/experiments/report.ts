/**
 * Tables (Markdown, which also reads well on a terminal) and SVG plots of the experiments' results.
 * Pure functions: the CLI prints them and the docs script writes them into docs/experiments.md.
 */
import { lineChart, type LineSeries } from '../viz/index.js';
import type { ActivationResult } from './activation.js';
import type { AddingResult } from './adding.js';
import type { GradflowResult } from './gradflow.js';
import type { MusicResult } from './music.js';
import type { TimingResult } from './timing.js';

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** Four decimals, or three significant digits below 0.001 (a well-fit sine scores about 1e-4). */
export function formatMse(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 0.001 || value === 0 ? value.toFixed(4) : value.toPrecision(3);
}

export function addingTable(result: AddingResult): string {
  const rows = result.summary.map((s) => [
    s.cell, String(s.length), String(s.hidden), String(s.parameters), `${s.solved}/${s.seeds}`,
    `${Math.round(100 * s.successRate)}%`, s.medianSolvedAt === null ? 'not solved' : String(s.medianSolvedAt), formatMse(s.meanTestMse),
  ]);
  return markdownTable(['cell', 'T', 'hidden', 'params', 'solved', 'success', 'median step to MSE<' + result.options.threshold, 'mean test MSE'], rows);
}

/** Per run, for the JSON and the docs: the step at which each seed was solved. */
export function addingRunsTable(result: AddingResult): string {
  const rows = result.runs.map((r) => [r.cell, String(r.length), String(r.seed), r.solvedAt === null ? 'not solved' : String(r.solvedAt), formatMse(r.testMse), r.seconds.toFixed(1)]);
  return markdownTable(['cell', 'T', 'seed', 'solved at step', 'test MSE', 'seconds'], rows);
}

/** Mean test MSE against T, one line per cell, on a log axis, with the mean-predictor baseline. */
export function addingPlot(result: AddingResult): string {
  const cells = [...new Set(result.summary.map((s) => s.cell))];
  const lengths = [...new Set(result.summary.map((s) => s.length))].sort((a, b) => a - b);
  const series: LineSeries[] = cells.map((cell) => {
    const rows = lengths.map((t) => result.summary.find((s) => s.cell === cell && s.length === t));
    return { name: cell, x: lengths, values: rows.map((r) => r?.meanTestMse ?? NaN) };
  });
  series.push({ name: 'predict the mean (1/6)', x: lengths, values: lengths.map(() => result.baselineMse), color: '#888', dashed: true });
  series.push({ name: `solved (${result.options.threshold})`, x: lengths, values: lengths.map(() => result.options.threshold), color: '#bbb', dashed: true });
  return lineChart(series, {
    title: `Adding problem: test MSE after ≤ ${result.options.steps} steps (mean of ${result.options.seeds} seeds)`,
    xLabel: 'sequence length T', yLabel: 'test MSE', logY: true,
  });
}

export function gradflowTable(result: GradflowResult): string {
  const rows = result.curves.map((c) => {
    const at = (t: number) => c.norms[Math.min(c.norms.length - 1, Math.max(0, t))]!.toExponential(2);
    const n = c.norms.length;
    return [c.cell, c.stage, at(n - 1), at(n - 11), at(n - 101), at(0), c.decadesLost.toFixed(1), c.trainedMse === undefined ? '' : formatMse(c.trainedMse)];
  });
  return markdownTable(['cell', 'stage', '‖dL/dh_t‖ at the loss', '10 steps back', '100 steps back', 'first step', 'decades lost (first step)', 'adding MSE after training'], rows);
}

export function gradflowPlot(result: GradflowResult): string {
  const series: LineSeries[] = result.curves.map((c) => ({
    name: `${c.cell} (${c.stage})`, values: c.norms, dashed: c.stage === 'initialisation',
  }));
  return lineChart(series, {
    title: `‖dLoss/dh_t‖ on one batch of length ${result.options.length}, loss at the last step`,
    xLabel: 'time step t', yLabel: '‖dLoss/dh_t‖ (log)', logY: true,
  });
}

export function activationTable(result: ActivationResult): string {
  const rows = result.summary.map((s) => [s.task, s.cell, String(s.seeds), formatMse(s.meanTestMse), formatMse(s.bestTestMse), formatMse(s.baselineMse)]);
  return markdownTable(['task', 'cell', 'seeds', 'mean test MSE', 'best test MSE', 'baseline MSE'], rows);
}

/** Validation MSE during training, the first seed of each cell and task. */
export function activationPlot(result: ActivationResult): string {
  const firstSeed = result.runs.filter((r) => r.seed === result.options.seed);
  return lineChart(firstSeed.map((r) => ({
    name: `${r.cell} on ${r.task}`, x: r.curve.map((p) => p.step), values: r.curve.map((p) => p.mse), dashed: r.task === 'sine',
  })), { title: 'RNN nonlinearity: validation MSE during training (seed ' + result.options.seed + ')', xLabel: 'step', yLabel: 'MSE (log)', logY: true });
}

export function timingTable(result: TimingResult): string {
  const rows = result.summary.map((s) => [
    s.cell, String(s.period), `${s.solved}/${s.seeds}`, `${Math.round(100 * s.successRate)}%`, `${(100 * s.meanTestCorrect).toFixed(1)}%`,
  ]);
  const [period, right] = result.options.task === 'intervals'
    ? ['K (K vs K+1)', 'test sequences classified right (mean)'] : ['period', 'test sequences all right (mean)'];
  return markdownTable(['cell', period, 'solved', 'success', right], rows);
}

const percent = (share: number | null | undefined): string => (share === null || share === undefined ? '' : `${(100 * share).toFixed(1)}%`);

/**
 * Per run: what it times with (timing-probe.ts): ablations, the peepholes' share of each gate's input,
 * weights; for the spike task also where its test sequences go wrong.
 */
export function timingProbeTable(result: TimingResult): string {
  const spikes = result.options.task === 'spikes';
  const rows = result.runs.map((r) => {
    const p = r.probe;
    const three = (v: { i: number; f: number; o: number } | null, format: (x: number) => string) => (v === null ? '' : `${format(v.i)} / ${format(v.f)} / ${format(v.o)}`);
    const errors = !spikes ? [] : r.errors === null ? ['', '', ''] : [r.errors.onTime.map((x) => `${Math.round(100 * x)}%`).join(' '), percent(r.errors.extra), percent(r.errors.silent)];
    return [
      r.cell, String(r.period), String(r.seed), r.solvedAt === null ? 'not solved' : String(r.solvedAt), percent(r.testCorrect), ...errors,
      percent(p.withoutRecurrence), percent(p.withoutPeepholes), three(p.peepholeShare, (x) => `${Math.round(100 * x)}%`),
      p.meanOutputGate.toFixed(2), three(p.peepholeWeights, (x) => x.toFixed(2)), p.recurrentWeight.toFixed(2),
    ];
  });
  return markdownTable([
    'cell', spikes ? 'period' : 'K', 'seed', 'solved at step', 'test right', ...(spikes ? ['spike k on time', 'extra spike', 'silent'] : []),
    'W_hh = 0', 'peepholes = 0', 'peephole share i / f / o', 'mean o', 'mean abs(w_c) i / f / o', 'mean abs(W_hh)',
  ], rows);
}

/** Runs solved within each of `budgets` steps, per cell and period (training stops once solved, so a
 * run's solving step tells every smaller budget's outcome). */
export function timingBudgetTable(result: TimingResult, budgets: readonly number[]): string {
  const rows = result.summary.map((s) => {
    const runs = result.runs.filter((r) => r.cell === s.cell && r.period === s.period);
    return [s.cell, String(s.period), ...budgets.map((b) => `${runs.filter((r) => r.solvedAt !== null && r.solvedAt <= b).length}/${runs.length}`)];
  });
  return markdownTable(['cell', result.options.task === 'spikes' ? 'period' : 'K', ...budgets.map((b) => `≤ ${b} steps`)], rows);
}

/** Share of test sequences right against the period, one line per cell. */
export function timingPlot(result: TimingResult): string {
  const cells = [...new Set(result.summary.map((s) => s.cell))];
  const periods = [...result.options.periods].sort((a, b) => a - b);
  const intervals = result.options.task === 'intervals';
  return lineChart(cells.map((cell) => ({
    name: cell, x: periods, values: periods.map((p) => result.summary.find((s) => s.cell === cell && s.period === p)?.meanTestCorrect ?? NaN),
  })), intervals
    ? { title: `Spike intervals K vs K + 1: test sequences classified right after ≤ ${result.options.steps} steps`, xLabel: 'K (steps between the spikes)', yLabel: 'share right' }
    : { title: `Timed spikes: test sequences entirely right after ≤ ${result.options.steps} steps`, xLabel: 'period (steps between spikes)', yLabel: 'share right' });
}

/** Per cell the means over seeds at each run's chosen epoch, then the two baselines, all in nats per time step. */
export function musicTable(result: MusicResult): string {
  const nll = (v: number) => v.toFixed(2);
  const rows = result.summary.map((s) => {
    const runs = result.runs.filter((r) => r.cell === s.cell);
    const epochs = runs.map((r) => r.bestEpoch).join(', ');
    return [s.cell, String(s.hidden), String(s.parameters), String(s.seeds), epochs, nll(s.mean.train), nll(s.mean.valid), nll(s.mean.test),
      `${nll(s.testRange[0])}–${nll(s.testRange[1])}`, s.published === null ? '' : s.published.toFixed(2)];
  });
  const { unigram, repeat } = result.baselines;
  rows.push(['per-note frequency', '', '88', '', '', nll(unigram.train), nll(unigram.valid), nll(unigram.test), '', '']);
  rows.push(['previous step (smoothed)', '', '2', '', '', nll(repeat.train), nll(repeat.valid), nll(repeat.test), '', '']);
  return markdownTable(['model', 'hidden', 'params', 'seeds', 'epoch chosen', 'train NLL', 'valid NLL', 'test NLL (mean)', 'test NLL (range)', 'Chung et al. 2014 test'], rows);
}

/** Validation NLL after each epoch, the first seed of each cell, with the per-note frequency baseline. */
export function musicPlot(result: MusicResult): string {
  const firstSeed = result.runs.filter((r) => r.seed === result.options.seed);
  const epochs = Math.max(...firstSeed.map((r) => r.curve.length));
  const x = Array.from({ length: epochs }, (_, i) => i + 1);
  const series: LineSeries[] = firstSeed.map((r) => ({ name: r.cell, x: r.curve.map((p) => p.epoch), values: r.curve.map((p) => p.valid) }));
  series.push({ name: 'per-note frequency', x, values: x.map(() => result.baselines.unigram.valid), color: '#888', dashed: true });
  return lineChart(series, {
    title: `JSB chorales: validation NLL per time step (seed ${result.options.seed}, ~${result.options.parameters} parameters each)`,
    xLabel: 'epoch', yLabel: 'NLL (nats per step)',
  });
}
