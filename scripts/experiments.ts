/**
 * Generates docs/experiments.md, its plots (docs/experiments/*.svg) and every run's numbers
 * (docs/experiments/results.json) by running the experiments of src/experiments with the budget below.
 * Every figure and every sentence that states a result is computed here; nothing is typed by hand.
 *
 *   node --import tsx scripts/experiments.ts        (npm run experiments)
 */
import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import '../src/ops/index.js';
import {
  activationExperiment, activationPlot, activationTable, addingExperiment, addingPlot, addingRunsTable, addingTable,
  gradflowExperiment, gradflowPlot, gradflowTable, musicExperiment, musicPlot, musicTable, timingExperiment, timingPlot, timingProbeTable, timingTable,
  type TimingOptions, type ActivationOptions, type AddingOptions, type AddingResult, type GradflowOptions,
  type GradflowResult, type ActivationResult, type MusicOptions, type MusicResult, CHUNG_2014_JSB_TEST_NLL,
} from '../src/experiments/index.js';
import { readChorales } from '../src/data/files.js';
import { writeFileAtomic } from '../src/io/files.js';
import { timingNotes, type TimingSections } from './timing-notes.js';

// The budget: minutes per experiment on a busy two-core machine.
const ADDING: AddingOptions = { lengths: [50, 100, 200], steps: 4000, seeds: 2 };
const GRADFLOW: GradflowOptions = { length: 1000, trainLength: 50, trainSteps: 1500 };
const ACTIVATION: ActivationOptions = { length: 50, steps: 800, seeds: 2 };
const TIMING_SPIKES: TimingOptions = { task: 'spikes', periods: [10, 15, 20], cycles: 4, steps: 3000, seeds: 3 };
const TIMING_INTERVALS: TimingOptions = { task: 'intervals', periods: [5, 10, 15], steps: 3000, seeds: 3 };
const MUSIC: Omit<MusicOptions, 'data'> = { epochs: 20, patience: 4, seeds: 2, batch: 8, lr: 0.02 };

/** Each section's command, from the options its result records (so a kept section shows its own). */
const commandLine = {
  adding: (o: AddingResult['options']) => `recurrent experiment adding --lengths ${o.lengths.join(',')} --steps ${o.steps} --seeds ${o.seeds}`,
  gradflow: (o: GradflowResult['options']) => `recurrent experiment gradflow --length ${o.length} --train-length ${o.trainLength} --train-steps ${o.trainSteps}`,
  activation: (o: ActivationResult['options']) => `recurrent experiment activation --length ${o.length} --steps ${o.steps} --seeds ${o.seeds}`,
  music: (o: MusicResult['options']) => `recurrent experiment music --epochs ${o.epochs} --patience ${o.patience} --seeds ${o.seeds} --batch ${o.batch} --lr ${o.lr}`,
  timing: ({ spikes: { options: s }, intervals: { options: i } }: TimingSections) => `recurrent experiment timing --task spikes --periods ${s.periods.join(',')} --cycles ${s.cycles} --steps ${s.steps} --seeds ${s.seeds}\` and \`recurrent experiment timing --task intervals --periods ${i.periods.join(',')} --steps ${i.steps} --seeds ${i.seeds}`,
};

type SectionName = keyof typeof commandLine;
const SECTIONS = Object.keys(commandLine) as SectionName[];

/**
 * `npm run experiments -- --only music,timing` reruns only those sections and keeps the others from
 * docs/experiments/results.json (their runs, seconds and the run they came from, which the page names),
 * for a machine too busy to rerun everything.
 */
