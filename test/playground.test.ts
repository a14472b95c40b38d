// The browser playground (web/, scripts/playground.ts). In Node: the inspection code the worker runs
// (gates and peephole contributions from the reference cells, relu RNNs, gradients through time)
// against the fused forward and against the chain rule written out, and the LSTMVis-style unit search
// on planted activations. In headless Chromium (Debian's chromium through playwright-core, as
// test/browser.test.ts): the built page trains the sine until its validation loss is low, draws the
// prediction, the gate heatmaps and the gradient plot (checked through the DOM and canvas pixels),
// reads a drawn input, keeps its main thread free of long tasks, surfaces errors, and says when it
// runs single-threaded; trains text, ranks units for a selected span and samples; trains music,
// plays it and downloads its .mid; trains an RNN and an LSTM side by side on the adding problem;
// colours a relu RNN's text on its own scale; and loads series, text and music run folders trained
// by the CLI with the CLI's forecast and interval, samples, .mid and validation figures. Screenshots go to test-results/;
// RECURRENT_UPDATE_DOCS=1 also writes docs/playground*.png.
//
// Needs Chromium: .ci/run installs it. Elsewhere the browser test is skipped with the reason, unless
// RECURRENT_REQUIRE_BROWSER=1 makes a missing browser a failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Generator } from '../src/tensor/index.js';
import { parseMidi } from '../src/data/index.js';
import { SequenceModel, sineSeries, type CellType } from '../src/tasks/index.js';
import { runCli } from './helpers/cli.js';
import { cellView, gradientNorms } from '../web/inspect.js';
import { formatTick, heatmapColor, type ColorMap } from '../src/viz/index.js';
import { findPlaces, rankUnits } from '../web/text-units.js';
import { shade, unitScale } from '../web/text-view.js';
import { colorAt } from '../src/viz/index.js';
import { buildPlayground, servePlayground, serverUrl } from '../scripts/playground.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));
const required = process.env['RECURRENT_REQUIRE_BROWSER'] === '1';

function model(cell: CellType, layers: number, seed = 3): SequenceModel {
  return new SequenceModel(
    { cell, hiddenSize: 6, numLayers: layers, dropout: 0, bidirectional: false, input: { kind: 'dense', size: 1 }, outputSize: 1 },
    new Generator(seed),
  );
}

const wave = (n: number): Float32Array => Float32Array.from({ length: n }, (_, t) => Math.sin((2 * Math.PI * t) / 25));

test('cell view: every gate of each cell from the reference cells, on the fused forward, in its range', () => {
  const expected: Record<CellType, string[]> = { lstm: ['i', 'f', 'g', 'o', 'c', 'h'], peephole: ['i', 'f', 'g', 'o', 'c', 'peephole_i', 'peephole_f', 'peephole_o', 'h'], gru: ['r', 'z', 'n', 'h'], rnn: ['h'] };
  for (const cell of Object.keys(expected) as CellType[]) {
    const m = model(cell, 2);
    for (const layer of [0, 1]) {
      const view = cellView(m, wave(30), layer);
      assert.deepEqual(view.panels.map((p) => p.name), expected[cell], `${cell} panels`);
      assert.ok(view.referenceError < 1e-5, `${cell}: reference cells differ from the fused forward by ${view.referenceError}`);
      for (const panel of view.panels) {
        assert.equal(panel.values.length, 6 * 30, `${cell} ${panel.name}: units × steps`);
        const lo = Math.min(...panel.values), hi = Math.max(...panel.values);
        assert.ok(hi > lo, `${cell} ${panel.name} varies over time`);
        if (panel.range) assert.ok(lo >= panel.range[0] && hi <= panel.range[1], `${cell} ${panel.name} in ${panel.range}: [${lo}, ${hi}]`);
      }
    }
    m.dispose();
  }
  assert.throws(() => cellView(model('gru', 2), wave(5), 2), /layer must be in \[0, 1\], received 2/);
});

test('the RNN cell with relu or sigmoid units: a task recipe option; the cell view re-runs it with that activation', () => {
  const config = { cell: 'rnn' as const, nonlinearity: 'relu' as const, hiddenSize: 6, numLayers: 2, dropout: 0, bidirectional: false, input: { kind: 'dense' as const, size: 1 }, outputSize: 1 };
  const relu = new SequenceModel(config, new Generator(3));
  assert.equal((relu.rnn as { nonlinearity?: string }).nonlinearity, 'relu');
  for (const layer of [0, 1]) {
    const view = cellView(relu, wave(30), layer);
    assert.ok(view.referenceError < 1e-5, `relu reference cells against the fused forward: ${view.referenceError}`);
    const h = view.panels[0]!.values;
    assert.ok(Math.min(...h) === 0 && Math.max(...h) > 0, 'relu: h >= 0, some units on');
  }
  // The same weights read with tanh would differ: the option reaches the layer.
  const tanh = new SequenceModel({ ...config, nonlinearity: 'tanh' }, new Generator(3));
  assert.ok(cellView(tanh, wave(30), 0).panels[0]!.values.some((v) => v < 0));
  // Sigmoid units (this library's extension): h in (0, 1), the range the heatmap is drawn over.
  const sigmoid = new SequenceModel({ ...config, nonlinearity: 'sigmoid' }, new Generator(3));
  for (const layer of [0, 1]) {
    const view = cellView(sigmoid, wave(30), layer);
    assert.ok(view.referenceError < 1e-5, `sigmoid reference cells against the fused forward: ${view.referenceError}`);
    const [h] = view.panels;
    assert.deepEqual([h!.name, h!.range], ['h', [0, 1]]);
    assert.ok(h!.values.every((v) => v > 0 && v < 1), 'sigmoid: h in (0, 1)');
    assert.ok(Math.max(...h!.values) - Math.min(...h!.values) > 0.05, 'sigmoid h varies');
  }
  sigmoid.dispose();
  assert.throws(() => new SequenceModel({ ...config, nonlinearity: 'softsign' as 'relu' }, new Generator(3)), /nonlinearity must be one of tanh, relu, sigmoid, received "softsign"/);
  assert.throws(() => new SequenceModel({ ...config, cell: 'gru' }, new Generator(3)), /nonlinearity 'relu' applies to the rnn cell only, received cell 'gru'/);
  relu.dispose();
  tanh.dispose();
});

test('gradients through time: dLoss/dh_t by the chain rule, for the last steps of an RNN', () => {
  const m = model('rnn', 1);
  const x = wave(40);
  const target = 0.3;
  const [norms] = gradientNorms(m, x, target);
  assert.equal(norms!.length, 40);
  // Forward by hand (float64) over the model's weights: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh).
  const p = new Map(m.namedParameters());
  const get = (name: string): Float32Array => p.get(name)!.data as Float32Array;
  const [wih, whh, bih, bhh, wout, bout] = ['rnn.weight_ih_l0', 'rnn.weight_hh_l0', 'rnn.bias_ih_l0', 'rnn.bias_hh_l0', 'head.weight', 'head.bias'].map(get);
  const H = 6;
  const hs: Float64Array[] = [];
  let h = new Float64Array(H);
  for (let t = 0; t < x.length; t++) {
    const next = new Float64Array(H);
    for (let u = 0; u < H; u++) {
      let s = wih![u]! * x[t]! + bih![u]! + bhh![u]!;
      for (let k = 0; k < H; k++) s += whh![u * H + k]! * h[k]!;
      next[u] = Math.tanh(s);
    }
    hs.push(next);
    h = next;
  }
  let prediction = bout![0]!;
  for (let u = 0; u < H; u++) prediction += wout![u]! * h[u]!;
  // dL/dh_T = 2 (pred - y) W_out; dL/dh_{t-1} = W_hh^T (dL/dh_t ⊙ (1 - h_t²)).
  let grad = Float64Array.from({ length: H }, (_, u) => 2 * (prediction - target) * wout![u]!);
  const norm = (g: Float64Array): number => Math.sqrt(g.reduce((s, v) => s + v * v, 0));
  for (let t = x.length - 1; t >= x.length - 6; t--) {
    const got = norms![t]!;
    assert.ok(Math.abs(got - norm(grad)) <= 1e-4 * norm(grad) + 1e-7, `step ${t}: ${got} against ${norm(grad)}`);
    const back = new Float64Array(H);
    for (let k = 0; k < H; k++) for (let u = 0; u < H; u++) back[k] = back[k]! + whh![u * H + k]! * grad[u]! * (1 - hs[t]![u]! ** 2);
    grad = back;
  }
  // The gradients stay out of the parameters: inspection must not disturb training.
  assert.ok(m.parameters().every((param) => param.grad === null), 'no parameter gradient');
  m.dispose();
});

test('text units: ranked by on inside the span and off around it; places where they fire together', () => {
  // Five units over 40 characters. Unit 2 is on exactly over [10, 14) and [25, 29); unit 4 over
  // [10, 14) and [30, 33); unit 0 is on everywhere (no match: never off around); unit 1 is on over
  // [10, 12) only; unit 3 never.
  const steps = 40;
  const units = 5;
  const values = new Float32Array(units * steps).fill(-0.5);
  const on = (unit: number, from: number, to: number, value = 0.8): void => {
    values.fill(value, unit * steps + from, unit * steps + to);
  };
  on(0, 0, 40);
  on(2, 10, 14);
  on(2, 25, 29);
  on(4, 10, 14, 0.6);
  on(4, 30, 33, 0.6);
  on(1, 10, 12);
  const activations = { values, units, steps };
  const ranked = rankUnits(activations, { from: 10, to: 14 }, 0.3);
  // Units 2 and 4 match perfectly (2 stands out more), unit 1 is on for half the span; 0 and 3 are left out.
  assert.deepEqual(ranked.map((m) => m.unit), [2, 4, 1]);
  assert.deepEqual(ranked.map((m) => [m.score, m.inside, m.outside]), [[1, 1, 1], [1, 1, 1], [0.5, 0.5, 1]]);
  // Half on inside, and one of the 8 characters around on as well: 0.5 × 7/8.
  const shifted = rankUnits(activations, { from: 11, to: 15 }, 0.3);
  assert.deepEqual(shifted.map((m) => [m.unit, m.score]).slice(0, 2), [[2, 0.75 * 7 / 8], [4, 0.75 * 7 / 8]]);
  // A span at the text's start has surroundings on one side only.
  assert.deepEqual(rankUnits(activations, { from: 0, to: 3 }, 0.3), []);
  // Unit 2 alone fires again at [25, 29); with unit 4 both must be on, which happens nowhere else;
  // with one of the two, both of their other runs count (the same length as the span first).
  assert.deepEqual(findPlaces(activations, [2], 0.3, 4, { exclude: { from: 10, to: 14 } }), [{ from: 25, to: 29, unitsOn: 1 }]);
  assert.deepEqual(findPlaces(activations, [2, 4], 0.3, 4, { exclude: { from: 10, to: 14 } }), []);
  assert.deepEqual(findPlaces(activations, [2, 4], 0.3, 4, { minOn: 1, exclude: { from: 10, to: 14 } }), [{ from: 25, to: 29, unitsOn: 1 }, { from: 30, to: 33, unitsOn: 1 }]);
  // Without the exclusion the selection itself is found, with both units on.
  assert.deepEqual(findPlaces(activations, [2, 4], 0.3, 4)[0], { from: 10, to: 14, unitsOn: 2 });
  // Runs shorter than half or longer than twice the span's length are not alike.
  assert.deepEqual(findPlaces(activations, [0], 0.3, 4), []);
  assert.throws(() => rankUnits(activations, { from: 5, to: 5 }, 0.3), /span must be characters \[from, to\) with 0 <= from < to <= 40, received \[5, 5\)/);
  assert.throws(() => rankUnits(activations, { from: 0, to: 4 }, NaN), /threshold must be a finite number, received NaN/);
  assert.throws(() => findPlaces(activations, [5], 0.3, 4), /unit must be an integer in \[0, 5\), received 5/);
});

