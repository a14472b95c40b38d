// End to end, as a user runs it: `recurrent train <task>` on small real data for a few steps, then
// the commands that use the run. Checks the files written, that the loss fell, and that every
// output parses: config and checkpoints, well-formed SVG, MIDI re-read by the MIDI library, and the
// one-JSON-object-per-line output of --json.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runCli, type CliRun } from './helpers/cli.js';
import { after, test } from 'node:test';
import tonejs from '@tonejs/midi';
import { readSafetensorsMetadata } from '../src/io/index.js';
import { readSeriesFile, shippedDataPath } from '../src/data/files.js';
import { holtWintersBaseline } from '../src/tasks/index.js';

const TMP = mkdtempSync(join(tmpdir(), 'recurrent-cli-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

const cli = (...args: string[]): Promise<CliRun> => runCli(args);

function ok(run: CliRun, what: string): CliRun {
  assert.equal(run.code, 0, `${what} failed (exit ${run.code}):\n${run.stderr}`);
  return run;
}

/**
 * A small well-formedness check (no XML library in the dependencies): tags nest and close, attribute
 * values are quoted, and '&' only starts an entity. Returns the root element's name.
 */
function checkXml(xml: string, file: string): string {
  const stack: string[] = [];
  let root = '';
  const token = /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>|<|&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/g;
  for (const m of xml.matchAll(token)) {
    if (m[0].startsWith('<!--') || m[0].startsWith('<?')) continue;
    if (m[0] === '<' || m[0] === '&') assert.fail(`${file}: stray '${m[0]}' at offset ${m.index}`);
    const [, closing, name, attributes, selfClosing] = m;
    for (const value of (attributes ?? '').matchAll(/=\s*"([^"]*)"/g)) {
      assert.ok(!/&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(value[1]!), `${file}: bad '&' in an attribute of <${name}>`);
    }
    if (closing) assert.equal(stack.pop(), name, `${file}: </${name}> closes the wrong element`);
    else if (!selfClosing) stack.push(name!);
    if (!root) root = name!;
    if (stack.length === 0 && closing) assert.equal(xml.slice(m.index! + m[0].length).trim(), '', `${file}: content after the root element`);
  }
  assert.deepEqual(stack, [], `${file}: unclosed elements`);
  return root;
}

function readHistory(dir: string): { step: number; loss: number; val: number | null }[] {
  const lines = readFileSync(join(dir, 'history.csv'), 'utf8').trim().split('\n');
  assert.equal(lines[0], 'step,loss,val_loss,lr,time');
  return lines.slice(1).map((l) => {
    const [step, loss, val] = l.split(',');
    return { step: Number(step), loss: Number(loss), val: val ? Number(val) : null };
  });
}

/** The mean loss of the last few steps is below that of the first few. */
function assertLossFell(dir: string, steps: number, window = 5): void {
  const rows = readHistory(dir);
  assert.deepEqual(rows.map((r) => r.step), Array.from({ length: steps }, (_, i) => i + 1));
  const mean = (xs: typeof rows) => xs.reduce((s, r) => s + r.loss, 0) / xs.length;
  const first = mean(rows.slice(0, window));
  const last = mean(rows.slice(-window));
  assert.ok(last < first, `loss should fall: first ${window} steps ${first}, last ${window} ${last}`);
}

function assertRunFolder(dir: string, task: string, svgs: string[]): Record<string, unknown> {
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(config.format, 'recurrent-run');
  assert.equal(config.version, 1);
  assert.equal(config.task, task);
  for (const key of ['model', 'training', 'data', 'summary']) assert.equal(typeof config[key], 'object', `config.${key}`);
  for (const name of ['latest.safetensors', 'best.safetensors']) {
    const meta = readSafetensorsMetadata(readFileSync(join(dir, name)));
    assert.equal(meta.format, 'recurrent-checkpoint', name);
  }
  for (const svg of ['loss.svg', ...svgs]) assert.equal(checkXml(readFileSync(join(dir, svg), 'utf8'), svg), 'svg');
  return config;
}

/** The last stdout line is one flat JSON object. */
function lastJson(stdout: string): Record<string, unknown> {
  assert.ok(stdout.endsWith('\n'));
  const last = stdout.trimEnd().split('\n').pop()!;
  const json = JSON.parse(last) as Record<string, unknown>;
  for (const [k, v] of Object.entries(json)) assert.ok(v === null || typeof v !== 'object', `${k} is not flat`);
  return json;
}

test('series on AirPassengers: run folder, eval against both baselines, forecast with a plot, info', async () => {
  const dir = join(TMP, 'series');
  const run = ok(await cli('train', 'series', '--data', 'data/series/AirPassengers.csv', '--steps', '60', '--val-every', '20', '--seed', '3', '--out', dir), 'train');
  assert.match(run.stdout, /trained 60 steps/);
  assertLossFell(dir, 60);
  const config = assertRunFolder(dir, 'series', ['prediction.svg', 'training-progress.svg']);
  assert.deepEqual(config.data, { synthetic: null, path: 'series/AirPassengers.csv', shipped: true, fingerprint: (config.data as { fingerprint: string }).fingerprint, files: ['series/AirPassengers.csv'] });
  const summary = config.summary as { splitIndex: number; testIndex: number; frequency: number; normalization: { type: string } };
  // 144 months: the last 14 (10%) for test, the 29 (20%) before them for validation.
  assert.equal(summary.splitIndex, 101);
  assert.equal(summary.testIndex, 130);
  assert.equal(summary.frequency, 12);
  assert.equal(summary.normalization.type, 'zscore');
  assert.equal(readHistory(dir).filter((r) => r.val !== null).length, 3);

  const evaluation = lastJson(ok(await cli('eval', 'series', '--model', dir, '--json'), 'eval').stdout);
  assert.equal(evaluation.task, 'series');
  for (const key of ['loss', 'rmse', 'mae', 'rmse_last', 'rmse_seasonal', 'rmse_holt_winters', 'mae_holt_winters']) assert.equal(typeof evaluation[key], 'number', key);
  assert.equal(evaluation.split, 'test', 'eval reports the held-out test part by default');
  // Holt-Winters on the same 14 test months, fitted on the 130 before them.
  const airPassengers = readSeriesFile(shippedDataPath('series/AirPassengers.csv')).values;
  const holtWinters = holtWintersBaseline(airPassengers, 130, 12);
  assert.equal(evaluation.rmse_holt_winters, holtWinters.score!.rmse);
  assert.equal(evaluation.holt_winters_form, holtWinters.form);
  assert.match(ok(await cli('eval', 'series', '--model', dir), 'eval (text)').stdout, /rmse_holt_winters\s+\d[\s\S]*holt_winters_form\s+additive trend and season/);
  const onValidation = lastJson(ok(await cli('eval', 'series', '--model', dir, '--split', 'validation', '--json'), 'eval --split validation').stdout);
  assert.equal(onValidation.split, 'validation');
  assert.notEqual(onValidation.rmse, evaluation.rmse);

  const plot = join(TMP, 'forecast.svg');
  const predicted = ok(await cli('predict', 'series', '--model', dir, '--horizon', '6', '--plot', plot), 'predict');
  const lines = predicted.stdout.trim().split('\n');
  assert.equal(lines[0], 'time,forecast,lower,upper');
  assert.equal(lines.length, 7);
  assert.deepEqual(lines.slice(1).map((l) => l.split(',')[0]), ['1961-01', '1961-02', '1961-03', '1961-04', '1961-05', '1961-06']);
  const rows = lines.slice(1).map((l) => l.split(',').slice(1).map(Number));
  assert.ok(rows.every(([f, lo, hi]) => lo! <= f! && f! <= hi! && hi! > lo!), lines.join('\n'));
  checkXml(readFileSync(plot, 'utf8'), 'forecast.svg');

  const info = ok(await cli('info', '--model', dir), 'info').stdout;
  assert.match(info, /parameters\s+4,\d{3}/);
  assert.match(info, /LSTM \(1 layer × 32 hidden\)/);
  assert.match(info, /60 steps in/);
  assert.match(info, /train \[0, 101\) \/ validation \[101, 130\) \/ test \[130, 144\)/);
});

test('text on a piece of Austen: bits per character, samples, and --json progress', async () => {
  const data = join(TMP, 'austen.txt');
  writeFileSync(data, readFileSync(join(ROOT, 'data/text/austen-persuasion.txt'), 'utf8').slice(0, 30_000));
  const dir = join(TMP, 'text');
  const run = ok(await cli('train', 'text', '--data', data, '--hidden', '48', '--seq-len', '32', '--batch', '8', '--steps', '40', '--val-every', '20', '--lr', '0.01', '--out', dir, '--json'), 'train');
  const events = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; step?: number; bpc?: number });
  assert.equal(events[0]!.event, 'start');
  assert.equal(events.filter((e) => e.event === 'step').length, 40);
  assert.deepEqual(events.filter((e) => e.event === 'validation').map((e) => e.step), [20, 40]);
  assert.ok(events.filter((e) => e.event === 'validation').every((e) => typeof e.bpc === 'number'));
  assert.equal(events[events.length - 1]!.event, 'done');
  assertLossFell(dir, 40);
  const config = assertRunFolder(dir, 'text', ['activations.svg']);
  assert.equal(typeof (config.summary as { vocabulary: { chars: string[] } }).vocabulary.chars[0], 'string');
  assert.ok(readFileSync(join(dir, 'sample.txt'), 'utf8').length > 500);

  const evaluation = lastJson(ok(await cli('eval', 'text', '--model', dir, '--json'), 'eval').stdout);
  assert.equal(evaluation.split, 'test');
  assert.ok((evaluation.bpc as number) > 1 && (evaluation.bpc as number) < 6.5, `bpc ${evaluation.bpc}`);
  // The best checkpoint was chosen on validation: its validation figure is the best one the run printed.
  const onValidation = lastJson(ok(await cli('eval', 'text', '--model', dir, '--split', 'validation', '--json'), 'eval --split validation').stdout);
  assert.equal(onValidation.bpc, events.filter((e) => e.event === 'validation').reduce((b, e) => Math.min(b, e.bpc!), Infinity));

  const generated = ok(await cli('generate', 'text', '--model', dir, '--prime', 'Anne', '--length', '50', '--seed', '4'), 'generate').stdout;
  assert.ok(generated.startsWith('Anne'));
  assert.equal(generated.length, 55);
  const again = ok(await cli('generate', 'text', '--model', dir, '--prime', 'Anne', '--length', '50', '--seed', '4', '--out', join(TMP, 'g.txt')), 'generate --out');
  assert.equal(readFileSync(join(TMP, 'g.txt'), 'utf8'), generated);
  assert.match(again.stdout, /wrote/);
});