function onlySections(args: readonly string[]): SectionName[] | null {
  const at = args.indexOf('--only');
  if (at < 0) return null;
  const names = (args[at + 1] ?? '').split(',').filter((n) => n !== '');
  const unknown = names.filter((n) => !SECTIONS.includes(n as SectionName));
  if (names.length === 0 || unknown.length > 0) throw new Error(`--only: expected sections among ${SECTIONS.join(', ')}, got "${args[at + 1] ?? ''}"`);
  return names as SectionName[];
}
const only = onlySections(process.argv.slice(2));
const previous = only === null ? null : JSON.parse(readFileSync('docs/experiments/results.json', 'utf8')) as Record<string, unknown> & {
  startedAt: string; commit: string; machine: string; seconds: Record<string, number>; sources?: Record<string, RunSource>;
};

interface RunSource {
  startedAt: string;
  commit: string;
  machine: string;
}
/** The run each kept section came from, written to results.json so a later --only names it too. */
const sources: Partial<Record<SectionName, RunSource>> = {};

interface Section<T> {
  result: T;
  seconds: number;
  /** Where a section that was not rerun comes from. */
  kept: string | null;
}

function section<T>(name: SectionName, run: () => T): Section<T> {
  if (previous === null || only!.includes(name)) return { ...timed(name, run), kept: null };
  if (previous[name] === undefined) throw new Error(`--only: docs/experiments/results.json holds no ${name} results to keep; add ${name} to --only`);
  const from = previous.sources?.[name] ?? { startedAt: previous.startedAt, commit: previous.commit, machine: previous.machine };
  sources[name] = from;
  return { result: previous[name] as T, seconds: previous.seconds[name]!, kept: `kept from the run of ${from.startedAt.slice(0, 16).replace('T', ' ')} UTC at commit ${from.commit}, whose machine line was: ${from.machine}` };
}

const keptNote = (s: Section<unknown>): string => (s.kept === null ? '' : `\n\nNot rerun this time: ${s.kept}.`);

function timed<T>(label: string, run: () => T): { result: T; seconds: number } {
  const started = performance.now();
  process.stderr.write(`${label}...\n`);
  const result = run();
  return { result, seconds: (performance.now() - started) / 1000 };
}

const list = (items: readonly (string | number)[]): string => (items.length === 0 ? 'none' : items.join(', '));

/** Which lengths a cell solved in at least half its seeds, and which it did not. */
function solvedLengths(result: AddingResult, cell: string): { solved: number[]; unsolved: number[] } {
  const rows = result.summary.filter((s) => s.cell === cell);
  return { solved: rows.filter((s) => s.successRate >= 0.5).map((s) => s.length), unsolved: rows.filter((s) => s.successRate < 0.5).map((s) => s.length) };
}

