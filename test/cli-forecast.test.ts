// `recurrent forecast` and `recurrent data`, run as a user would, on small budgets.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli } from './helpers/cli.js';
import { readSeriesFile, shippedDataPath } from '../src/data/files.js';
import { fitHoltWinters, seasonalNaiveHorizon, rmse } from '../src/data/index.js';
import { formatTime } from '../src/cli/format.js';

const TMP = mkdtempSync(join(tmpdir(), 'recurrent-forecast-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

test('forecast --test on a shipped name: JSON with the forecast, its interval and test scores against both baselines', async () => {
  const plot = join(TMP, 'f.svg');
  const run = await runCli(['forecast', '--data', 'USAccDeaths', '--horizon', '12', '--test', '--seeds', '1', '--json', '--plot', plot]);
  assert.equal(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
  assert.equal(out.forecast.length, 12);
  assert.equal(out.time[0], 1978);
  for (let k = 0; k < 12; k++) assert.ok(out.lower[k] <= out.forecast[k] && out.forecast[k] <= out.upper[k]);
  // The baselines' scores are computed from the data, not carried: recompute them here.
  const values = readSeriesFile(shippedDataPath('series', 'USAccDeaths.csv')).values;
  const history = values.subarray(0, values.length - 12);
  const actual = values.subarray(values.length - 12);
  assert.ok(Math.abs(out.test.seasonalNaive.rmse - rmse(seasonalNaiveHorizon(history, 12, 12), actual)) < 1e-9);
  assert.ok(Math.abs(out.test.holtWinters.rmse - rmse(fitHoltWinters(history, 12).forecast(12), actual)) < 1e-6);
  assert.ok(Math.abs(out.test.hybrid.rmse - rmse(out.forecast, actual)) < 1e-6);
  assert.ok(out.test.hybrid.mase > 0 && out.test.hybrid.smape > 0);
  const svg = readFileSync(plot, 'utf8');
  assert.match(svg, /USAccDeaths: 12-step forecast of held-out values/);
  assert.match(svg, />interval</);
});

test('forecast prints dated CSV lines for monthly data; bad input is named', async () => {
  const run = await runCli(['forecast', '--data', 'ldeaths', '--horizon', '3', '--seeds', '1']);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(run.stdout.trim().split('\n').map((l) => l.split(',')[0]), ['time', '1980-01', '1980-02', '1980-03']);
  const missing = await runCli(['forecast', '--data', 'AirPasengers']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /--data AirPasengers: no such file or folder, and no shipped series data of that name \(shipped: AirPassengers,/);
  const yearly = await runCli(['forecast', '--data', 'Nile']);
  assert.equal(yearly.code, 1);
  assert.match(yearly.stderr, /has no seasonal period in its time column \(frequency 1\); pass --period <n>/);
});

test('recurrent data lists every shipped dataset with its size and path', async () => {
  const run = await runCli(['data', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const entries = JSON.parse(run.stdout) as { task: string; name: string; size: string; path: string }[];
  assert.ok(entries.some((e) => e.task === 'series' && e.name === 'AirPassengers' && /KB$/.test(e.size)));
  assert.ok(entries.some((e) => e.task === 'text' && e.name === 'austen-sense'));
  assert.ok(entries.some((e) => e.task === 'music' && e.name === 'pianobooster'));
});

test('times print as people read them', () => {
  assert.equal(formatTime(1961.0001, 12), '1961-01');
  assert.equal(formatTime(1960 + 11 / 12, 12), '1960-12');
  assert.equal(formatTime(1960.75, 4), '1960-Q4');
  assert.equal(formatTime(1871, 1), '1871');
  assert.equal(formatTime(12.123456, 25), '12.1235');
});

test('wide tables and named columns: refused when ambiguous, read with --wide or --column, and a run reloads them', async () => {
  const { writeFileSync } = await import('node:fs');
  const wide = join(TMP, 'wide.csv');
  const rows = ['YEAR,JAN,FEB,MAR,APR,MAY,JUN,JUL,AUG,SEP,OCT,NOV,DEC'];
  for (let y = 1950; y < 1958; y++) rows.push([y, ...Array.from({ length: 12 }, (_, m) => (20 + 3 * Math.sin((2 * Math.PI * m) / 12) + 0.1 * (y - 1950)).toFixed(2))].join(','));
  writeFileSync(wide, rows.join('\n') + '\n');
  const ambiguous = await runCli(['forecast', '--data', wide]);
  assert.equal(ambiguous.code, 1);
  assert.match(ambiguous.stderr, /has 13 columns: "YEAR", "JAN", .*name the value column \(--column NAME or index\), or .*\(--wide\)/);
  const forecast = await runCli(['forecast', '--data', wide, '--wide', '--horizon', '2', '--seeds', '1']);
  assert.equal(forecast.code, 0, forecast.stderr);
  assert.deepEqual(forecast.stdout.trim().split('\n').map((l) => l.split(',')[0]), ['time', '1958-01', '1958-02']);

  const out = join(TMP, 'run');
  const train = await runCli(['train', 'series', '--data', wide, '--column', 'MAR', '--steps', '3', '--hidden', '4', '--seq-len', '3', '--out', out, '--json']);
  assert.equal(train.code, 0, train.stderr);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(config.data.column, 'MAR');
  assert.equal(config.summary.length, 8, 'one value per year from the MAR column');
  const evaluated = await runCli(['eval', 'series', '--model', out, '--json']);
  assert.equal(evaluated.code, 0, evaluated.stderr);
  const misplaced = await runCli(['train', 'text', '--wide', '--steps', '1']);
  assert.match(misplaced.stderr, /--wide applies to series and denoise, not to text/);
});

test('numbers in progress lines stay readable when training diverges', async () => {
  const { formatNumber } = await import('../src/cli/format.js');
  assert.equal(formatNumber(4483000000000), '4.483e+12');
  assert.equal(formatNumber(0.00004), '4.000e-5');
  assert.equal(formatNumber(176.23456), '176.2');
  assert.equal(formatNumber(NaN), '-');
  assert.equal(formatNumber(0), '0');
});

test('train --help shows the defaults of every task', async () => {
  const run = await runCli(['train', '--help']);
  assert.equal(run.code, 0);
  assert.match(run.stdout, /series {3}--data AirPassengers, --cell lstm, --hidden 32/);
  assert.match(run.stdout, /denoise {2}--data sine-mixture \(generated\)/);
});

test("eval --horizon scores a trained model's multi-step forecast into the test part beside Holt-Winters and seasonal naive", async () => {
  const out = join(TMP, 'series-run');
  const train = await runCli(['train', 'series', '--data', 'AirPassengers', '--steps', '10', '--hidden', '8', '--out', out]);
  assert.equal(train.code, 0, train.stderr);
  const run = await runCli(['eval', 'series', '--model', out, '--horizon', '12', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const r = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
  assert.equal(r.split, 'test');
  const values = readSeriesFile(shippedDataPath('series', 'AirPassengers.csv')).values;
  const history = values.subarray(0, 130);
  const actual = values.subarray(130, 142);
  assert.ok(Math.abs(r.h_rmse_holt_winters - rmse(fitHoltWinters(history, 12).forecast(12), actual)) < 1e-6);
  assert.ok(Math.abs(r.h_rmse_seasonal - rmse(seasonalNaiveHorizon(history, 12, 12), actual)) < 1e-9);
  for (const key of ['h_rmse', 'h_mae', 'h_smape', 'h_mase']) assert.ok(Number.isFinite(r[key]) && r[key] > 0, key);
  const tooFar = await runCli(['eval', 'series', '--model', out, '--horizon', '15']);
  assert.equal(tooFar.code, 1);
  assert.match(tooFar.stderr, /--horizon 15: the test part starts at value 130 of 144, so at most 14 steps can be scored there/);
});