test('music on the shipped MIDI: generated .mid files re-read with the MIDI library, piano rolls as SVG', async () => {
  const dir = join(TMP, 'music');
  ok(await cli('train', 'music', '--hidden', '32', '--seq-len', '32', '--batch', '8', '--steps', '30', '--val-every', '15', '--lr', '0.01', '--out', dir), 'train');
  assertLossFell(dir, 30);
  assertRunFolder(dir, 'music', ['example.svg', 'sample.svg']);
  const reread = (path: string) => new tonejs.Midi(readFileSync(path));
  const sample = reread(join(dir, 'sample.mid'));
  assert.equal(sample.tracks.length, 1);
  assert.ok(sample.tracks[0]!.notes.length > 0);

  const evaluation = lastJson(ok(await cli('eval', 'music', '--model', dir, '--json'), 'eval').stdout);
  assert.ok((evaluation.nll as number) > 0);
  const out = join(TMP, 'piece.mid');
  ok(await cli('generate', 'music', '--model', dir, '--length', '64', '--seed', '2', '--out', out), 'generate');
  assert.ok(reread(out).tracks[0]!.notes.length > 0);
  checkXml(readFileSync(join(TMP, 'piece.svg'), 'utf8'), 'piece.svg');
});

test('music --windows pieces: eval scores the validation part as training did, piece by piece', async () => {
  const dir = join(TMP, 'music-pieces');
  const trained = ok(await cli('train', 'music', '--windows', 'pieces', '--hidden', '16', '--seq-len', '32', '--batch', '4', '--steps', '6', '--val-every', '3', '--val-split', '0.3', '--json', '--out', dir), 'train');
  const validations = trained.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>).filter((e) => e.event === 'validation');
  assert.equal(validations.length, 2);
  const evaluation = lastJson(ok(await cli('eval', 'music', '--model', dir, '--split', 'validation', '--json'), 'eval').stdout);
  const atStep = validations.find((v) => v.step === evaluation.step);
  assert.ok(atStep, `a validation at the evaluated checkpoint's step ${evaluation.step}`);
  assert.ok(Math.abs((evaluation.nll as number) - (atStep.nll as number)) < 1e-9, `eval ${evaluation.nll} vs training ${atStep.nll}`);
  assert.equal(evaluation.nll_repeat, atStep.nll_repeat);
});

