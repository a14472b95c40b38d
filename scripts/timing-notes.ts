/**
 * The timing section's computed text for docs/experiments.md (scripts/experiments.ts): both tasks'
 * verdicts, and what the probes of timing-probe.ts say about why the peepholes help or do not.
 * Every number and every verdict here is computed from the runs.
 */
import { TIMING_SOLVED_SHARE, TIMING_TEST_SIZE, TIMING_VALIDATION_SIZE, timingBudgetTable, type TimingResult, type TimingRun } from '../src/experiments/index.js';

export interface TimingSections {
  spikes: TimingResult;
  intervals: TimingResult;
}

/** Steps at which the success-against-budget tables cut, up to the budget that was run. */
export function budgetCuts(result: TimingResult): number[] {
  const steps = result.options.steps;
  return [...new Set([250, 500, 1000, 2000, steps].filter((b) => b <= steps))];
}

const pct = (share: number): string => `${(100 * share).toFixed(0)}%`;
const mean = (values: readonly number[]): number => values.reduce((a, v) => a + v, 0) / values.length;
/** The share right of always answering at random: 0 for whole spike sequences, 1/2 for two classes. */
const chance = (result: TimingResult): number => (result.options.task === 'intervals' ? 0.5 : 0);

/** A run an ablation breaks: its share right falls below halfway between its own and chance. */
const broken = (result: TimingResult, run: TimingRun, ablated: number): boolean => ablated < chance(result) + (run.testCorrect - chance(result)) / 2;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
}

function verdicts(result: TimingResult, unit: string): string[] {
  const lines = result.options.periods.map((period) => {
    const rows = result.summary.filter((s) => s.period === period);
    return `- **${unit} ${period}**: ${rows.map((r) => `${r.cell} solved ${r.solved}/${r.seeds} seeds, ${(100 * r.meanTestCorrect).toFixed(1)}% of test sequences right`).join('; ')}.`;
  });
  const cells = result.options.cells;
  const solvedCount = (cell: string) => result.runs.filter((r) => r.cell === cell && r.solvedAt !== null).length;
  const total = (cell: string) => result.runs.filter((r) => r.cell === cell).length;
  // Where every cell solved every seed, the steps it took compare the cells' speed on equal terms.
  const allSolved = result.options.periods.filter((p) => result.summary.filter((s) => s.period === p).every((s) => s.solved === s.seeds));
  const speed = allSolved.length === 0 ? '' : `; at ${unit} ${allSolved.join(', ')}, which every run solved, the median step at which a run was solved: ${cells.map((cell) => `${cell} ${median(result.runs.filter((r) => r.cell === cell && allSolved.includes(r.period)).map((r) => r.solvedAt!))}`).join(', ')}`;
  lines.push(`- **In all**: ${cells.map((cell) => `${cell} solved ${solvedCount(cell)} of ${total(cell)} runs`).join(', ')}${speed}.`);
  return lines;
}

/** What cutting W_hh and the peepholes does to the solved runs, and what the gates read. */
function probeFindings(result: TimingResult): string[] {
  const solved = (cell: string) => result.runs.filter((r) => r.cell === cell && r.solvedAt !== null);
  const lstm = solved('lstm');
  const peephole = solved('peephole');
  if (lstm.length + peephole.length === 0) return ['- No run was solved, so there is no working timer to take apart at this budget.'];
  const lines: string[] = [];
  const cutRecurrence = (runs: TimingRun[], cell: string) => runs.length === 0 ? `no ${cell} run was solved`
    : `it breaks ${runs.filter((r) => broken(result, r, r.probe.withoutRecurrence)).length} of ${runs.length} solved ${cell} runs (mean share right ${pct(mean(runs.map((r) => r.testCorrect)))} → ${pct(mean(runs.map((r) => r.probe.withoutRecurrence)))})`;
  lines.push(`- *Cutting h's feedback* (W_hh = 0, so the gates see the past only through the peepholes, if any): ${cutRecurrence(lstm, 'lstm')}; ${cutRecurrence(peephole, 'peephole')}.`);
  const allNeedRecurrence = [...lstm, ...peephole].every((r) => broken(result, r, r.probe.withoutRecurrence));
  if (peephole.length > 0) {
    const needPeepholes = peephole.filter((r) => broken(result, r, r.probe.withoutPeepholes!));
    lines.push(`- *Cutting the peepholes* (w_ci = w_cf = w_co = 0) breaks ${needPeepholes.length} of ${peephole.length} solved peephole runs (mean share right → ${pct(mean(peephole.map((r) => r.probe.withoutPeepholes!)))})` +
      (needPeepholes.length < peephole.length ? `; the other ${peephole.length - needPeepholes.length} did not need them.` : '.'));
    const share = (runs: TimingRun[], gate: 'i' | 'f' | 'o') => pct(mean(runs.map((r) => r.probe.peepholeShare![gate])));
    const unsolved = result.runs.filter((r) => r.cell === 'peephole' && r.solvedAt === null);
    lines.push(`- *What the gates read*: in the solved peephole runs the peepholes carry ${share(peephole, 'i')} / ${share(peephole, 'f')} / ${share(peephole, 'o')} (i / f / o) of the state-borne input to the gates, the rest coming through W_hh h` +
      (unsolved.length > 0 ? `; in the unsolved ones ${share(unsolved, 'i')} / ${share(unsolved, 'f')} / ${share(unsolved, 'o')}` : '') +
      `. Mean |w_c| (i / f / o) ${['i', 'f', 'o'].map((g) => mean(peephole.map((r) => r.probe.peepholeWeights![g as 'i' | 'f' | 'o'])).toFixed(2)).join(' / ')} against a mean |W_hh| entry of ${mean(peephole.map((r) => r.probe.recurrentWeight)).toFixed(2)}.`);
  }
  const gate = (runs: TimingRun[]) => mean(runs.map((r) => r.probe.meanOutputGate)).toFixed(2);
  if (lstm.length > 0) lines.push(`- *The output gate*: a plain LSTM's gates see c only as h = o ⊙ tanh(c); its solved runs keep o at ${gate(lstm)} on average${peephole.length > 0 ? `, the solved peephole runs at ${gate(peephole)}` : ''}.`);
  lines.push(allNeedRecurrence
    ? '- So every solved net, with or without peepholes, counts through h\'s feedback; the peepholes are at most a second path beside it, and no solved net keeps time through its peepholes alone.'
    : `- ${[...lstm, ...peephole].filter((r) => !broken(result, r, r.probe.withoutRecurrence)).map((r) => `${r.cell} seed ${r.seed} at ${r.period}`).join(', ')} still keep time without W_hh: through the cell state and the peepholes.`);
  return lines;
}

