// The browser playground (web/, scripts/playground.ts). In Node: the inspection code the worker runs
// (gates from the reference cells, gradients through time) against the fused forward and against the
// chain rule written out. In headless Chromium (Debian's chromium through playwright-core, as
// test/browser.test.ts): the built page trains the sine until its validation loss is low, draws the
// prediction, the gate heatmaps and the gradient plot (checked through the DOM and canvas pixels),
// keeps its main thread free of long tasks, surfaces errors, and says when it runs single-threaded.
// Screenshots go to test-results/; RECURRENT_UPDATE_DOCS=1 also writes docs/playground.png.
//
// Needs Chromium: .ci/run installs it. Elsewhere the browser test is skipped with the reason, unless
// RECURRENT_REQUIRE_BROWSER=1 makes a missing browser a failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Generator } from '../src/tensor/index.js';
import { SequenceModel, type CellType } from '../src/tasks/index.js';
import { cellView, gradientNorms } from '../web/inspect.js';
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

    await page.evaluate(() => ((window as unknown as { longTasks: number[] }).longTasks = []));
    await page.click('#start');
    const started = Date.now();
    await page.waitForFunction((target) => {
      const loss = Number(document.getElementById('val-loss')!.textContent);
      return loss > 0 && loss < target;
    }, TARGET_LOSS, { timeout: 180_000, polling: 250 });
    // Keep training a little longer, so the stretch covers several redraws of every view.
    await page.waitForTimeout(Math.max(0, 6000 - (Date.now() - started)));
    const longTasks = await page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
    const longest = Math.max(0, ...longTasks);
    console.log(`playground: ${longTasks.length} long tasks during ${((Date.now() - started) / 1000).toFixed(1)} s of training, longest ${longest.toFixed(0)} ms; ${await page.textContent('#steps-per-second')} steps/s`);
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

    // Inside the cell: the input and every LSTM gate and state, one rect per unit and step, read
    // back from the SVG each panel's image shows.
    const panels = await page.$$eval('#heatmaps .panel', (elements) => Promise.all(elements.map(async (e) => {
      const d = (e as HTMLElement).dataset;
      const svg = await (await fetch(e.querySelector('img')!.src)).text();
      const cells = Array.from(new DOMParser().parseFromString(svg, 'image/svg+xml').querySelectorAll('rect.cell'));
      return { name: d['panel'], rows: Number(d['rows']), cols: Number(d['cols']), cells: cells.length, fills: new Set(cells.map((r) => r.getAttribute('fill'))).size };
    })));
    assert.deepEqual(panels.map((p) => p.name), ['input', 'i', 'f', 'g', 'o', 'c', 'h']);
    for (const p of panels) {
      assert.equal(p.rows, p.name === 'input' ? 1 : 16);
      assert.equal(p.cols, 80, 'an 80-step validation window');
      assert.equal(p.cells, p.rows * p.cols, `${p.name}: one rect per unit and step`);
      assert.ok(p.fills > 10, `${p.name}: ${p.fills} distinct colours`);
    }
    assert.ok(Number(await page.getAttribute('#reference-error', 'data-value')) < 1e-5, 'the heatmaps show the model: reference cells = fused forward');
    /** Points at the centre of a cell's rect (its geometry read from the SVG) and reads the readout. */
    const hover = async (panel: string, unit: number, t: number): Promise<{ value: number; text: string }> => {
      const point = await page.$eval(`#heatmaps .panel[data-panel="${panel}"] img`, async (image, [unit, t]) => {
        image.scrollIntoView({ block: 'center' });
        const svg = await (await fetch((image as HTMLImageElement).src)).text();
        const cell = new DOMParser().parseFromString(svg, 'image/svg+xml').querySelectorAll('rect.cell')[unit! * 80 + t!]!;
        const box = image.getBoundingClientRect();
        // (No helper function here: tsx would wrap it in a __name call the page does not have.)
        const [x, y, width, height] = ['x', 'y', 'width', 'height'].map((name) => Number(cell.getAttribute(name)));
        return { x: box.left + x! + width! / 2, y: box.top + y! + height! / 2 };
      }, [unit, t]);
      await page.mouse.move(point.x, point.y);
      const data = await page.$eval('#hover', (e) => {
        const d = (e as HTMLElement).dataset;
        return { panel: d['panel'], unit: d['unit'], t: d['t'], value: d['value'], text: e.textContent ?? '' };
      });
      assert.deepEqual([data.panel, data.unit, data.t], [panel, String(unit), String(t)], `hover ${panel} ${unit} ${t}`);
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

    // Reset with a GRU: the old model is disposed, the new one shows its own gates.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.selectOption('#cell', 'gru');
    await page.click('#reset');
    await page.waitForFunction(() => document.getElementById('step-count')!.textContent === '0' && document.getElementById('heatmaps')!.dataset['step'] === '0' && document.querySelector('#heatmaps .panel[data-panel="r"]') !== null);
    assert.equal(await page.getAttribute('#parameters', 'data-previous-disposed'), 'true');
    assert.deepEqual(await page.$$eval('#heatmaps .panel', (es) => es.map((e) => (e as HTMLElement).dataset['panel'])), ['input', 'r', 'z', 'n', 'h']);
    await page.click('#step');
    await page.waitForFunction(() => document.getElementById('step-count')!.textContent === '1');
    // Two layers: the layer menu switches the cell view to the upper one.
    await page.fill('#layers', '2');
    await page.click('#reset');
    await page.waitForFunction(() => document.querySelectorAll('#layer option').length === 2 && document.getElementById('heatmaps')!.dataset['step'] === '0');
    await page.selectOption('#layer', '1');
    await page.waitForFunction(() => document.getElementById('heatmaps')!.dataset['layer'] === '1');
    assert.deepEqual(await page.$$eval('#heatmaps .panel', (es) => es.map((e) => (e as HTMLElement).dataset['panel'])), ['input', 'r', 'z', 'n', 'h']);
    assert.equal((await page.getAttribute('#gradient-chart', 'data-first'))!.split(',').length, 2, 'one gradient line per layer');
    await page.fill('#layers', '1');

    // A bad setting: a readable message in the page, and the worker lives on.
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
    await page.fill('#hidden', '8');
    await page.click('#reset');
    await page.waitForFunction(() => document.getElementById('parameters')!.textContent === String(3 * 8 * (1 + 8 + 2) + 9) && document.getElementById('error')!.hidden);

    // Load the saved LSTM back: its settings return to the controls and its predictions are the same.
    await page.setInputFiles('#load', weightsFile);
    await page.waitForFunction(() => document.querySelector<HTMLSelectElement>('#cell')!.value === 'lstm' && document.getElementById('parameters')!.textContent === '1233');
    await page.waitForFunction((rmse) => document.getElementById('val-rmse')!.dataset['rmse'] === rmse, savedRmse);
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