function addingNotes(result: AddingResult): string {
  const o = result.options;
  const sequences = o.steps * o.batch;
  const lines = o.cells.map((cell) => {
    const { solved, unsolved } = solvedLengths(result, cell);
    const worst = result.summary.filter((s) => s.cell === cell).map((s) => `T = ${s.length}: ${s.solved}/${s.seeds}`).join('; ');
    return `- **${cell}** solved (in at least half the seeds) T = ${list(solved)}; not within the budget: T = ${list(unsolved)} (${worst}).`;
  });
  const rnnLong = result.summary.filter((s) => s.cell === 'rnn' && s.length >= 100);
  const rnnSentence = rnnLong.length === 0 ? 'No tanh RNN was run at T ≥ 100.'
    : rnnLong.every((s) => s.meanTestMse > 0.1) ? `The tanh RNN stays near the mean-predictor MSE of 1/6 at T = ${list(rnnLong.map((s) => s.length))}, as the claim says.`
    : `The tanh RNN does not stay at the 1/6 baseline at every T ≥ 100 here (mean test MSE ${rnnLong.map((s) => `${s.meanTestMse.toFixed(3)} at T = ${s.length}`).join(', ')}).`;
  const longest = Math.max(...o.lengths);
  return [
    ...lines,
    '',
    rnnSentence,
    '',
    `**Against H&S 1997, Table 7.** Their LSTM (93 weights, no forget gate) solved T = 100 after 74,000 training sequences, T = 500 after 209,000 and T = 1000 after 853,000 (1, 0 and 1 wrong predictions out of 2560 test sequences, an error counting as wrong above 0.04). Our budget is ${o.steps} steps of ${o.batch} sequences, at most ${sequences.toLocaleString('en')} sequences per run, and the longest T run here is ${longest}` +
      (longest < 500 ? ', so T = 500 and 1000 are not reproduced by this document: a run there takes far longer than minutes on this machine (`recurrent experiment adding --lengths 500,1000 --steps 30000` asks for it).' : '.'),
    '',
    'Where our set-up differs from theirs, and why:',
    '- *The task* is the variant of Le et al. (2015) and Arjovsky et al. (2016) that later papers use: values in [0, 1], one marker in each half of a sequence of exactly T steps, the target the plain sum. H&S draw values from [-1, 1], mark one of the first ten steps and one before T/2, vary the length between T and 1.1 T and scale the target to 0.5 + (X1 + X2)/4. Their scaling divides errors by 4, so their 0.04 absolute error is about our 0.16; our threshold (validation MSE below 0.01, i.e. a typical error of 0.1) is the one the later papers use.',
    '- *The models* are PyTorch\'s cells (the LSTM has a forget gate, which H&S 1997 did not) at about equal parameter count (~' + o.parameters + ') trained by Adam (lr ' + o.lr + ', gradients clipped to norm ' + o.clip + ') on batches of ' + o.batch + ', not online gradient descent with truncated gradients.',
    '- *Solved* means the validation MSE (' + o.validationSize + ' sequences of their own seed) fell below ' + o.threshold + ' at an evaluation (every ' + o.evalEvery + ' steps); the run stops there and its test MSE is measured on ' + o.testSize + ' fresh test sequences. A run that never gets there trains for the whole budget.',
  ].join('\n');
}

function gradflowNotes(result: GradflowResult): string {
  const lost = (cell: string, stage: string) => result.curves.find((c) => c.cell === cell && c.stage === stage);
  const lines = ['rnn', 'lstm', 'gru'].map((cell) => {
    const init = lost(cell, 'initialisation');
    const trained = lost(cell, 'trained');
    if (!init) return '';
    const back = Math.min(100, init.norms.length - 1);
    const far = (c: typeof init) => c.norms[c.norms.length - 1]! / Math.max(c.norms[c.norms.length - 1 - back]!, 1e-45);
    return `- **${cell}**: over the ${back} steps before the loss, ‖dL/dh_t‖ falls by 10^${Math.log10(far(init)).toFixed(1)} at initialisation` +
      (trained ? ` and by 10^${Math.log10(far(trained)).toFixed(1)} after training (adding-problem test MSE ${trained.trainedMse!.toFixed(4)} at T = ${result.options.trainLength})` : '') + '.';
  }).filter((l) => l !== '');
  return [
    ...lines,
    '',
    'Why the LSTM loses it too at initialisation: with PyTorch\'s initialisation its forget gate sits near σ(0) = 0.5, so the cell state passes back about half the gradient per step; the claim that an LSTM carries gradients across long lags is about what its gates can learn (a forget gate near 1 passes the gradient on unchanged). Compare the trained curves with each model\'s MSE above: only a model that solved the adding problem had a reason to learn that. Gradients smaller than float32 can hold (about 1e-45) show as gaps in the plot and count as 1e-45 in the table\'s last decades column.',
    '',
    'How it is measured: the loss is the adding-problem MSE at the last step of one batch of ' + result.options.batch + ' sequences; the layer runs one step per call (the same fused kernel), each step\'s h passes through an identity op that records the norm of the gradient flowing back through it, and one backward pass fills every t. The test suite checks these norms against dLoss/dh0 of the rest of the sequence run from h_t.',
  ].join('\n');
}

