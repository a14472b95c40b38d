#!/usr/bin/env node
/**
 * Generates docs/results.md: runs the CLI commands listed below exactly as a user would, times them
 * on this machine, evaluates each run with `recurrent eval --json`, and writes the figures. Nothing
 * in the document is typed by hand.
 *
 *   node scripts/results.mjs                     # the full budget (the text model trains 15 minutes)
 *   node scripts/results.mjs --text-minutes 3    # a shorter text budget, stated as such in the doc
 *   node scripts/results.mjs --quick             # a smoke test of the script itself (minutes, not figures)
 *   node scripts/results.mjs --doc-only          # rewrite the document from runs/results/results.json
 *   node scripts/results.mjs --reeval            # re-run only `recurrent eval --json` on those runs, then rewrite
 *
 * Long: run it in the background, e.g. `nohup node scripts/results.mjs > runs/results.log 2>&1 &`.
 * Runs go to runs/results/ (git-ignored); the figures so far are kept in runs/results/results.json,
 * and docs/results.md is written at the end, in one piece.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = 'runs/results';

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const quick = process.argv.includes('--quick');
const textMinutes = Number(arg('--text-minutes', quick ? '0.3' : '15'));
const docPath = arg('--doc', 'docs/results.md');
const steps = (n) => String(quick ? Math.max(20, Math.round(n / 10)) : n);

/** The experiments: the arguments after `recurrent`, exactly as the document shows them. */
const SERIES = ['AirPassengers', 'sunspot.month', 'sunspot.year', 'co2', 'nottem'];
const experiments = [
  { section: 'series', name: 'sine', args: ['train', 'series', '--data', 'sine', '--cell', 'rnn', '--hidden', '32', '--seq-len', '20', '--steps', steps(300)] },
  ...SERIES.map((s) => ({ section: 'series', name: s, args: ['train', 'series', '--data', `data/series/${s}.csv`, '--steps', steps(600)] })),
  {
    section: 'text', name: 'austen',
    args: ['train', 'text', '--hidden', '256', '--seq-len', '64', '--batch', '32', '--lr', '0.003', '--time-limit', String(textMinutes), '--val-every', quick ? '20' : '250'],
  },
  { section: 'music', name: 'mono', args: ['train', 'music', '--encoding', 'mono', '--steps', steps(800)] },
  { section: 'music', name: 'poly', args: ['train', 'music', '--encoding', 'poly', '--steps', steps(800)] },
  { section: 'denoise', name: 'sine-mixture', args: ['train', 'denoise', '--hidden', '64', '--steps', steps(1000)] },
  { section: 'denoise', name: 'sunspot.month', args: ['train', 'denoise', '--data', 'data/series/sunspot.month.csv', '--hidden', '64', '--steps', steps(1000)] },
];

/** Runs `recurrent <args>` from the source tree; resolves with the output and the wall-clock seconds. */
function recurrent(args, { echo = false } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      if (echo) process.stdout.write(d);
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) reject(new Error(`recurrent ${args.join(' ')} exited with ${code}:\n${stderr}`));
      else resolve({ stdout, seconds });
    });
  });
}

function lastJson(stdout) {
  return JSON.parse(stdout.trim().split('\n').pop());
}

/** Steps and training seconds from the run's history.csv (the last row). */
function historyEnd(dir) {
  const rows = readFileSync(join(ROOT, dir, 'history.csv'), 'utf8').trim().split('\n');
  const [step, , , , time] = rows[rows.length - 1].split(',');
  return { steps: Number(step), trainSeconds: Number(time) };
}

const reeval = process.argv.includes('--reeval');
// --reeval keeps the recorded runs (their wall time and steps) and replaces only their evaluations.
const docOnly = process.argv.includes('--doc-only') || reeval;
const results = docOnly ? JSON.parse(readFileSync(join(ROOT, RUNS, 'results.json'), 'utf8')) : [];
const saveProgress = () => {
  mkdirSync(join(ROOT, RUNS), { recursive: true });
  writeFileSync(join(ROOT, RUNS, 'results.json'), JSON.stringify(results, null, 2));
};

for (const e of docOnly ? [] : experiments) {
  const dir = `${RUNS}/${e.section}-${e.name}`;
  console.log(`\n== recurrent ${e.args.join(' ')}`);
  const run = await recurrent([...e.args, '--out', dir, '--force'], { echo: true });
  const evaluation = lastJson((await recurrent(['eval', e.section, '--model', dir, '--json'])).stdout);
  results.push({ ...e, dir, quick, wallSeconds: run.seconds, ...historyEnd(dir), evaluation });
  saveProgress();
}

if (reeval) {
  for (const r of results) {
    // The demo's figure is its character model's, in the text/ folder of the demo run.
    const [task, dir] = r.section === 'demo' ? ['text', `${r.dir}/text`] : [r.section, r.dir];
    console.log(`== recurrent eval ${task} --model ${dir} --json`);
    r.evaluation = lastJson((await recurrent(['eval', task, '--model', dir, '--json'])).stdout);
  }
  saveProgress();
}