// ---- In the browser ----

interface Figures {
  step: number;
  valLoss: number;
}

async function figures(page: Page): Promise<Figures> {
  return page.evaluate(() => ({
    step: Number(document.getElementById('step-count')!.textContent),
    valLoss: Number(document.getElementById('val-loss')!.textContent),
  }));
}

/** Pixels of a canvas in a chart within `tolerance` of each colour. */
async function colourCounts(page: Page, chart: string, colours: Record<string, [number, number, number]>): Promise<Record<string, number>> {
  return page.evaluate(({ chart, colours }) => {
    const canvas = document.querySelector<HTMLCanvasElement>(`#${chart} canvas`)!;
    const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    const counts: Record<string, number> = {};
    for (const [name, [r, g, b]] of Object.entries(colours)) {
      let n = 0;
      for (let i = 0; i < pixels.length; i += 4) {
        if (pixels[i + 3]! > 200 && Math.abs(pixels[i]! - r) < 24 && Math.abs(pixels[i + 1]! - g) < 24 && Math.abs(pixels[i + 2]! - b) < 24) n++;
      }
      counts[name] = n;
    }
    return counts;
  }, { chart, colours });
}

/** Waits until every view shows the step the status line shows (the worker posts them all on pause). */
async function viewsSettled(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const step = document.getElementById('step-count')!.textContent;
    return document.getElementById('pause')!.hasAttribute('disabled') &&
      document.getElementById('val-loss')!.dataset['step'] === step &&
      document.getElementById('heatmaps')!.dataset['step'] === step &&
      document.getElementById('gradient-chart')!.dataset['step'] === step;
  }, undefined, { timeout: 60_000 });
}

/** The generation of the model the page shows (counted by the worker), read before an action that builds another. */
async function generation(page: Page): Promise<number> {
  return Number(await page.getAttribute('#parameters', 'data-generation'));
}

/**
 * Waits until the status line shows a model newer than `before` and each view in `views` (element
 * ids) shows that same model: the 'model' message arrives before the new model's views, and the
 * previous model's may look alike (the same step, panels or parameter count).
 */
async function newModelShown(page: Page, before: number, views: string[]): Promise<number> {
  await page.waitForFunction(([before, views]) => {
    const shown = document.getElementById('parameters')!.dataset['generation'];
    return Number(shown) > before && views.every((id) => document.getElementById(id)!.dataset['generation'] === shown);
  }, [before, views] as const, { timeout: 60_000 });
  return generation(page);
}

async function openPage(browser: Browser, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1240, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  // Long tasks (> 50 ms on the main thread) are collected from the start; the test reads those of the training stretch.
  await page.addInitScript(() => {
    const w = window as unknown as { longTasks: number[] };
    w.longTasks = [];
    new PerformanceObserver((list) => list.getEntries().forEach((entry) => w.longTasks.push(entry.duration))).observe({ type: 'longtask', buffered: true });
  });
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById('parameters')!.textContent !== '–', undefined, { timeout: 60_000 });
  return { page, errors };
}

const RED: [number, number, number] = [0xd6, 0x27, 0x28];
const BLUE: [number, number, number] = [0x1f, 0x77, 0xb4];
const PURPLE: [number, number, number] = [0x94, 0x67, 0xbd];
const GREEN: [number, number, number] = [0x2c, 0xa0, 0x2c];
/** The forecast's interval band (web/charts.ts INTERVAL_COLOR). */
const INTERVAL: [number, number, number] = [0xcd, 0xe8, 0xcd];
/** Validation MSE on the z-scale that the sine must reach (the last-value forecast scores about 0.03). */
const TARGET_LOSS = 2e-3;