function activationNotes(result: ActivationResult): string {
  const lines = result.options.tasks.map((task) => {
    const rows = result.summary.filter((s) => s.task === task).sort((a, b) => a.meanTestMse - b.meanTestMse);
    const baseline = rows[0]!.baselineMse;
    const beating = rows.filter((r) => r.meanTestMse < 0.5 * baseline);
    const verdict = beating.length === 0 ? 'none beats the baseline clearly (half its MSE), so this budget does not tell them apart'
      : beating.length === 1 ? `only ${beating[0]!.cell} beats the baseline clearly (half its MSE)`
      : `${beating.length === rows.length ? (rows.length === 2 ? 'both' : 'all') : beating.map((r) => r.cell).join(' and ')} beat the baseline clearly (half its MSE); the lowest mean is ${rows[0]!.cell}'s, by a factor of ${(rows[1]!.meanTestMse / rows[0]!.meanTestMse).toFixed(2)} over the next`;
    return `- **${task}**: ${rows.map((r) => `${r.cell} mean test MSE ${r.meanTestMse.toPrecision(3)}`).join(', ')}; baseline ${baseline.toPrecision(3)}: ${verdict}.`;
  });
  return [
    ...lines,
    '',
    'Parity note: PyTorch\'s RNN offers tanh and relu only; rnn-sigmoid uses `nonlinearity: \'sigmoid\'`, our documented extension (docs/from-pytorch.md), in the same kernels.',
  ].join('\n');
}

function musicNotes(result: MusicResult): string {
  const o = result.options;
  const cell = (name: string) => result.summary.find((s) => s.cell === name);
  const nll = (v: number) => v.toFixed(2);
  const rnn = cell('rnn');
  const verdicts = ['gru', 'lstm'].flatMap((name) => {
    const gated = cell(name);
    if (!gated || !rnn) return [];
    const margin = rnn.mean.test - gated.mean.test;
    const everySeed = gated.testRange[1] < rnn.testRange[0];
    return [`- **${name}** against the tanh RNN: mean test NLL ${nll(gated.mean.test)} against ${nll(rnn.mean.test)}, ` +
      (margin > 0 ? `lower by ${nll(margin)} nats per step${everySeed ? ', and every seed of it below every tanh seed' : ', but the seeds overlap'}` : `not lower (by ${nll(-margin)} nats per step the other way)`) +
      `; published: ${nll(gated.published!)} against ${nll(rnn.published!)}.`];
  });
  const unigram = result.baselines.unigram.test;
  const beaten = result.summary.filter((s) => s.mean.test < unigram).map((s) => s.cell);
  const runs = result.runs;
  const stoppedEarly = runs.filter((r) => r.epochs < o.epochs).length;
  const atBudget = runs.filter((r) => r.bestEpoch === o.epochs).length;
  return [
    ...verdicts,
    `- Against the baselines (test): per-note frequency ${nll(unigram)}, previous step ${nll(result.baselines.repeat.test)}; the models below the per-note frequency: ${list(beaten)}.`,
    `- Budget: ${stoppedEarly} of ${runs.length} runs stopped because validation NLL had not improved for ${o.patience} epochs; ${atBudget} chose the last epoch of the ${o.epochs}, so ${atBudget > 0 ? 'those were still improving and a longer budget would lower their figures' : 'none was cut short by the budget'}.`,
    '',
    `**Against Chung et al. (2014), Table 2.** Their test NLL on JSB: tanh ${nll(CHUNG_2014_JSB_TEST_NLL.rnn!)}, GRU ${nll(CHUNG_2014_JSB_TEST_NLL.gru!)}, LSTM ${nll(CHUNG_2014_JSB_TEST_NLL.lstm!)} (nats per time step), each model with about 20,000 parameters. The training-set figures of their Table 2 were not checked for this document, so they are not quoted.`,
    '',
    'Where our set-up differs from theirs, and why:',
    `- *Data*: the same chorales and split (Boulanger-Lewandowski et al. 2012, ${result.sizes.train.chorales} / ${result.sizes.valid.chorales} / ${result.sizes.test.chorales} chorales), from the JSON of github.com/czhuang/JSB-Chorales-dataset converted without change (data/music/jsb-chorales/README.md). Each chorale of T steps gives T - 1 predictions (step t + 1 from steps 1..t, from a zero state); the first step of a chorale is not scored, here or in the baselines: ${result.sizes.test.predictions} scored test steps. Whether they scored the first step is not stated in what we checked.`,
    `- *Models*: one recurrent layer of PyTorch's cells read at every step by a linear layer to 88 logits, hidden sizes ${result.summary.map((s) => `${s.cell} ${s.hidden}`).join(', ')} for about ${o.parameters} parameters each (${result.summary.map((s) => `${s.cell} ${s.parameters}`).join(', ')}), counting PyTorch's two bias vectors; their exact hidden sizes were not checked here.`,
    `- *Training*: Adam (lr ${o.lr}, gradients clipped to norm ${o.clip}) on batches of ${o.batch} whole chorales for at most ${o.epochs} epochs, the epoch chosen by validation NLL (stopping after ${o.patience} epochs without improvement), ${o.seeds} seeds per cell. Chung et al. trained with RMSProp and weight noise and chose hyper-parameters on validation, with a far larger budget than these minutes; our figures are those of a short run and should be read against each other and the baselines more than against theirs.`,
  ].join('\n');
}