if (!docOnly) {
  console.log('\n== recurrent demo');
  const demo = await recurrent(['demo', '--out', `${RUNS}/demo`], { echo: true });
  const evaluation = lastJson((await recurrent(['eval', 'text', '--model', `${RUNS}/demo/text`, '--json'])).stdout);
  results.push({ section: 'demo', name: 'demo', args: ['demo'], dir: `${RUNS}/demo`, wallSeconds: demo.seconds, evaluation });
  saveProgress();
}

// ---- the document ----
const f = (x, digits = 2) => (x === null || x === undefined ? 'n/a' : Number(x).toFixed(digits));
const secs = (s) => (s < 90 ? `${s.toFixed(0)} s` : `${(s / 60).toFixed(1)} min`);
const cmd = (r) => `\`recurrent ${r.args.join(' ')}\``;
const of = (section) => results.filter((r) => r.section === section);
const wasQuick = results.some((r) => r.quick);
const text = of('text')[0];
const budget = text ? Number(text.args[text.args.indexOf('--time-limit') + 1]) : NaN;
const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim() || 'unknown';
const cpu = cpus();
const lines = [];
const out = (...xs) => lines.push(...xs);
/** The part of the data the evaluations scored ('test' when the runs hold one), as the eval JSON names it. */
const scored = results.find((r) => r.evaluation?.split)?.evaluation.split ?? 'validation';
/** "validation 20 %, test 10 %" from a run's recorded split points (config.json's summary). */
function heldOut(r) {
  const s = JSON.parse(readFileSync(join(ROOT, r.dir, 'config.json'), 'utf8')).summary ?? {};
  const total = s.length ?? s.characters ?? s.totalSteps;
  if (!(total > 0) || s.splitIndex == null) return null;
  const pct = (n) => `${Math.round((100 * n) / total)} %`;
  return s.testIndex == null ? `validation ${pct(total - s.splitIndex)}` : `validation ${pct(s.testIndex - s.splitIndex)}, then test ${pct(total - s.testIndex)}`;
}
const heldOutOf = (runs) => [...new Set(runs.map(heldOut).filter((h) => h !== null))].join('; or ') || 'see config.json';

out(
  '# Results',
  '',
  `Generated by \`node scripts/results.mjs${wasQuick ? ' --quick' : ''}${budget !== 15 && !wasQuick ? ` --text-minutes ${budget}` : ''}\` on ${new Date().toISOString().slice(0, 10)} (commit ${git}); do not edit by hand.`,
  `Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, Node ${process.version}, load average ${loadavg().map((x) => x.toFixed(1)).join(' / ')} at the end.`,
  `Every figure comes from \`recurrent eval <task> --model <run> --json\` on the run's own ${scored} split, using the best checkpoint. ${scored === 'test' ? 'The test split is the chronological tail of the data; the validation split just before it chose the best checkpoint, so the model never trained on the test part nor was chosen by it.' : 'The validation split is the chronological tail of the data.'} The split points are recorded in each run's config.json.`,
  '"Time" is the wall-clock time of the train command, process start to exit (training, validation, checkpoints and plots).',
  'All runs use seed 0; the runs are in `runs/results/`.',
  '',
);
if (wasQuick) out('**Quick mode: budgets cut tenfold to test the script. These are not the project\'s figures.**', '');