/** Where the unsolved spike runs go wrong: silent, or spiking at the wrong steps. */
function spikeFailures(result: TimingResult): string[] {
  const unsolved = result.runs.filter((r) => r.solvedAt === null && r.errors !== null);
  if (unsolved.length === 0) return ['- Every run was solved.'];
  const cycles = result.options.cycles;
  const onTime = Array.from({ length: cycles }, (_, k) => pct(mean(unsolved.map((r) => r.errors!.onTime[k]!))));
  const silent = mean(unsolved.map((r) => r.errors!.silent));
  const extra = mean(unsolved.map((r) => r.errors!.extra));
  const cells = [...new Set(unsolved.map((r) => r.cell))];
  const zeroMse = Math.max(...result.options.periods.filter((p) => unsolved.some((r) => r.period === p)).map((p) => cycles / (p * (cycles + 1))));
  return [
    `- The ${unsolved.length} unsolved runs, on their test sequences: spike 1 to ${cycles} on time in ${onTime.join(', ')} of them; a spike where none is due in ${pct(extra)}; no spike at all in ${pct(silent)}.`,
    silent >= 0.5
      ? `- Most of their sequences get no spike at all: they sit in the silent answer the sparse targets reward (${cycles} spikes in ${cycles + 1} periods: always answering 0 already scores an MSE of at most ${zeroMse.toFixed(3)}), and within the budget they do not leave it (${cells.length > 1 ? 'with or without peepholes' : `all of them ${cells[0]} runs`}): they fail before the precision of a clock is put to the test.`
      : `- Most of their sequences do get spikes, but not on time: the nets learn that spikes are due and miss the step.`,
  ];
}

/** One task's count of solved runs per cell, and the periods where the peephole LSTM solved more or fewer seeds. */
function comparison(result: TimingResult, name: string, unit: string): string {
  const count = (cell: string) => result.runs.filter((r) => r.cell === cell && r.solvedAt !== null).length;
  const n = result.runs.filter((r) => r.cell === 'lstm').length;
  const solvedAt = (cell: string, period: number) => result.summary.find((x) => x.cell === cell && x.period === period)?.solved ?? 0;
  const more = result.options.periods.filter((p) => solvedAt('peephole', p) > solvedAt('lstm', p));
  const fewer = result.options.periods.filter((p) => solvedAt('peephole', p) < solvedAt('lstm', p));
  const where = [more.length > 0 ? `more seeds at ${unit} ${more.join(', ')}` : '', fewer.length > 0 ? `fewer at ${unit} ${fewer.join(', ')}` : ''].filter((x) => x !== '');
  return `on ${name} the peephole LSTM solved ${count('peephole')} of ${n} runs and the plain LSTM ${count('lstm')}${where.length > 0 ? ` (peepholes: ${where.join(', ')})` : ' (the same number at every ' + unit + ')'}`;
}