test('denoise on sine mixtures: SNR before, after and of the best moving average', async () => {
  const dir = join(TMP, 'denoise');
  ok(await cli('train', 'denoise', '--steps', '40', '--val-every', '20', '--seq-len', '48', '--batch', '16', '--out', dir), 'train');
  assertLossFell(dir, 40);
  assertRunFolder(dir, 'denoise', ['denoise.svg']);
  const evaluation = lastJson(ok(await cli('eval', 'denoise', '--model', dir, '--json'), 'eval').stdout);
  for (const key of ['snr_in_db', 'snr_out_db', 'snr_moving_average_db']) assert.equal(typeof evaluation[key], 'number', key);
  assert.ok((evaluation.snr_out_db as number) > (evaluation.snr_in_db as number), 'the output is cleaner than the input');
  const onSeries = lastJson(ok(await cli('eval', 'denoise', '--model', dir, '--data', 'data/series/sunspot.year.csv', '--json'), 'eval --data').stdout);
  assert.equal(onSeries.split, 'data');
  assert.ok(existsSync(join(dir, 'denoise.svg')));
});

test('demo (with a token text budget): both runs, the forecast, and where to look', async () => {
  const out = join(TMP, 'demo');
  const run = ok(await cli('demo', '--out', out, '--text-steps', '8'), 'demo');
  for (const file of ['sine/training-progress.svg', 'sine/forecast.svg', 'sine/prediction.svg', 'text/sample.txt', 'text/loss.svg']) {
    assert.ok(existsSync(join(out, file)), file);
    assert.ok(run.stdout.includes(join(out, file)) || file === 'sine/prediction.svg', `the demo names ${file}`);
  }
  checkXml(readFileSync(join(out, 'sine/forecast.svg'), 'utf8'), 'forecast.svg');
  assert.match(run.stdout, /validation bits per character: \d\.\d{3}/);
});