out(
  '## Series: next-value prediction',
  '',
  `One-step-ahead forecasts of the ${scored} part of each series (held out at the end: ${heldOutOf(of('series'))}), on the original scale, against three simple forecasts: the last value; the value one season earlier (season = the data's frequency: 12 for monthly series; yearly series have none); and Holt-Winters (additive trend and season, as \`recurrent forecast\` fits it), fitted on the values before the scored part only and then updated with each actual value, one step ahead like the model. The sine row is the classic first exercise (a 1-layer RNN, sequences of 20 steps); a pure sine repeats itself exactly every period, so the seasonal forecast and Holt-Winters are exact there and are not counted as competitors.`,
  '',
  '| data | command | time | RMSE model | RMSE last value | RMSE seasonal | RMSE Holt-Winters | MAE model | MAE last value | MAE Holt-Winters | beats all three |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
);
/** "yes", or "**no** (loses to …)", naming the baselines that do not apply to this series and why. */
function seriesVerdict(r) {
  const m = r.evaluation;
  const frequency = JSON.parse(readFileSync(join(ROOT, r.dir, 'config.json'), 'utf8')).summary?.frequency ?? 1;
  // Runs evaluated before the seasonal forecast of a pure sine was reported as exact (null) carry its ~0 RMSE.
  const exact = m.rmse_seasonal === null ? frequency >= 2 : m.rmse_seasonal < 1e-9;
  const baselines = [
    ['last value', m.rmse_last],
    ['seasonal', exact ? null : m.rmse_seasonal],
    ['Holt-Winters', exact ? null : m.rmse_holt_winters],
  ].filter(([, rmse]) => rmse !== null && rmse !== undefined);
  const lostTo = baselines.filter(([, rmse]) => !(m.rmse < rmse)).map(([name]) => name);
  const notes = [];
  if (frequency < 2) notes.push('no season: no seasonal or Holt-Winters baseline');
  else if (exact) notes.push('the seasonal and Holt-Winters forecasts of a pure sine are exact');
  else if (m.rmse_holt_winters === null || m.rmse_holt_winters === undefined) notes.push('no Holt-Winters figure for this run');
  const note = notes.length ? ` (${notes.join('; ')})` : '';
  return lostTo.length === 0 ? `yes${note}` : `**no** (loses to ${lostTo.join(', ')})${note}`;
}
for (const r of of('series')) {
  const m = r.evaluation;
  out(`| ${r.name} | ${cmd(r)} | ${secs(r.wallSeconds)} | ${f(m.rmse, 3)} | ${f(m.rmse_last, 3)} | ${f(m.rmse_seasonal, 3)} | ${f(m.rmse_holt_winters, 3)} | ${f(m.mae, 3)} | ${f(m.mae_last, 3)} | ${f(m.mae_holt_winters, 3)} | ${seriesVerdict(r)} |`);
}
out('', 'Plots: `prediction.svg` (prediction in blue over target in red), `training-progress.svg` (the same at steps 0, 5 %, 20 % and 100 %), `loss.svg` in each run folder.', '');

out(
  '## Text: character-level language model on Jane Austen',
  '',
  `The shipped novels (data/text/, ${text ? 'both files' : ''}), held out at the end: ${text ? heldOutOf([text]) : ''}. Bits per character of the ${scored} text; a uniform guess over the vocabulary scores log2(vocabulary size).`,
  '',
  `| command | training budget | steps | time | ${scored} bits per character |`,
  '|---|---|---|---|---|',
);
if (text) out(`| ${cmd(text)} | ${budget} min${budget < 15 ? ' (**shorter than the 15 minutes asked for**)' : ''} | ${text.steps} | ${secs(text.wallSeconds)} | ${f(text.evaluation.bpc, 3)} |`);
if (text) {
  const sample = readFileSync(join(ROOT, text.dir, 'sample.txt'), 'utf8').slice(0, 400);
  out('', 'The first 400 characters of `sample.txt` (temperature 0.8, written at the end of training):', '', '```text', sample.trimEnd(), '```');
}
out('');

out(
  '## Music: next step of the pianobooster pieces',
  '',
  `The 13 shipped pianobooster pieces on a grid of sixteenth notes, laid end to end with a bar of rest between them; held out at the end: ${heldOutOf(of('music'))}. Negative log-likelihood per time step in nats: for mono, of the melody class (pitch, rest or hold); for poly, summed over the pitches of the piano roll. The two encodings are different problems, so their figures do not compare with each other.`,
  '',
  `| encoding | command | time | ${scored} NLL per step |`,
  '|---|---|---|---|',
);
for (const r of of('music')) out(`| ${r.name} | ${cmd(r)} | ${secs(r.wallSeconds)} | ${f(r.evaluation.nll, 3)} |`);
out('', 'Each run folder holds `example.svg` (a training piece), `sample.mid` and `sample.svg` (a generated continuation).', '');

out(
  '## Denoise: an RNN averaging noisy samples',
  '',
  `Signals of 64 samples plus Gaussian noise at 5 dB SNR; the bidirectional GRU outputs the clean signal. SNR of the ${scored} signals before denoising, after, and after the best centred moving average (window chosen on the scored signals themselves, which favours the baseline).`,
  '',
  '| signal | command | time | SNR in | SNR out (RNN) | SNR moving average (window) | gain over input | gain over moving average |',
  '|---|---|---|---|---|---|---|---|',
);
for (const r of of('denoise')) {
  const m = r.evaluation;
  out(`| ${r.name} | ${cmd(r)} | ${secs(r.wallSeconds)} | ${f(m.snr_in_db)} dB | ${f(m.snr_out_db)} dB | ${f(m.snr_moving_average_db)} dB (${m.moving_average_window}) | ${f(m.snr_out_db - m.snr_in_db)} dB | ${f(m.snr_out_db - m.snr_moving_average_db)} dB |`);
}
out('');

const d = of('demo')[0];
if (d) out('## The demo', '', `| command | time | character model, ${d.evaluation.split ?? 'validation'} bits per character |`, '|---|---|---|', `| \`recurrent demo\` | ${secs(d.wallSeconds)} | ${f(d.evaluation.bpc, 3)} |`, '');

const target = resolve(ROOT, docPath);
mkdirSync(dirname(target), { recursive: true });
writeFileSync(`${target}.tmp`, lines.join('\n'));
renameSync(`${target}.tmp`, target);
console.log(`\nwrote ${docPath}`);