/** The section's conclusion, each clause conditional on what the runs showed. */
function inShort(spikes: TimingResult, intervals: TimingResult): string {
  const solved = (r: TimingResult) => r.runs.filter((x) => x.solvedAt !== null);
  const plainSolved = [...solved(spikes), ...solved(intervals)].filter((x) => x.cell === 'lstm');
  const plainGate = plainSolved.length === 0 ? NaN : mean(plainSolved.map((x) => x.probe.meanOutputGate));
  const throughH = plainSolved.length > 0 && [spikes, intervals].every((r) => solved(r).every((x) => broken(r, x, x.probe.withoutRecurrence)));
  const unsolvedSpikes = spikes.runs.filter((x) => x.solvedAt === null && x.errors !== null);
  const silent = unsolvedSpikes.length > 0 && mean(unsolvedSpikes.map((x) => x.errors!.silent)) >= 0.5;
  const failing = new Set(unsolvedSpikes.map((x) => x.cell));
  const whichFail = failing.size > 1 ? 'with or without peepholes' : `all of them ${[...failing][0]} runs`;
  const clauses = [
    `${comparison(spikes, 'spikes', 'period')}; ${comparison(intervals, 'intervals', 'K')}.`,
    throughH ? `Every solved net counts through h's feedback (W_hh = 0 breaks it), with or without peepholes, so at these short periods a plain LSTM has a clock of its own: h = o ⊙ tanh(c), with its output gate at ${plainGate.toFixed(2)} on average in the solved plain runs, lets W_hh read the cell state, which is what the peepholes would add.` : '',
    silent ? `The spike runs that fail (${whichFail}) fail silent: they do not leave the all-zero answer that the sparse targets reward, so at this budget the limit is getting any spike out, not timing it${failing.size > 1 ? '; peepholes do not help there' : ''}.` : '',
    `Gers et al.'s advantage was at about 50 steps, with online training and far more sequences; these runs go up to ${Math.max(...spikes.options.periods, ...intervals.options.periods)} steps and do not test it.`,
  ];
  return `**In short**: ${clauses.filter((c) => c !== '').join(' ')}`;
}

export function timingNotes({ spikes, intervals }: TimingSections): string {
  const s = spikes.options;
  return [
    '**Generating spikes.**',
    '',
    ...verdicts(spikes, 'period'),
    '',
    '**Telling intervals apart.**',
    '',
    ...verdicts(intervals, 'K'),
    '',
    `A spike run counts as solved when ${Math.round(100 * TIMING_SOLVED_SHARE)}% of ${TIMING_VALIDATION_SIZE} validation sequences have every spike, and no other output, on the right step (output above 0.5); an interval run when ${Math.round(100 * TIMING_SOLVED_SHARE)}% of them are classified right (chance is 50%). Test shares count ${TIMING_TEST_SIZE} further held-out sequences the same way; training stops once a run is solved.`,
    '',
    '### Why: what the nets time with',
    '',
    'Each trained net is taken apart on its test sequences (src/experiments/timing-probe.ts): its share right again with W_hh set to zero and with the peephole weights set to zero, the peepholes\' share of what each gate reads about the past (Σ|w_c ⊙ c| against Σ|W_h h|), the mean output gate, and the weights\' sizes. Success against the budget comes from the step at which each run was solved.',
    '',
    '*Spikes*, runs solved within each budget:',
    '',
    timingBudgetTableOf(spikes),
    '',
    ...probeFindings(spikes),
    ...spikeFailures(spikes),
    '',
    '*Intervals*, runs solved within each budget:',
    '',
    timingBudgetTableOf(intervals),
    '',
    ...probeFindings(intervals),
    '',
    inShort(spikes, intervals),
    '',
    `**Against Gers, Schraudolph & Schmidhuber (2002).** They report that LSTM with peephole connections learns to tell spike intervals of 49 and 50 steps apart and to generate stable streams of precisely timed spikes without teacher forcing, where LSTM without peepholes did worse in their comparisons. Ours are simplified versions at much shorter periods (spikes ${s.periods.join(', ')}; intervals K = ${intervals.options.periods.join(', ')} against K + 1; theirs ~50): for spikes one trigger at a random step of the first period, then ${s.cycles} spikes, one per period, judged step-exact over whole sequences; for intervals two spikes, read out at the end. Both train by Adam (lr ${s.lr}, gradients clipped to norm 1) on batches of ${s.batch} for at most ${s.steps} steps${intervals.options.steps === s.steps ? '' : ` (intervals ${intervals.options.steps})`} with about ${s.parameters} parameters per model (PyTorch's LSTM with a forget gate and two biases), rather than their online training of small networks over far more sequences. The probes above say what our nets time with at this budget; they do not test the paper's longer periods.`,
  ].join('\n');
}

const timingBudgetTableOf = (result: TimingResult): string => timingBudgetTable(result, budgetCuts(result));