test('the playground in Chromium: trains the sine live, shows the gates and the gradients, stays responsive', { skip: !CHROMIUM && !required ? 'no Chromium here (.ci/run installs it)' : false, timeout: 300_000 }, async () => {
  assert.ok(CHROMIUM, 'Chromium is required (RECURRENT_REQUIRE_BROWSER=1) but not installed');
  const out = await mkdtemp(join(tmpdir(), 'recurrent-playground-'));
  const servers: Server[] = [];
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    await buildPlayground(out);
    const isolated = await servePlayground(out, { isolated: true });
    const plain = await servePlayground(out, { isolated: false });
    servers.push(isolated, plain);
    await mkdir(join(ROOT, 'test-results'), { recursive: true });

    const { page, errors } = await openPage(browser, serverUrl(isolated));
    assert.equal(await page.textContent('#backend'), 'wasm');
    assert.equal(await page.textContent('#threads'), '2', 'two threads on a cross-origin isolated page');
    assert.equal(await page.isVisible('#isolation-note'), false);
    assert.equal(await page.inputValue('#dataset'), 'sine');
    assert.equal(await page.inputValue('#cell'), 'lstm');
    // 1 input, 16 LSTM units, 1 output: 4·16·(1 + 16 + 2) + 16 + 1 parameters.
    assert.equal(await page.textContent('#parameters'), String(4 * 16 * 19 + 17));

    // Untrained: the prediction (blue) is visibly apart from the target (red).
    await page.waitForFunction(() => document.getElementById('val-loss')!.dataset['step'] === '0');
    const untrained = await figures(page);
    assert.ok(untrained.valLoss > 0.1, `untrained validation loss ${untrained.valLoss}`);
    const before = await colourCounts(page, 'prediction-chart', { red: RED, blue: BLUE });
    assert.ok(before.red! > 300 && before.blue! > 100, `target and prediction lines drawn: ${JSON.stringify(before)}`);

    await page.evaluate(() => {
      const w = window as unknown as { longTasks: number[]; cellRefreshes: number };
      w.longTasks = [];
      w.cellRefreshes = 0;
      new MutationObserver(() => w.cellRefreshes++).observe(document.getElementById('heatmaps')!, { attributes: true, attributeFilter: ['data-step'] });
    });
    await page.click('#start');
    const started = Date.now();
    await page.waitForFunction((target) => {
      const loss = Number(document.getElementById('val-loss')!.textContent);
      return loss > 0 && loss < target;
    }, TARGET_LOSS, { timeout: 180_000, polling: 250 });
    // Keep training a little longer, so the stretch covers several redraws of every view, the cell
    // view (about every second) and the gradients (every 3 s) included.
    await page.waitForTimeout(Math.max(0, 7000 - (Date.now() - started)));
    assert.equal(await page.isDisabled('#pause'), false, 'still training');
    assert.ok(Number(await page.getAttribute('#gradient-chart', 'data-step')) > 0, 'the gradients refreshed while training');
    const cellStep = Number(await page.getAttribute('#heatmaps', 'data-step'));
    assert.ok(cellStep > 0, `the cell view refreshed while training: step ${cellStep}`);
    // The pointer held still over a cell: its readout follows the refreshes under it.
    const pointer = await page.$eval('#heatmaps .panel[data-panel="f"] canvas', (canvas) => {
      canvas.scrollIntoView({ block: 'center' });
      const box = canvas.getBoundingClientRect();
      return { x: box.left + (10.5 * box.width) / 80, y: box.top + (3.5 * box.height) / 16 };
    });
    await page.mouse.move(pointer.x, pointer.y);
    await page.waitForFunction((seen) => {
      const [readout, heatmaps] = [document.getElementById('hover')!.dataset, document.getElementById('heatmaps')!.dataset];
      return Number(heatmaps['step']) > seen && readout['step'] === heatmaps['step'] && readout['panel'] === 'f' && readout['unit'] === '3' && readout['t'] === '10';
    }, cellStep, { timeout: 10_000 });
    const { longTasks, cellRefreshes } = await page.evaluate(() => {
      const w = window as unknown as { longTasks: number[]; cellRefreshes: number };
      return { longTasks: w.longTasks, cellRefreshes: w.cellRefreshes };
    });
    const seconds = (Date.now() - started) / 1000;
    assert.ok(cellRefreshes >= seconds / 2, `${cellRefreshes} cell view refreshes in ${seconds.toFixed(1)} s of training`);
    const longest = Math.max(0, ...longTasks);
    console.log(`playground: ${longTasks.length} long tasks during ${seconds.toFixed(1)} s of training with ${cellRefreshes} live cell view refreshes, longest ${longest.toFixed(0)} ms; ${await page.textContent('#steps-per-second')} steps/s`);
    // The goal is no task over 50 ms. On a loaded shared machine the scheduler alone delays a frame now
    // and then (62 ms seen at load average 10), so the test fails on real jank only: drawing thousands
    // of SVG nodes on the main thread gave repeated 60-130 ms frames.
    assert.ok(longest < 100 && longTasks.length <= 2, `longest main-thread task while training: ${longest} ms (${longTasks.length} over 50 ms)`);

    await page.click('#pause');
    await viewsSettled(page);
    const trained = await figures(page);
    assert.ok(trained.step > 0 && trained.valLoss < TARGET_LOSS, `step ${trained.step}: validation loss ${trained.valLoss}`);
    const rmse = Number(await page.getAttribute('#val-rmse', 'data-rmse'));
    assert.ok(rmse < 0.1, `validation RMSE ${rmse} (the last-value forecast: about 0.18)`);
    assert.ok(Number(await page.textContent('#loss')) < 0.05, 'training loss shown');
    const after = await colourCounts(page, 'prediction-chart', { blue: BLUE, green: GREEN });
    assert.ok(after.blue! > 500, `prediction line drawn: ${after.blue} pixels`);
    assert.ok(after.green! > 100, `forecast past the end drawn (dashed): ${after.green} pixels`);
    const lossPixels = await colourCounts(page, 'loss-chart', { line: [0x44, 0x44, 0x44] });
    assert.ok(lossPixels.line! > 100, `loss curve drawn: ${lossPixels.line} pixels`);

    // Inside the cell: the input and every LSTM gate and state, one canvas pixel per unit and step,
    // over the cell box of its frame (the CLI's heatmap without its cells), its columns under the
    // frame's step labels, in the heatmap's colours over the range its labels state.
    const panels = await page.$$eval('#heatmaps .panel', (elements) => Promise.all(elements.map(async (e) => {
      const d = (e as HTMLElement).dataset;
      const canvas = e.querySelector('canvas')!;
      const image = e.querySelector('img')!;
      const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      const colours = new Set<string>();
      let opaque = true;
      for (let i = 0; i < pixels.length; i += 4) {
        colours.add(`${pixels[i]},${pixels[i + 1]},${pixels[i + 2]}`);
        opaque &&= pixels[i + 3] === 255;
      }
      const frame = new DOMParser().parseFromString(await (await fetch(image.src)).text(), 'image/svg+xml');
      const [imageBox, canvasBox] = [image.getBoundingClientRect(), canvas.getBoundingClientRect()];
      return {
        name: d['panel'], rows: Number(d['rows']), cols: Number(d['cols']), width: canvas.width, height: canvas.height, colours: colours.size, opaque,
        frameCells: frame.querySelectorAll('rect.cell').length, frameBars: frame.querySelectorAll('rect.bar').length,
        // The frame's step labels (step, x in the frame's pixels), and the canvas's place over the frame.
        colLabels: Array.from(frame.querySelectorAll('text.col-label'), (t) => [Number(t.textContent), Number(t.getAttribute('x'))]),
        scale: imageBox.width / Number(frame.documentElement.getAttribute('width')),
        canvasLeft: canvasBox.left - imageBox.left, canvasWidth: canvasBox.width,
        range: [Number(d['min']), Number(d['max'])], labels: Array.from(e.querySelectorAll('svg.range text'), (t) => t.textContent),
      };
    })));
    assert.deepEqual(panels.map((p) => p.name), ['input', 'i', 'f', 'g', 'o', 'c', 'h']);
    for (const p of panels) {
      assert.equal(p.rows, p.name === 'input' ? 1 : 16);
      assert.equal(p.cols, 80, 'an 80-step validation window');
      assert.deepEqual([p.width, p.height], [p.cols, p.rows], `${p.name}: one pixel per unit and step`);
      assert.ok(p.opaque && p.colours > 10, `${p.name}: ${p.colours} distinct colours`);
      assert.deepEqual([p.frameCells, p.frameBars], [0, 40], `${p.name}: the frame holds the colour bar and no cells`);
      assert.ok(p.colLabels.length >= 10, `${p.name}: ${p.colLabels.length} step labels`);
      for (const [step, x] of p.colLabels) {
        const centre = (p.canvasLeft + ((step! + 0.5) * p.canvasWidth) / p.cols) / p.scale;
        assert.ok(Math.abs(centre - x!) < 0.5, `${p.name}: column ${step} centred at x ${centre}, its label at ${x}`);
      }
      assert.deepEqual(p.labels, [formatTick(p.range[1]!), formatTick(p.range[0]!)], `${p.name}: the range's labels`);
      if (['i', 'f', 'o'].includes(p.name!)) assert.deepEqual(p.range, [0, 1], `${p.name}: a sigmoid gate's range`);
      else if (p.name !== 'input') assert.ok(p.range[0] === -p.range[1]! && p.range[1]! > 0, `${p.name}: a range symmetric around 0: ${p.range}`);
    }
    assert.ok(Number(await page.getAttribute('#reference-error', 'data-value')) < 1e-5, 'the heatmaps show the model: reference cells = fused forward');
    /**
     * Points at the centre of a cell (placed by its panel's canvas geometry) and reads the readout;
     * the cell's pixel must be the CLI heatmap's colour of the value read, over the panel's range.
     */
    const hover = async (panel: string, unit: number, t: number): Promise<{ value: number; text: string }> => {
      const cell = await page.$eval(`#heatmaps .panel[data-panel="${panel}"] canvas`, (canvas, [unit, t]) => {
        canvas.scrollIntoView({ block: 'center' });
        const c = canvas as HTMLCanvasElement;
        const box = c.getBoundingClientRect();
        const d = c.parentElement!.dataset;
        return {
          x: box.left + ((t! + 0.5) * box.width) / c.width, y: box.top + ((unit! + 0.5) * box.height) / c.height,
          rgb: Array.from(c.getContext('2d')!.getImageData(t!, unit!, 1, 1).data.slice(0, 3)), range: [Number(d['min']), Number(d['max'])], map: d['colorMap'],
        };
      }, [unit, t]);
      await page.mouse.move(cell.x, cell.y);
      const data = await page.$eval('#hover', (e) => {
        const d = (e as HTMLElement).dataset;
        return { panel: d['panel'], unit: d['unit'], t: d['t'], value: d['value'], text: e.textContent ?? '' };
      });
      assert.deepEqual([data.panel, data.unit, data.t], [panel, String(unit), String(t)], `hover ${panel} ${unit} ${t}`);
      const colour = heatmapColor(cell.map as ColorMap, cell.range as [number, number])(Number(data.value));
      assert.deepEqual(cell.rgb, colour, `${panel} unit ${unit}, t=${t}: the heatmap's colour of ${data.value} over ${cell.range}`);
      return { value: Number(data.value), text: data.text };
    };
    const forget = await hover('f', 3, 10);
    assert.ok(forget.value > 0 && forget.value < 1, `a forget gate value ${forget.value}`);
    assert.match(forget.text, /^f: forget gate · unit 3, t=10: [\d.]+ · input -?[\d.]+$/);
    const candidate = await hover('g', 5, 40);
    assert.ok(candidate.value > -1 && candidate.value < 1, `a candidate value ${candidate.value}`);
    // The input row is the sine itself (amplitude 1): its value at t matches the readout's input.
    const input = await hover('input', 0, 40);
    assert.ok(Math.abs(input.value) <= 1.01 && input.text.endsWith(`input ${input.value.toFixed(4)}`), input.text);

    // Draw an input (a step: high for the first half, low for the second): the cell view and the
    // prediction follow what was drawn; 'Back to the data' returns to the validation window.
    const fromData = { f: (await hover('f', 3, 10)).value, prediction: await page.getAttribute('#draw-input', 'data-prediction') };
    const canvas = await page.$eval('#draw-input', (e) => {
      e.scrollIntoView({ block: 'center' });
      const box = e.getBoundingClientRect();
      const d = (e as HTMLElement).dataset;
      return { left: box.left, top: box.top, scale: box.width / (e as HTMLCanvasElement).width, low: Number(d['low']), high: Number(d['high']), drawn: d['drawn'] };
    });
    assert.equal(canvas.drawn, 'false');
    // Step t of the drawing lies above column t of the heatmaps: the pointer goes to the x of the
    // centre of the input panel's column t, read from the page's geometry.
    const columns = await page.$eval('#heatmaps .panel[data-panel="input"] canvas', (c) => {
      const box = c.getBoundingClientRect();
      return { left: box.left, width: box.width / (c as HTMLCanvasElement).width };
    });
    const columnCentre = (t: number): number => columns.left + (t + 0.5) * columns.width;
    const canvasY = (value: number): number => 8 + ((canvas.high - value) / (canvas.high - canvas.low)) * (140 - 16);
    const at = (t: number, value: number): [number, number] => [columnCentre(t), canvas.top + canvas.scale * canvasY(value)];
    const [highValue, lowValue] = [canvas.low + 0.8 * (canvas.high - canvas.low), canvas.low + 0.25 * (canvas.high - canvas.low)];
    await page.mouse.move(...at(0, highValue));
    await page.mouse.down();
    await page.mouse.move(...at(39, highValue), { steps: 8 });
    await page.mouse.move(...at(40, lowValue));
    await page.mouse.move(...at(79, lowValue), { steps: 8 });
    await page.mouse.up();
    await page.waitForFunction(() => document.getElementById('draw-input')!.dataset['drawn'] === 'true');
    const tolerance = 0.02 * (canvas.high - canvas.low);
    for (const [t, expected] of [[0, highValue], [20, highValue], [39, highValue], [40, lowValue], [60, lowValue], [79, lowValue]] as const) {
      const drawn = await hover('input', 0, t);
      assert.ok(Math.abs(drawn.value - expected) < tolerance, `drawn input at t=${t}: ${drawn.value}, expected about ${expected}`);
    }
    // The drawn line's corners lie at the columns' centres: read the red line's height across the
    // drawing canvas around steps 39 (high) and 40 (low), where it drops by about 70 pixels in one
    // column, so a corner one pixel off across would show as several pixels off in height.
    const [high39, low40] = [(await hover('input', 0, 39)).value, (await hover('input', 0, 40)).value];
    const [x39, x40] = [columnCentre(39), columnCentre(40)].map((x) => (x - canvas.left) / canvas.scale) as [number, number];
    const lineY = (x: number): number => canvasY(x <= x39 ? high39 : x >= x40 ? low40 : high39 + ((low40 - high39) * (x - x39)) / (x40 - x39));
    const probes = [x39 - 3, x39 + 2, (x39 + x40) / 2, x40 - 2, x40 + 3].map(Math.round);
    const redHeights = await page.$eval('#draw-input', (e, probes) => {
      const c = e as HTMLCanvasElement;
      const context = c.getContext('2d')!;
      return probes.map((x) => {
        const column = context.getImageData(x, 0, 1, c.height).data;
        const rows: number[] = [];
        for (let y = 0; y < c.height; y++) if (column[4 * y]! > 150 && column[4 * y + 1]! < 110 && column[4 * y + 2]! < 110 && column[4 * y + 3]! > 100) rows.push(y);
        return rows.length === 0 ? NaN : rows.reduce((sum, y) => sum + y, 0) / rows.length;
      });
    }, probes);
    // (Pixel column x spans [x, x + 1), the line's height at its middle; the red line's pixels are centred on it.)
    probes.forEach((x, k) => assert.ok(Math.abs(redHeights[k]! + 0.5 - lineY(x + 0.5)) < 3, `the drawn line at x=${x}: y ${redHeights[k]}, expected ${lineY(x + 0.5).toFixed(1)} (steps 39 and 40 at x ${x39.toFixed(1)}, ${x40.toFixed(1)})`));
    const fromDrawing = { f: (await hover('f', 3, 10)).value, prediction: JSON.parse((await page.getAttribute('#draw-input', 'data-prediction'))!) as number[] };
    assert.equal(fromDrawing.prediction.length, 80);
    assert.notDeepEqual(fromDrawing.prediction, JSON.parse(fromData.prediction!), 'the prediction follows the drawn input');
    assert.notEqual(fromDrawing.f, fromData.f, 'the forget gate reads the drawn input');
    await page.screenshot({ path: join(ROOT, 'test-results', 'playground-drawn.png'), fullPage: true });
    await page.click('#undraw');
    await page.waitForFunction(() => document.getElementById('draw-input')!.dataset['drawn'] === 'false');
    assert.equal((await hover('input', 0, 40)).value, input.value, 'back to the validation window');

    // Gradients through time: 300 steps; the last prediction barely feels the first state any more.
    const gradient = await page.$eval('#gradient-chart', (e) => {
      const d = (e as HTMLElement).dataset;
      return { steps: d['steps'], first: d['first'], last: d['last'] };
    });
    assert.equal(gradient.steps, '300');
    const [first, last] = [Number(gradient.first), Number(gradient.last)];
    assert.ok(last > 0 && Number.isFinite(last) && first >= 0 && first < last * 1e-3, `‖dL/dh_t‖ at t = 0: ${first}, at the end: ${last}`);
    const gradientPixels = await colourCounts(page, 'gradient-chart', { line: PURPLE });
    assert.ok(gradientPixels.line! > 200, `gradient line drawn: ${gradientPixels.line} pixels`);

    await page.screenshot({ path: join(ROOT, 'test-results', 'playground.png'), fullPage: true });
    if (process.env['RECURRENT_UPDATE_DOCS'] === '1') await copyFile(join(ROOT, 'test-results', 'playground.png'), join(ROOT, 'docs', 'playground.png'));

    // Save the trained weights (a download), to load them back at the end.
    const savedRmse = await page.getAttribute('#val-rmse', 'data-rmse');
    const download = page.waitForEvent('download');
    await page.click('#save');
    const saved = await download;
    assert.equal(saved.suggestedFilename(), 'recurrent-sine-lstm-16.safetensors');
    const weightsFile = join(ROOT, 'test-results', 'playground.safetensors');
    await saved.saveAs(weightsFile);

    /**
     * Reset with the controls as they are: waits until the new model's own views are shown (its
     * cell view, predictions and gradients, each posted after the 'model' message).
     */
    const resetModel = async (): Promise<void> => {
      const before = await generation(page);
      await page.click('#reset');
      await newModelShown(page, before, ['heatmaps', 'prediction-chart', 'gradient-chart']);
      assert.deepEqual([await page.textContent('#step-count'), await page.getAttribute('#heatmaps', 'data-step')], ['0', '0']);
    };
    // Reset with a GRU: the old model is disposed, the new one shows its own gates.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.selectOption('#cell', 'gru');
    await resetModel();
    assert.equal(await page.getAttribute('#parameters', 'data-previous-disposed'), 'true');
    assert.deepEqual(await page.$$eval('#heatmaps .panel', (es) => es.map((e) => (e as HTMLElement).dataset['panel'])), ['input', 'r', 'z', 'n', 'h']);
    await page.click('#step');
    await page.waitForFunction(() => document.getElementById('step-count')!.textContent === '1');
    // Two layers: the layer menu switches the cell view to the upper one.
    await page.fill('#layers', '2');
    await resetModel();
    assert.equal(await page.$$eval('#layer option', (options) => options.length), 2);
    await page.selectOption('#layer', '1');
    await page.waitForFunction(() => document.getElementById('heatmaps')!.dataset['layer'] === '1');
    assert.deepEqual(await page.$$eval('#heatmaps .panel', (es) => es.map((e) => (e as HTMLElement).dataset['panel'])), ['input', 'r', 'z', 'n', 'h']);
    assert.equal((await page.getAttribute('#gradient-chart', 'data-first'))!.split(',').length, 2, 'one gradient line per layer');
    await page.fill('#layers', '1');
    // The RNN with relu units: only h, and never below zero.
    await page.selectOption('#cell', 'rnn-relu');
    await page.fill('#hidden', '16');
    await resetModel();
    assert.equal(await page.textContent('#parameters'), String(16 * (1 + 16 + 2) + 17));
    assert.deepEqual(await page.$$eval('#heatmaps .panel', (es) => es.map((e) => (e as HTMLElement).dataset['panel'])), ['input', 'h']);
    const reluValues = [];
    for (const [unit, t] of [[0, 5], [3, 30], [7, 60], [12, 79], [15, 1]] as const) reluValues.push((await hover('h', unit, t)).value);
    assert.ok(reluValues.every((v) => v >= 0), `relu h: ${reluValues}`);
    // The RNN with sigmoid units (the library's extension): h in (0, 1), drawn over that range.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.selectOption('#cell', 'rnn-sigmoid');
    await resetModel();
    assert.equal(await page.textContent('#parameters'), String(16 * (1 + 16 + 2) + 17));
    assert.deepEqual(await page.$$eval('#heatmaps .panel', (es) => es.map((e) => (e as HTMLElement).dataset['panel'])), ['input', 'h']);
    assert.deepEqual(await page.$eval('#heatmaps .panel[data-panel="h"]', (e) => [(e as HTMLElement).dataset['min'], (e as HTMLElement).dataset['max'], (e as HTMLElement).dataset['colorMap']]), ['0', '1', 'viridis']);
    const sigmoidValues = [];
    for (const [unit, t] of [[0, 5], [3, 30], [7, 60], [12, 79], [15, 1]] as const) sigmoidValues.push((await hover('h', unit, t)).value);
    assert.ok(sigmoidValues.every((v) => v > 0 && v < 1), `sigmoid h: ${sigmoidValues}`);
    // The peephole LSTM: what each peephole adds to its gate, beside the gates.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.selectOption('#cell', 'peephole');
    await resetModel();
    assert.deepEqual(await page.$$eval('#heatmaps .panel', (es) => es.map((e) => (e as HTMLElement).dataset['panel'])), ['input', 'i', 'f', 'g', 'o', 'c', 'peephole_i', 'peephole_f', 'peephole_o', 'h']);
    const peephole = await hover('peephole_f', 4, 50);
    assert.ok(Number.isFinite(peephole.value) && peephole.text.startsWith('w_cf ⊙ c(t-1): peephole term of f · unit 4, t=50: '), peephole.text);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.selectOption('#cell', 'gru');
    await resetModel();
    const gru = await generation(page);

    // A bad setting (each refused one puts the model's own settings back in the controls): a readable message in the page, and the worker lives on.
    await page.fill('#hidden', '0');
    await page.click('#reset');
    await page.waitForSelector('#error:not([hidden])');
    assert.match((await page.textContent('#error'))!, /hidden must be an integer in \[1, 256\], received 0/);
    // Too large for the page to train live: refused before anything is allocated.
    await page.fill('#hidden', '100000');
    await page.click('#reset');
    await page.waitForFunction(() => /received 100000/.test(document.getElementById('error')!.textContent ?? ''));
    await page.fill('#layers', '2.5');
    await page.fill('#hidden', '8');
    await page.click('#reset');
    await page.waitForFunction(() => /layers must be an integer in \[1, 4\], received 2\.5/.test(document.getElementById('error')!.textContent ?? ''));
    await page.fill('#layers', '1');
    await page.screenshot({ path: join(ROOT, 'test-results', 'playground-error.png') });
    assert.equal(await generation(page), gru, 'refused settings build no model');
    await page.fill('#hidden', '8');
    await resetModel();
    assert.equal(await page.textContent('#parameters'), String(3 * 8 * (1 + 8 + 2) + 9));
    assert.equal(await page.isHidden('#error'), true);
    const smallGru = await generation(page);
    // Settings the task itself refuses (Nile has 100 values, too few for 200-step windows): the page
    // keeps the model it had, puts that model's settings back in the controls, and it still trains.
    await page.selectOption('#dataset', 'Nile');
    await page.fill('#seq-len', '200');
    await page.click('#reset');
    await page.waitForSelector('#error:not([hidden])');
    assert.match((await page.textContent('#error'))!, /200/);
    await page.waitForFunction(() => document.querySelector<HTMLSelectElement>('#dataset')!.value === 'sine' && document.querySelector<HTMLInputElement>('#seq-len')!.value === '25');
    assert.equal(await page.textContent('#parameters'), String(3 * 8 * (1 + 8 + 2) + 9), 'the previous GRU is still there');
    assert.equal(await generation(page), smallGru);
    await page.click('#step');
    await page.waitForFunction(() => document.getElementById('step-count')!.textContent === '1' && document.getElementById('heatmaps')!.dataset['step'] === '1');

    // Load the saved LSTM back: its settings return to the controls and its predictions are the same.
    await page.setInputFiles('#load', weightsFile);
    await newModelShown(page, smallGru, ['prediction-chart', 'heatmaps']);
    assert.deepEqual([await page.inputValue('#cell'), await page.textContent('#parameters')], ['lstm', '1233']);
    assert.equal(await page.getAttribute('#val-rmse', 'data-rmse'), savedRmse, 'the saved model predicts as it did');
    assert.equal(await page.inputValue('#hidden'), '16');
    // A file that is not a model: a message that names it.
    await page.setInputFiles('#load', { name: 'notes.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from('not a model at all') });
    await page.waitForSelector('#error:not([hidden])');
    assert.match((await page.textContent('#error'))!, /^notes\.safetensors is not a safetensors weights file: loadSafetensors: /);
    assert.deepEqual(errors, [], 'no uncaught errors in the page');
    await page.close();

    // Without COOP/COEP: one thread, and the page says why.
    const single = await openPage(browser, serverUrl(plain));
    assert.equal(await single.page.textContent('#threads'), '1');
    assert.equal(await single.page.textContent('#backend'), 'wasm');
    assert.match((await single.page.textContent('#isolation-note'))!, /not cross-origin isolated.*single-threaded/);
    assert.equal(await single.page.isVisible('#isolation-note'), true);
    await single.page.screenshot({ path: join(ROOT, 'test-results', 'playground-single-thread.png') });
    assert.deepEqual(single.errors, []);
    await single.page.close();

    // A worker that cannot start (its script is missing): the page says so instead of waiting forever.
    const broken = await mkdtemp(join(tmpdir(), 'recurrent-playground-broken-'));
    await cp(out, broken, { recursive: true });
    await rm(join(broken, 'worker.js'));
    const brokenServer = await servePlayground(broken, { isolated: true });
    servers.push(brokenServer);
    const failed = await browser.newPage();
    try {
      await failed.goto(serverUrl(brokenServer));
      await failed.waitForSelector('#error:not([hidden])', { timeout: 30_000 });
      assert.match((await failed.textContent('#error'))!, /^the training worker failed: /);
      assert.equal(await failed.isDisabled('#start'), true, 'nothing to start');
    } finally {
      await failed.close();
      await rm(broken, { recursive: true, force: true });
    }
  } finally {
    await browser.close();
    for (const server of servers) server.close();
    await rm(out, { recursive: true, force: true });
  }
});

/**
 * Builds the page into a fresh folder, serves it cross-origin isolated and opens it in Chromium; after
 * `body` (given the page and a scratch folder), no uncaught error may have reached the page.
 */
async function inBuiltPage(prefix: string, launchArgs: string[], body: (page: Page, scratch: string) => Promise<void>): Promise<void> {
  assert.ok(CHROMIUM, 'Chromium is required (RECURRENT_REQUIRE_BROWSER=1) but not installed');
  const scratch = await mkdtemp(join(tmpdir(), prefix));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', ...launchArgs] });
  let server: Server | null = null;
  try {
    const built = join(scratch, 'page');
    await buildPlayground(built);
    server = await servePlayground(built, { isolated: true });
    await mkdir(join(ROOT, 'test-results'), { recursive: true });
    const { page, errors } = await openPage(browser, serverUrl(server));
    await body(page, scratch);
    assert.deepEqual(errors, [], 'no uncaught errors in the page');
    await page.close();
  } finally {
    await browser.close();
    server?.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

const IN_CHROMIUM = { skip: !CHROMIUM && !required ? 'no Chromium here (.ci/run installs it)' : false, timeout: 300_000 };

test('the playground in Chromium: text, coloured by a unit; a selected span ranks the units and finds them elsewhere; sampling', IN_CHROMIUM, async () => {
  await inBuiltPage('recurrent-playground-text-', [], async (page) => {
    await page.selectOption('#dataset', 'persuasion');
    await page.fill('#hidden', '32');
    await page.fill('#seq-len', '50');
    const before = await generation(page);
    await page.click('#reset');
    await newModelShown(page, before, ['text-view']);
    assert.deepEqual([await page.evaluate(() => document.body.dataset['kind']), await page.getAttribute('#text-view', 'data-step')], ['text', '0']);
    // Only the text's views: the series charts and the cell view are hidden.
    assert.equal(await page.isVisible('#text-view'), true);
    assert.equal(await page.isVisible('#prediction-chart'), false);
    assert.equal(await page.isVisible('#heatmaps'), false);
    assert.equal(await page.textContent('#val-metric'), 'validation bits/char');
    const shown = await page.$$eval('#text-view span', (spans) => spans.map((s) => s.textContent).join(''));
    assert.equal(shown.length, 800, 'the 800 validation characters');
    assert.ok(/\n/.test(shown) && /[a-z]{4}/.test(shown), 'real lines of the novel');
    const untrainedBpc = Number(await page.textContent('#val-rmse'));
    // One-hot over about 80 characters: an untrained model is near log2(80) = 6.3 bits.
    assert.ok(untrainedBpc > 5, `untrained: ${untrainedBpc} bits per character`);

    // Train: the loss falls, and the coloured text refreshes while it runs.
    await page.evaluate(() => ((window as unknown as { longTasks: number[] }).longTasks = []));
    await page.click('#start');
    await page.waitForFunction(() => Number(document.getElementById('text-view')!.dataset['step']) > 0 && !document.getElementById('pause')!.hasAttribute('disabled'), undefined, { timeout: 60_000 });
    await page.waitForFunction(() => Number(document.getElementById('val-rmse')!.textContent) < 3.6, undefined, { timeout: 180_000, polling: 250 });
    const longTasks = await page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
    assert.ok(Math.max(0, ...longTasks) < 100 && longTasks.length <= 2, `longest main-thread task while training text: ${Math.max(0, ...longTasks)} ms (${longTasks.length} over 50 ms)`);
    await page.click('#pause');
    await page.waitForFunction(() => document.getElementById('pause')!.hasAttribute('disabled') && document.getElementById('text-view')!.dataset['step'] === document.getElementById('step-count')!.textContent);
    const bpc = Number(await page.textContent('#val-rmse'));
    assert.ok(bpc < 3.6, `trained: ${bpc} bits per character`);

    // Every character is coloured by unit 0; unit 5 recolours it.
    const colours = async (): Promise<{ unit: string; values: number[]; backgrounds: number }> => page.$eval('#text-view', (e) => ({
      unit: (e as HTMLElement).dataset['unit']!,
      values: Array.from(e.querySelectorAll('span'), (s) => Number((s as HTMLElement).dataset['value'])),
      backgrounds: new Set(Array.from(e.querySelectorAll('span'), (s) => (s as HTMLElement).style.background)).size,
    }));
    const unit0 = await colours();
    assert.equal(unit0.unit, '0');
    assert.ok(unit0.values.every((v) => v >= -1 && v <= 1) && unit0.backgrounds > 20, `h in [-1, 1], ${unit0.backgrounds} distinct colours`);
    await page.fill('#text-unit', '5');
    await page.dispatchEvent('#text-unit', 'change');
    const unit5 = await colours();
    assert.equal(unit5.unit, '5');
    assert.notDeepEqual(unit5.values, unit0.values, 'another unit, other values');

    // Select a word with the mouse (a drag across its characters).
    const from = shown.search(/ [a-z]{5,8} /) + 1;
    const to = shown.indexOf(' ', from);
    await selectText(page, from, to);
    await page.waitForFunction(() => document.querySelectorAll('#unit-ranking li').length > 0);
    assert.deepEqual(await page.$eval('#text-view', (e) => [(e as HTMLElement).dataset['from'], (e as HTMLElement).dataset['to']]), [String(from), String(to)], `the selection "${shown.slice(from, to)}"`);
    const selectedText = await page.$$eval('#text-view span.selected', (spans) => spans.map((s) => s.textContent).join(''));
    assert.equal(selectedText, shown.slice(from, to));
    const ranking = await page.$$eval('#unit-ranking li', (items) => items.map((li) => {
      const d = (li as HTMLElement).dataset;
      return { unit: Number(d['unit']), score: Number(d['score']), inside: Number(d['inside']), outside: Number(d['outside']) };
    }));
    console.log(`playground text: ${bpc} bpc; "${shown.slice(from, to)}" ranks ${JSON.stringify(ranking.slice(0, 3))}`);
    assert.ok(ranking.length > 0 && ranking.length <= 10 && ranking.every((m) => Number.isInteger(m.unit) && m.unit >= 0 && m.unit < 32), 'up to 10 units');
    for (let k = 0; k < ranking.length; k++) {
      const m = ranking[k]!;
      assert.ok(Math.abs(m.score - m.inside * m.outside) < 1e-12 && m.score > 0 && m.score <= 1, `score = inside × outside: ${JSON.stringify(m)}`);
      if (k > 0) assert.ok(m.score <= ranking[k - 1]!.score, 'ranked best first');
    }
    // Clicking the best unit colours the text by it; its values, as the page shows them, give its shares.
    const best = ranking[0]!;
    await page.click(`#unit-ranking li[data-unit="${best.unit}"] button`);
    const bestColours = await colours();
    assert.equal(bestColours.unit, String(best.unit));
    const threshold = 0.3;
    const length = to - from;
    const inside = bestColours.values.slice(from, to).filter((v) => v > threshold).length / length;
    const around = [...bestColours.values.slice(Math.max(0, from - length), from), ...bestColours.values.slice(to, to + length)];
    const outside = around.filter((v) => v <= threshold).length / around.length;
    assert.ok(Math.abs(inside - best.inside) < 1e-9 && Math.abs(outside - best.outside) < 1e-9, `unit ${best.unit}: on inside ${inside} (${best.inside}), off around ${outside} (${best.outside})`);

    // The places where the best units fire together: outlined in the text, alike in length, not the selection.
    const places = await page.$$eval('#places li[data-from]', (items) => items.map((li) => ({ from: Number((li as HTMLElement).dataset['from']), to: Number((li as HTMLElement).dataset['to']) })));
    const searched = (await page.getAttribute('#places', 'data-searched'))!.split(',').map(Number);
    assert.deepEqual(searched, ranking.slice(0, 3).map((m) => m.unit), 'the three best units search');
    const outlined = await page.$$eval('#text-view span.match', (spans) => spans.map((s) => Number((s as HTMLElement).dataset['i'])));
    assert.deepEqual(outlined, places.flatMap((p) => Array.from({ length: p.to - p.from }, (_, k) => p.from + k)).sort((a, b) => a - b));
    for (const p of places) {
      assert.ok(p.to - p.from >= Math.ceil(length / 2) && p.to - p.from <= 2 * length, `place [${p.from}, ${p.to}) alike in length to ${length}`);
      assert.ok(p.to <= from || p.from >= to, 'not the selection itself');
    }
    console.log(`playground text: ${places.length} places: ${places.map((p) => JSON.stringify(shown.slice(p.from, p.to))).join(' ')}`);
    await page.$eval('#text-view', (e) => e.scrollIntoView());
    await page.screenshot({ path: join(ROOT, 'test-results', 'playground-text.png'), fullPage: true });
    if (process.env['RECURRENT_UPDATE_DOCS'] === '1') await copyFile(join(ROOT, 'test-results', 'playground-text.png'), join(ROOT, 'docs', 'playground-text.png'));

    // Sampling: greedy (temperature 0) is the same as top-k 1 at any temperature; a seed repeats a draw.
    const sample = (settings: Record<string, string>): Promise<string> => sampleText(page, settings);
    const greedy = await sample({ prime: 'Anne ', 'sample-length': '120', temperature: '0', 'top-k': '0', 'sample-seed': '1' });
    assert.ok(greedy.startsWith('Anne ') && greedy.length === 125, `prime and 120 characters: ${JSON.stringify(greedy)}`);
    assert.equal(await sample({ temperature: '1', 'top-k': '1', 'sample-seed': '7' }), greedy, 'top-k 1 is greedy');
    const drawn = await sample({ temperature: '1', 'top-k': '0', 'sample-seed': '3' });
    assert.equal(drawn.length, 125);
    assert.notEqual(drawn, greedy);
    assert.equal(await sample({ 'sample-seed': '3' }), drawn, 'the same seed, the same text');
    // Every sampled character is one of the novel's (the 800 shown need not hold all its punctuation).
    const novel = new Set(await readFile(join(ROOT, 'data', 'text', 'austen-persuasion.txt'), 'utf8'));
    assert.ok(Array.from(drawn).every((ch) => novel.has(ch)), `characters of the novel: ${JSON.stringify(drawn)}`);
    // A prime the model cannot read: the message names the character.
    await page.fill('#prime', 'Anne €');
    await page.click('#sample');
    await page.waitForSelector('#error:not([hidden])');
    assert.match((await page.textContent('#error'))!, /^prime: "€" never occur in the training text/);
    await page.fill('#prime', 'Anne ');
    await page.fill('#sample-length', '0');
    await page.click('#sample');
    await page.waitForFunction(() => /sample length must be an integer in \[1, 2000\], received 0/.test(document.getElementById('error')!.textContent ?? ''));
  });
});

test('the playground in Chromium: music, a generated continuation as a piano roll, played through Web Audio and downloaded as .mid', IN_CHROMIUM, async () => {
  await inBuiltPage('recurrent-playground-music-', ['--autoplay-policy=no-user-gesture-required'], async (page) => {
    await page.selectOption('#dataset', 'pianobooster');
    await page.fill('#hidden', '32');
    await page.fill('#seq-len', '32');
    const before = await generation(page);
    await page.click('#reset');
    // A new music model shows a continuation at once (untrained: random notes).
    await newModelShown(page, before, ['piano-roll']);
    assert.equal(await page.evaluate(() => document.body.dataset['kind']), 'music');
    assert.equal(await page.isVisible('#piano-roll img'), true);
    assert.equal(await page.isVisible('#prediction-chart'), false);
    assert.equal(await page.isVisible('#text-view'), false);
    assert.equal(await page.textContent('#val-metric'), 'unigram NLL');
    const untrained = Number(await page.textContent('#val-loss'));
    const unigram = Number(await page.textContent('#val-rmse'));
    assert.ok(untrained > unigram, `untrained NLL ${untrained} above the unigram model's ${unigram}`);

    await page.click('#start');
    await page.waitForFunction((unigram) => Number(document.getElementById('val-loss')!.textContent) < unigram, unigram, { timeout: 180_000, polling: 250 });
    await page.click('#pause');
    await page.waitForFunction(() => document.getElementById('pause')!.hasAttribute('disabled') && document.getElementById('val-loss')!.dataset['step'] === document.getElementById('step-count')!.textContent);
    const trained = Number(await page.textContent('#val-loss'));
    assert.ok(trained < unigram, `trained NLL ${trained} below the unigram model's ${unigram}`);

    await page.fill('#music-length', '48');
    await page.fill('#music-seed', '5');
    // Training stops as soon as the model beats the unigram baseline, after a number of steps that
    // depends on the machine's speed; at temperature 1 such a model's 48 steps were once silent (CI,
    // 2026-12-02). Temperature 2 flattens what it samples from (a note probability of 0.02 becomes
    // 0.12), so the continuation holds notes whatever the model had learned by then.
    await page.fill('#music-temperature', '2');
    await page.click('#generate');
    const step = await page.textContent('#step-count');
    await page.waitForFunction((step) => document.getElementById('piano-roll')!.dataset['step'] === step, step);
    const roll = await page.$eval('#piano-roll', async (e) => {
      const d = (e as HTMLElement).dataset;
      const svg = await (await fetch(e.querySelector('img')!.src)).text();
      const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
      return {
        notes: JSON.parse(d['notes']!) as { pitch: number; start: number; duration: number; velocity: number }[],
        primeSteps: Number(d['primeSteps']), totalSteps: Number(d['totalSteps']),
        rects: doc.querySelectorAll('rect.note').length, marker: doc.querySelectorAll('line.marker').length,
      };
    });
    assert.equal(roll.totalSteps, roll.primeSteps + 48, 'the opening, then 48 generated steps');
    assert.ok(roll.notes.some((n) => n.start >= roll.primeSteps), 'notes in the generated part');
    assert.ok(roll.notes.every((n) => n.start >= 0 && n.duration >= 1 && n.start + n.duration <= roll.totalSteps && n.pitch >= 21 && n.pitch <= 108), 'notes on the grid and in the piano range');
    assert.equal(roll.rects, roll.notes.length, 'one bar per note in the piano roll');
    assert.equal(roll.marker, 1, 'the line where the generated part begins');

    // The .mid download holds those notes (read back by the library's parser).
    const download = page.waitForEvent('download');
    await page.click('#midi-download');
    const saved = await download;
    assert.equal(saved.suggestedFilename(), 'recurrent-music-5.mid');
    const midiFile = join(ROOT, 'test-results', 'playground-music.mid');
    await saved.saveAs(midiFile);
    const song = parseMidi(await readFile(midiFile), 'playground-music.mid', { stepsPerQuarter: 4 });
    assert.deepEqual(song.notes.map((n) => [n.pitch, n.start, n.duration]), roll.notes.map((n) => [n.pitch, n.start, n.duration]));

    // Play: one oscillator per note, scheduled on the audio clock; the button then stops it.
    await page.click('#play');
    await page.waitForFunction(() => document.getElementById('piano-roll')!.dataset['state'] === 'playing');
    assert.equal(await page.textContent('#play'), 'Stop');
    assert.equal(Number(await page.getAttribute('#piano-roll', 'data-scheduled')), roll.notes.length);
    const seconds = Number(await page.getAttribute('#piano-roll', 'data-seconds'));
    assert.ok(Math.abs(seconds - roll.totalSteps * 60 / song.bpm / 4) < 1e-6, `${seconds} s at ${song.bpm} bpm`);
    await page.screenshot({ path: join(ROOT, 'test-results', 'playground-music.png'), fullPage: true });
    if (process.env['RECURRENT_UPDATE_DOCS'] === '1') await copyFile(join(ROOT, 'test-results', 'playground-music.png'), join(ROOT, 'docs', 'playground-music.png'));
    await page.click('#play');
    await page.waitForFunction(() => document.getElementById('piano-roll')!.dataset['state'] === 'stopped');
    assert.equal(await page.textContent('#play'), 'Play');

    // Bad settings: a readable message.
    await page.fill('#music-length', '5000');
    await page.click('#generate');
    await page.waitForSelector('#error:not([hidden])');
    assert.match((await page.textContent('#error'))!, /music length must be an integer number of steps in \[1, 1024\], received 5000/);
  });
});

test('the playground in Chromium: an RNN and an LSTM of one size trained side by side on the adding problem, both gradient curves', IN_CHROMIUM, async () => {
  await inBuiltPage('recurrent-playground-compare-', [], async (page) => {
    await page.click('#compare');
    assert.equal(await page.isDisabled('#compare'), true, 'one comparison at a time');
    await page.waitForFunction(() => /training the (RNN|LSTM)/.test(document.getElementById('comparison-status')!.textContent ?? ''));
    await page.waitForFunction(() => document.getElementById('comparison-chart')!.dataset['curves'] !== undefined, undefined, { timeout: 240_000 });
    type Compared = { cell: string; hidden: number; parameters: number; stages: { stage: string; decadesLost: number; trainedMse: number | null; length: number; last: number }[] };
    const cells = JSON.parse((await page.getAttribute('#comparison-chart', 'data-curves'))!) as Compared[];
    console.log(`playground comparison: ${JSON.stringify(cells)}`);
    assert.deepEqual(cells.map((c) => c.cell), ['rnn', 'lstm']);
    const [rnn, lstm] = cells as [Compared, Compared];
    // One size: the same parameter budget (2000), met to within a unit's worth of parameters.
    assert.ok(Math.abs(rnn.parameters - 2000) <= 2 * rnn.hidden + 4 && Math.abs(lstm.parameters - 2000) <= 8 * lstm.hidden + 4, `parameters ${rnn.parameters} and ${lstm.parameters}`);
    assert.ok(rnn.hidden > lstm.hidden, 'the RNN spends its budget on more units');
    for (const c of cells) {
      assert.deepEqual(c.stages.map((s) => s.stage), ['initialisation', 'trained']);
      for (const s of c.stages) assert.ok(s.length === 200 && s.last > 0 && Number.isFinite(s.decadesLost), `${c.cell} ${s.stage}: ${JSON.stringify(s)}`);
      // The adding problem's do-nothing answer (always 1) scores about 0.167.
      assert.ok(c.stages[1]!.trainedMse! > 0, `${c.cell}: test MSE ${c.stages[1]!.trainedMse}`);
    }
    // The vanishing gradient, seen. At initialisation both lose many decades over 200 steps (the
    // LSTM's forget gates sit near 0.5), the RNN more. Training on the adding problem: the LSTM solves
    // it and learns to carry the gradient back (a few decades lost at most); the RNN does not solve it.
    const [rnnInit, rnnTrained] = rnn.stages as [Compared['stages'][0], Compared['stages'][0]];
    const [lstmInit, lstmTrained] = lstm.stages as [Compared['stages'][0], Compared['stages'][0]];
    assert.ok(rnnInit.decadesLost > lstmInit.decadesLost + 5 && lstmInit.decadesLost > 20, `initialisation: RNN ${rnnInit.decadesLost} decades, LSTM ${lstmInit.decadesLost}`);
    assert.ok(lstmTrained.trainedMse! < 0.05 && lstmTrained.decadesLost < 10, `trained LSTM: MSE ${lstmTrained.trainedMse}, ${lstmTrained.decadesLost} decades`);
    assert.ok(rnnTrained.trainedMse! > 0.1, `trained RNN: MSE ${rnnTrained.trainedMse} (not solved)`);
    const pixels = await colourCounts(page, 'comparison-chart', { rnn: [0xff, 0x7f, 0x0e], lstm: BLUE });
    assert.ok(pixels.rnn! > 200 && pixels.lstm! > 200, `both cells' lines drawn: ${JSON.stringify(pixels)}`);
    assert.match((await page.textContent('#comparison-status'))!, /^1000 steps at most on sequences of 50, measured over 200\. RNN \(hidden \d+, \d+ parameters\): test MSE [\d.]+, .*; LSTM/);
    assert.equal(await page.isDisabled('#compare'), false);
    await page.$eval('#comparison-chart', (e) => e.scrollIntoView());
    await page.screenshot({ path: join(ROOT, 'test-results', 'playground-comparison.png') });
    if (process.env['RECURRENT_UPDATE_DOCS'] === '1') await copyFile(join(ROOT, 'test-results', 'playground-comparison.png'), join(ROOT, 'docs', 'playground-comparison.png'));
  });
});

test('the playground in Chromium: a run folder trained by the CLI loads and forecasts as recurrent predict does', IN_CHROMIUM, async () => {
  await inBuiltPage('recurrent-playground-cli-', [], async (page, out) => {
    const run = join(out, 'run');
    // A small GRU on the sine, with the CLI's own recipe (target delta, validation and test parts).
    const trained = await runCli(['train', 'series', '--data', 'sine', '--cell', 'gru', '--hidden', '12', '--seq-len', '20', '--steps', '40', '--out', run]);
    assert.equal(trained.code, 0, trained.stderr);
    const config = JSON.parse(await readFile(join(run, 'config.json'), 'utf8')) as { summary: { testIndex: number } };
    // The page forecasts past the data the model may see (up to the test part): recurrent predict on that data.
    const seen = sineSeries();
    const end = config.summary.testIndex;
    const csv = join(out, 'seen.csv');
    await writeFile(csv, 'time,value\n' + Array.from(seen.values.subarray(0, end), (v, t) => `${t},${v}`).join('\n') + '\n');
    const predicted = await runCli(['predict', 'series', '--model', run, '--data', csv, '--horizon', '50', '--json']);
    assert.equal(predicted.code, 0, predicted.stderr);
    const cli = JSON.parse(predicted.stdout) as { forecast: number[]; lower: number[]; upper: number[]; coverage: number };
    const cliForecast = cli.forecast;
    assert.equal(cliForecast.length, 50);
    assert.equal(cli.coverage, 0.8);

    // The page's first model (an LSTM, also at step 0, with a forecast and band of its own) is shown until the run's arrives.
    const before = await generation(page);
    await page.setInputFiles('#load', [join(run, 'config.json'), join(run, 'best.safetensors')]);
    await newModelShown(page, before, ['prediction-chart', 'heatmaps']);
    assert.deepEqual([await page.inputValue('#cell'), await page.textContent('#parameters')], ['gru', String(3 * 12 * (1 + 12 + 2) + 13)]);
    assert.equal(await page.inputValue('#hidden'), '12');
    assert.equal(await page.inputValue('#seq-len'), '20');
    const pageForecast = JSON.parse((await page.getAttribute('#prediction-chart', 'data-forecast'))!) as number[];
    assert.equal(pageForecast.length, 50, 'two periods of the sine');
    const worst = Math.max(...pageForecast.map((v, k) => Math.abs(v - cliForecast[k]!)));
    console.log(`playground: a CLI run's 50-step forecast in the page differs from recurrent predict's by at most ${worst.toExponential(2)}`);
    // The CLI's products of more than 8 rows may run on the system BLAS and the page's on wasm: the same
    // sums in another order, whose last-bit differences grow over 50 fed-back steps (seen: 1.0e-6 over
    // OpenBLAS's Haswell kernels, under 1e-6 over its SkylakeX ones), on values of about 1.
    assert.ok(worst < 5e-6, `the page's forecast against the CLI's: largest difference ${worst}`);
    // Its interval: the band the chart draws (read back from the chart's data) is recurrent predict's 80% interval.
    const band = JSON.parse((await page.getAttribute('#prediction-chart', 'data-band'))!) as { lower: number[]; upper: number[] };
    assert.equal(band.lower.length, 50);
    assert.equal(band.upper.length, 50);
    const worstBound = Math.max(...band.lower.map((v, k) => Math.abs(v - cli.lower[k]!)), ...band.upper.map((v, k) => Math.abs(v - cli.upper[k]!)));
    console.log(`playground: its 80% interval differs from recurrent predict's by at most ${worstBound.toExponential(2)}; width ${(band.upper[0]! - band.lower[0]!).toPrecision(3)} at step 1, ${(band.upper[49]! - band.lower[49]!).toPrecision(3)} at step 50`);
    // A bound is the forecast plus a quantile of earlier forecasts' errors: two terms that each carry
    // the kernels' last-bit differences between Chromium and Node (the bound above), so twice that.
    assert.ok(worstBound < 1e-5, `the page's interval against the CLI's: largest difference ${worstBound}`);
    assert.ok(pageForecast.every((v, k) => band.lower[k]! <= v && v <= band.upper[k]!), 'lower <= forecast <= upper at every step');
    assert.ok(band.upper.some((v, k) => v > band.lower[k]!), 'an interval of some width');
    assert.equal(await page.textContent('#interval-key'), '80% interval');
    const bandPixels = await colourCounts(page, 'prediction-chart', { band: INTERVAL, forecast: GREEN });
    assert.ok(bandPixels.band! > 200, `the interval drawn as a band: ${bandPixels.band} pixels`);
    assert.ok(bandPixels.forecast! > 100, `the forecast drawn over its band: ${bandPixels.forecast} pixels`);
    await page.screenshot({ path: join(ROOT, 'test-results', 'playground-cli-series.png'), fullPage: true });
    await page.locator('section', { has: page.locator('#prediction-chart') }).screenshot({ path: join(ROOT, 'test-results', 'playground-forecast.png') });
    if (process.env['RECURRENT_UPDATE_DOCS'] === '1') await copyFile(join(ROOT, 'test-results', 'playground-forecast.png'), join(ROOT, 'docs', 'playground-forecast.png'));
    // A step of training: once it has settled, the forecast and its band are the new model's.
    await page.click('#step');
    await page.waitForFunction(() => document.getElementById('val-loss')!.dataset['step'] === '1');
    assert.equal(await page.getAttribute('#prediction-chart', 'data-forecast-step'), '1');
    assert.notDeepEqual(JSON.parse((await page.getAttribute('#prediction-chart', 'data-band'))!), band, 'the band follows the model');

    // A config.json alone, and a run of data the page does not have: messages that say what to do.
    await page.setInputFiles('#load', [join(run, 'config.json')]);
    await page.waitForSelector('#error:not([hidden])');
    assert.match((await page.textContent('#error'))!, /config\.json came without a checkpoint: choose it together with the run folder's best\.safetensors/);
    const elsewhere = JSON.parse(await readFile(join(run, 'config.json'), 'utf8')) as { data: Record<string, unknown> };
    elsewhere.data = { ...elsewhere.data, synthetic: null, path: '/home/someone/sales.csv', shipped: false };
    await page.setInputFiles('#load', [
      { name: 'config.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(elsewhere)) },
      { name: 'best.safetensors', mimeType: 'application/octet-stream', buffer: await readFile(join(run, 'best.safetensors')) },
    ]);
    await page.waitForFunction(() => /sales\.csv; the page holds only the series sine, AirPassengers/.test(document.getElementById('error')!.textContent ?? ''));
  });
});

test('the text view colour scale: symmetric around 0 up to the unit\'s largest |value|, or [0, max] for a unit never below zero', () => {
  assert.deepEqual(unitScale([0.1, -0.4, 0.25], 0, 3), { low: -0.4, high: 0.4 });
  assert.deepEqual(unitScale([0, 3.5, 1.2, 9, 9, -1], 0, 5), { low: 0, high: 9 }, 'a relu unit: only its own values count');
  // The ends are the map's ends; 0 is white whatever the scale.
  assert.equal(shade({ low: 0, high: 3.5 }, 3.5), colorAt('diverging', 1));
  assert.equal(shade({ low: -0.4, high: 0.4 }, -0.4), colorAt('diverging', 0));
  assert.equal(shade({ low: 0, high: 3.5 }, 0), colorAt('diverging', 0.5));
  assert.equal(shade({ low: -2, high: 2 }, 0), colorAt('diverging', 0.5));
  // A dead unit (all zero) is white, not a division by zero.
  assert.equal(shade(unitScale([0, 0], 0, 2), 0), colorAt('diverging', 0.5));
});

/** Fills in the sampling controls (ids to values), samples, and returns the text the page shows. */
async function sampleText(page: Page, settings: Record<string, string>): Promise<string> {
  for (const [id, value] of Object.entries(settings)) await page.fill(`#${id}`, value);
  await page.evaluate(() => (document.getElementById('sample-output')!.textContent = ''));
  await page.click('#sample');
  await page.waitForFunction(() => document.getElementById('sample-output')!.textContent !== '');
  return (await page.textContent('#sample-output'))!;
}

/** Drags the mouse across characters [from, to) of the shown text, as a reader selects a word. */
async function selectText(page: Page, from: number, to: number): Promise<void> {
  const box = async (i: number): Promise<{ x: number; y: number; width: number; height: number }> => {
    await page.$eval(`#text-view span[data-i="${i}"]`, (e) => e.scrollIntoView({ block: 'center' }));
    return (await page.$(`#text-view span[data-i="${i}"]`))!.boundingBox() as Promise<{ x: number; y: number; width: number; height: number }>;
  };
  const start = await box(from);
  const end = await box(to - 1);
  await page.mouse.move(start.x + 1, start.y + start.height / 2);
  await page.mouse.down();
  await page.mouse.move(end.x + end.width - 1, end.y + end.height / 2, { steps: 5 });
  await page.mouse.up();
}

test('the playground in Chromium: a relu RNN\'s text colours use its own scale, whose ends are shown', IN_CHROMIUM, async () => {
  await inBuiltPage('recurrent-playground-scale-', [], async (page) => {
    await page.selectOption('#dataset', 'persuasion');
    await page.selectOption('#cell', 'rnn-relu');
    await page.fill('#hidden', '16');
    await page.fill('#seq-len', '50');
    const before = await generation(page);
    await page.click('#reset');
    await newModelShown(page, before, ['text-view']);
    for (let step = 1; step <= 5; step++) {
      await page.click('#step');
      await page.waitForFunction((step) => document.getElementById('text-view')!.dataset['step'] === String(step), step);
    }
    let checked = 0;
    for (const unit of [0, 3, 7, 12, 15]) {
      await page.fill('#text-unit', String(unit));
      await page.dispatchEvent('#text-unit', 'change');
      const shown = await page.$eval('#text-view', (e) => {
        const spans = Array.from(e.querySelectorAll('span'));
        const scale = document.getElementById('text-scale')!;
        return {
          unit: (e as HTMLElement).dataset['unit'],
          values: spans.map((s) => Number((s as HTMLElement).dataset['value'])),
          backgrounds: spans.map((s) => (s as HTMLElement).style.background),
          low: Number(scale.dataset['low']), high: Number(scale.dataset['high']),
          lowEnd: scale.querySelector<HTMLElement>('.end.low')!.style.background, highEnd: scale.querySelector<HTMLElement>('.end.high')!.style.background,
          text: scale.textContent,
        };
      });
      assert.equal(shown.unit, String(unit));
      const max = Math.max(...shown.values);
      assert.ok(Math.min(...shown.values) >= 0, `unit ${unit}: relu, never below zero`);
      assert.equal(shown.low, 0, 'a non-negative unit: the scale starts at 0');
      assert.equal(shown.high, max, 'and ends at its largest value');
      assert.equal(shown.text, `colour scale 0.00  ${max.toPrecision(3)}`, 'the ends are shown, each beside its colour');
      if (max === 0) continue;
      checked++;
      // The largest value has the scale's end colour, the map's deepest red; a zero is white, the low end's.
      assert.equal(shown.backgrounds[shown.values.indexOf(max)], shown.highEnd, `unit ${unit}: the colour of its largest value ${max}`);
      const zero = shown.values.indexOf(0);
      if (zero >= 0) assert.equal(shown.backgrounds[zero], shown.lowEnd);
      if (max > 1) assert.ok(shown.values.some((v) => v > 1), 'beyond tanh\'s range, still on the scale');
    }
    assert.ok(checked >= 3, `${checked} units with some activity`);
    assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('#text-scale .end.high')!).backgroundColor), 'rgb(178, 24, 43)', 'the map\'s red end');
    await page.$eval('#text-view', (e) => e.scrollIntoView());
    await page.screenshot({ path: join(ROOT, 'test-results', 'playground-text-relu.png'), fullPage: true });
  });
});

test('the playground in Chromium: text and music runs trained by the CLI load; the page samples and generates as recurrent generate does', IN_CHROMIUM, async () => {
  await inBuiltPage('recurrent-playground-cli-runs-', [], async (page, out) => {
    const text = join(out, 'text');
    const music = join(out, 'music');
    // Tiny runs with the CLI's own recipes on its default data: text on both shipped novels (the page
    // bundles one and fetches the other), with a 32-wide embedding; music on the whole pianobooster folder.
    const [trainedText, trainedMusic] = await Promise.all([
      runCli(['train', 'text', '--hidden', '24', '--seq-len', '32', '--batch', '8', '--steps', '30', '--out', text]),
      runCli(['train', 'music', '--hidden', '24', '--seq-len', '32', '--batch', '8', '--steps', '30', '--out', music]),
    ]);
    assert.equal(trainedText.code, 0, trainedText.stderr);
    assert.equal(trainedMusic.code, 0, trainedMusic.stderr);
    const cliMidi = join(out, 'cli.mid');
    const [greedy, drawn, textEval, generated, musicEval] = await Promise.all([
      runCli(['generate', 'text', '--model', text, '--prime', 'Anne ', '--length', '80', '--temperature', '0', '--seed', '1']),
      runCli(['generate', 'text', '--model', text, '--prime', 'Anne ', '--length', '80', '--temperature', '0.9', '--top-k', '5', '--seed', '3']),
      runCli(['eval', 'text', '--model', text, '--split', 'validation', '--json']),
      runCli(['generate', 'music', '--model', music, '--length', '48', '--temperature', '1', '--top-k', '0', '--seed', '5', '--out', cliMidi]),
      runCli(['eval', 'music', '--model', music, '--split', 'validation', '--json']),
    ]);
    for (const run of [greedy, drawn, textEval, generated, musicEval]) assert.equal(run.code, 0, run.stderr);
    const lastJson = (stdout: string): { loss: number } => JSON.parse(stdout.trim().split('\n').pop()!) as { loss: number };

    // Text: the run's settings in the controls, its validation loss, and its samples, as the CLI's.
    const series = await generation(page);
    await page.setInputFiles('#load', [join(text, 'config.json'), join(text, 'best.safetensors')]);
    const textModel = await newModelShown(page, series, ['text-view']);
    assert.deepEqual([await page.evaluate(() => document.body.dataset['kind']), await page.getAttribute('#text-view', 'data-step')], ['text', '0']);
    assert.equal(await page.inputValue('#dataset'), 'persuasion');
    assert.equal(await page.inputValue('#hidden'), '24');
    const textLoss = Number(await page.getAttribute('#val-loss', 'data-value'));
    const cliTextLoss = lastJson(textEval.stdout).loss;
    console.log(`playground: a CLI text run's validation loss ${textLoss} in the page, ${cliTextLoss} by recurrent eval`);
    assert.ok(Math.abs(textLoss - cliTextLoss) < 1e-6, `validation loss: page ${textLoss}, CLI ${cliTextLoss}`);
    const sample = (settings: Record<string, string>): Promise<string> => sampleText(page, settings);
    assert.equal(await sample({ prime: 'Anne ', 'sample-length': '80', temperature: '0', 'top-k': '0', 'sample-seed': '1' }), greedy.stdout.replace(/\n$/, ''), 'greedy, as recurrent generate text --temperature 0');
    assert.equal(await sample({ temperature: '0.9', 'top-k': '5', 'sample-seed': '3' }), drawn.stdout.replace(/\n$/, ''), 'a seeded draw, as recurrent generate text --seed 3');
    // The coloured text and the unit ranking work on the loaded model.
    assert.equal(await page.$$eval('#text-view span', (spans) => spans.length), 800);
    const shown = await page.$$eval('#text-view span', (spans) => spans.map((s) => s.textContent).join(''));
    const from = shown.search(/ [a-z]{5,8} /) + 1;
    await selectText(page, from, shown.indexOf(' ', from));
    await page.waitForFunction(() => document.querySelectorAll('#unit-ranking li').length > 0);
    const units = await page.$$eval('#unit-ranking li', (items) => items.map((li) => Number((li as HTMLElement).dataset['unit'] ?? -1)));
    assert.ok(units.every((unit) => unit >= -1 && unit < 24), `ranked units of the 24: ${units}`);
    await page.screenshot({ path: join(ROOT, 'test-results', 'playground-cli-text.png'), fullPage: true });

    // Music: its continuation is the CLI's .mid, byte for byte, and its validation NLL the CLI's.
    await page.setInputFiles('#load', [join(music, 'config.json'), join(music, 'best.safetensors')]);
    // The page generates at once for a new music model (with its own controls); then with the CLI's settings.
    await newModelShown(page, textModel, ['piano-roll']);
    assert.equal(await page.evaluate(() => document.body.dataset['kind']), 'music');
    const musicLoss = Number(await page.getAttribute('#val-loss', 'data-value'));
    const cliMusicLoss = lastJson(musicEval.stdout).loss;
    console.log(`playground: a CLI music run's validation NLL ${musicLoss} in the page, ${cliMusicLoss} by recurrent eval`);
    assert.ok(Math.abs(musicLoss - cliMusicLoss) < 1e-6, `validation NLL: page ${musicLoss}, CLI ${cliMusicLoss}`);
    for (const [id, value] of Object.entries({ 'music-length': '48', 'music-temperature': '1', 'music-top-k': '0', 'music-seed': '5' })) await page.fill(`#${id}`, value);
    await page.evaluate(() => delete document.getElementById('piano-roll')!.dataset['notes']);
    await page.click('#generate');
    await page.waitForFunction(() => document.getElementById('piano-roll')!.dataset['notes'] !== undefined);
    const download = page.waitForEvent('download');
    await page.click('#midi-download');
    const pageMidi = join(out, 'page.mid');
    await (await download).saveAs(pageMidi);
    assert.deepEqual(await readFile(pageMidi), await readFile(cliMidi), 'the page\'s .mid is recurrent generate music\'s');
    await page.screenshot({ path: join(ROOT, 'test-results', 'playground-cli-music.png'), fullPage: true });

    // Runs the page cannot take: a message naming the file, and the music model stays.
    const parameters = await page.textContent('#parameters');
    const textConfig = await readFile(join(text, 'config.json'), 'utf8');
    const refused = async (config: string, expected: RegExp): Promise<void> => {
      await page.evaluate(() => (document.getElementById('error')!.hidden = true));
      await page.setInputFiles('#load', [
        { name: 'config.json', mimeType: 'application/json', buffer: Buffer.from(config) },
        { name: 'best.safetensors', mimeType: 'application/octet-stream', buffer: await readFile(join(text, 'best.safetensors')) },
      ]);
      await page.waitForSelector('#error:not([hidden])');
      assert.match((await page.textContent('#error'))!, expected);
      assert.equal(await page.evaluate(() => document.body.dataset['kind']), 'music', 'the page keeps its model');
      assert.equal(await page.textContent('#parameters'), parameters);
      await page.waitForFunction(() => document.querySelector<HTMLSelectElement>('#dataset')!.value === 'pianobooster', undefined, { timeout: 5000 });
    };
    const edited = (edit: (config: Record<string, Record<string, unknown>>) => void): string => {
      const config = JSON.parse(textConfig) as Record<string, Record<string, unknown>>;
      edit(config);
      return JSON.stringify(config);
    };
    await refused(edited((c) => ((c as Record<string, unknown>)['task'] = 'denoise')), /^config\.json is a denoise run; the page loads series, text and music runs trained by the CLI$/);
    await refused(textConfig.slice(0, 200), /^config\.json is not JSON \(/);
    await refused(edited((c) => (c['model']!['hiddenSize'] = 'many')), /^config\.json: model\.hiddenSize must be a number, received "many"$/);
    await refused(edited((c) => delete c['summary']!['vocabulary']), /^config\.json: summary\.vocabulary is missing/);
    await refused(edited((c) => (c['data'] = { ...c['data'], path: '/home/someone/books', shipped: false, files: ['/home/someone/books/a.txt'] })), /^config\.json was trained on \/home\/someone\/books; the page holds only the shipped texts text\/austen-persuasion\.txt, text\/austen-sense\.txt$/);
    // A config that parses but whose model the checkpoint does not fit: refused after building, the old model kept.
    await refused(edited((c) => (c['model']!['hiddenSize'] = 25)), /^config\.json with best\.safetensors: .*25/);
  });
});