const gitCommit = (() => {
  try {
    return execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
})();
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, load average ${loadavg()[0]!.toFixed(1)} at the start (the machine was shared)`;
const startedAt = new Date().toISOString();

const adding = section('adding', () => addingExperiment({ ...ADDING, onRun: (r) => process.stderr.write(`  ${r.cell} T=${r.length} seed ${r.seed}: ${r.solvedAt ?? 'not solved'} (${r.seconds.toFixed(1)} s)\n`) }));
const gradflow = section('gradflow', () => gradflowExperiment(GRADFLOW));
const activation = section('activation', () => activationExperiment(ACTIVATION));
const timing = section('timing', (): TimingSections => ({ spikes: timingExperiment(TIMING_SPIKES), intervals: timingExperiment(TIMING_INTERVALS) }));
const music = section('music', () => musicExperiment({
  ...MUSIC, data: readChorales(), onRun: (r) => process.stderr.write(`  ${r.cell} seed ${r.seed}: epoch ${r.bestEpoch}/${r.epochs}, test NLL ${r.nll.test.toFixed(2)} (${r.seconds.toFixed(1)} s)\n`),
}));

mkdirSync('docs/experiments', { recursive: true });
const encode = (s: string) => new TextEncoder().encode(s);
await writeFileAtomic('docs/experiments/adding.svg', encode(addingPlot(adding.result)));
await writeFileAtomic('docs/experiments/gradflow.svg', encode(gradflowPlot(gradflow.result)));
await writeFileAtomic('docs/experiments/activation.svg', encode(activationPlot(activation.result)));
await writeFileAtomic('docs/experiments/timing.svg', encode(timingPlot(timing.result.spikes)));
await writeFileAtomic('docs/experiments/timing-intervals.svg', encode(timingPlot(timing.result.intervals)));
await writeFileAtomic('docs/experiments/music.svg', encode(musicPlot(music.result)));
await writeFileAtomic('docs/experiments/results.json', encode(JSON.stringify({
  startedAt, machine, commit: gitCommit, sources,
  seconds: { adding: adding.seconds, gradflow: gradflow.seconds, activation: activation.seconds, timing: timing.seconds, music: music.seconds },
  adding: adding.result, gradflow: gradflow.result, activation: activation.result, timing: timing.result, music: music.result,
}) + '\n'));

const doc = `# Experiments: why gates matter

Generated by \`npm run experiments\` (scripts/experiments.ts) on ${startedAt.slice(0, 16).replace('T', ' ')} UTC at commit ${gitCommit}; do not edit by hand.
Machine: ${machine}.${only === null ? '' : ` Rerun this time: ${only.join(', ')}; the other sections say which run they come from.`} Every run's numbers: [experiments/results.json](experiments/results.json).

## The adding problem

\`${commandLine.adding(adding.result.options)}\` (${adding.seconds.toFixed(0)} s)${keptNote(adding)}

Two steps of a sequence of length T are marked; the target is the sum of their values. Predicting the
mean scores MSE 1/6 ≈ 0.167, so a model near that has learned nothing; the claim (Hochreiter &
Schmidhuber 1997, experiment 4) is that an LSTM learns it across long lags where a plain RNN cannot.

${addingTable(adding.result)}

![test MSE against T](experiments/adding.svg)

${addingNotes(adding.result)}

<details><summary>Every run</summary>

${addingRunsTable(adding.result)}

</details>

## Gradient flow through time

\`${commandLine.gradflow(gradflow.result.options)}\` (${gradflow.seconds.toFixed(0)} s)${keptNote(gradflow)}

The norm of dLoss/dh_t at every step of one sequence of length ${gradflow.result.options.length}, the loss read at the last
step, for each cell at initialisation (dashed) and after training on the adding problem at
T = ${gradflow.result.options.trainLength} (at most ${gradflow.result.options.trainSteps} steps, stopping once solved).

${gradflowTable(gradflow.result)}

![gradient norm against t, log scale](experiments/gradflow.svg)

${gradflowNotes(gradflow.result)}

## RNN nonlinearity: tanh against sigmoid and relu

\`${commandLine.activation(activation.result.options)}\` (${activation.seconds.toFixed(0)} s)${keptNote(activation)}

The same one-layer RNN with tanh, sigmoid and relu units at equal size, on the adding problem and on
continuing a sine wave of unknown frequency and phase (the baseline there repeats the last value).

${activationTable(activation.result)}

![validation MSE during training](experiments/activation.svg)

${activationNotes(activation.result)}

## Timing: LSTM with and without peepholes

\`${commandLine.timing(timing.result)}\` (${timing.seconds.toFixed(0)} s)${keptNote(timing)}

Two tasks after Gers, Schraudolph & Schmidhuber (2002). *Spikes*: one input spike at a random step of
the first period; the network must then spike every period on its own, exactly on time. *Intervals*:
two input spikes K or K + 1 steps apart, the first at a random step of the first K; at the end of the
sequence the network must say which interval it saw. Peepholes let the gates read the cell state,
which can serve as a clock; without them the gates see it only through h = o ⊙ tanh(c).

${timingTable(timing.result.spikes)}

![share of test sequences right against the period](experiments/timing.svg)

${timingTable(timing.result.intervals)}

![share of test sequences classified right against K](experiments/timing-intervals.svg)

${timingNotes(timing.result)}

<details><summary>Every run, taken apart</summary>

Spikes ("spike k on time": share of test sequences with their k-th spike on its step):

${timingProbeTable(timing.result.spikes)}

Intervals:

${timingProbeTable(timing.result.intervals)}

</details>

## Gated against tanh units on Bach chorales

\`${commandLine.music(music.result.options)}\` (${music.seconds.toFixed(0)} s)${keptNote(music)}

Each model reads a chorale one quarter-note step at a time (88 keys, 1 where a key sounds) and gives
each key of the next step a probability (a sigmoid per key); its score is the negative log-likelihood
of what Bach wrote, summed over the 88 keys and averaged over every scored step of the held-out
chorales (nats per time step, lower is better). The claim (Chung et al. 2014) is that GRU and LSTM
units model these chorales better than tanh units of the same parameter count.

${musicTable(music.result)}

![validation NLL per epoch](experiments/music.svg)

${musicNotes(music.result)}
`;
await writeFileAtomic('docs/experiments.md', encode(doc));
process.stderr.write(`wrote docs/experiments.md; rerun: ${(only ?? SECTIONS).join(', ')}\n`);
