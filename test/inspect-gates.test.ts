// `recurrent inspect gates` and the gate trace behind it (src/nn/recurrent/gate-trace.ts). The trace
// is checked against the cells' equations written out here again as plain loops over the layer's
// weights (PyTorch's formulas, float64), for every cell kind, two layers and both directions; the
// command end to end on tiny trained runs of each task; and its errors.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GRU, LSTM, RNN, gateTrace, type LayerGateTrace } from '../src/nn/index.js';
import { Generator, randn, type Tensor } from '../src/tensor/index.js';
import { runCli, type CliRun } from './helpers/cli.js';

const TMP = mkdtempSync(join(tmpdir(), 'recurrent-inspect-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
type Vec = number[];

/** W x (+ b) for a [rows, cols] weight stored row-major. */
function affine(w: Tensor, x: Vec, b: Tensor | undefined): Vec {
  const [rows, cols] = w.shape as [number, number];
  const d = w.data;
  return Array.from({ length: rows }, (_, r) => {
    let s = b ? b.data[r]! : 0;
    for (let k = 0; k < cols; k++) s += d[r * cols + k]! * x[k]!;
    return s;
  });
}

/** Every signal of one direction, by the textbook equations, from zero states: signal -> [t][unit]. */
function handTrace(kind: string, p: (name: string) => Tensor | undefined, xs: Vec[], H: number, reverse: boolean): Map<string, Vec[]> {
  const T = xs.length;
  const out = new Map<string, Vec[]>();
  const put = (name: string, t: number, v: Vec): void => {
    if (!out.has(name)) out.set(name, new Array<Vec>(T));
    out.get(name)![t] = v;
  };
  let h: Vec = new Array(p('weight_hh')!.shape[1]!).fill(0);
  let c: Vec = new Array(H).fill(0);
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const gi = affine(p('weight_ih')!, xs[t]!, p('bias_ih'));
    const gh = affine(p('weight_hh')!, h, p('bias_hh'));
    const block = (v: Vec, k: number): Vec => v.slice(k * H, (k + 1) * H);
    if (kind === 'lstm' || kind === 'peephole') {
      const pre = gi.map((v, j) => v + gh[j]!);
      const wc = (g: string): Vec => (kind === 'peephole' ? Array.from(p(`weight_c${g}`)!.data) : new Array(H).fill(0));
      const [wci, wcf, wco] = [wc('i'), wc('f'), wc('o')];
      const i = block(pre, 0).map((v, u) => sigmoid(v + wci[u]! * c[u]!));
      const f = block(pre, 1).map((v, u) => sigmoid(v + wcf[u]! * c[u]!));
      const g = block(pre, 2).map(Math.tanh);
      const cNext = c.map((cu, u) => f[u]! * cu + i[u]! * g[u]!);
      const o = block(pre, 3).map((v, u) => sigmoid(v + wco[u]! * cNext[u]!));
      let hNext = cNext.map((cu, u) => o[u]! * Math.tanh(cu));
      const hr = p('weight_hr');
      if (hr) hNext = affine(hr, hNext, undefined);
      Object.entries({ i, f, g, o, c: cNext }).forEach(([name, v]) => put(name, t, v));
      if (kind === 'peephole') {
        put('peephole_i', t, c.map((cu, u) => wci[u]! * cu));
        put('peephole_f', t, c.map((cu, u) => wcf[u]! * cu));
        put('peephole_o', t, cNext.map((cu, u) => wco[u]! * cu));
      }
      h = hNext;
      c = cNext;
    } else if (kind === 'gru') {
      const r = block(gi, 0).map((v, u) => sigmoid(v + gh[u]!));
      const z = block(gi, 1).map((v, u) => sigmoid(v + gh[H + u]!));
      const n = block(gi, 2).map((v, u) => Math.tanh(v + r[u]! * gh[2 * H + u]!));
      h = n.map((nu, u) => (1 - z[u]!) * nu + z[u]! * h[u]!);
      Object.entries({ r, z, n }).forEach(([name, v]) => put(name, t, v));
    } else {
      const act = kind === 'rnn_relu' ? (v: number) => Math.max(0, v) : Math.tanh;
      h = gi.map((v, u) => act(v + gh[u]!));
    }
    put('h', t, h);
  }
  return out;
}

/** The hand trace of every layer and direction, fed forward as the layer does. */
function handLayers(kind: string, layer: RNN | LSTM | GRU, input: Tensor): Map<string, Map<string, Vec[]>> {
  const params = new Map(layer.namedParameters());
  const [T, I] = input.shape as [number, number];
  let xs: Vec[] = Array.from({ length: T }, (_, t) => Array.from(input.data.subarray(t * I, (t + 1) * I)));
  const all = new Map<string, Map<string, Vec[]>>();
  for (let l = 0; l < layer.numLayers; l++) {
    const dirs = layer.bidirectional ? [false, true] : [false];
    const hs = dirs.map((reverse) => {
      const suffix = `_l${l}${reverse ? '_reverse' : ''}`;
      const trace = handTrace(kind, (name) => params.get(`${name}${suffix}`), xs, layer.hiddenSize, reverse);
      all.set(`${l}${reverse ? 'reverse' : 'forward'}`, trace);
      return trace.get('h')!;
    });
    xs = xs.map((_, t) => hs.flatMap((h) => h[t]!));
  }
  return all;
}

function compare(kind: string, traces: LayerGateTrace[], hand: Map<string, Map<string, Vec[]>>): number {
  let checked = 0;
  assert.equal(traces.length, hand.size, `${kind}: layers × directions`);
  for (const trace of traces) {
    const expected = hand.get(`${trace.layer}${trace.direction}`)!;
    assert.deepEqual(trace.signals.map((s) => s.name).sort(), [...expected.keys()].sort(), `${kind} layer ${trace.layer} ${trace.direction}: signals`);
    for (const s of trace.signals) {
      const want = expected.get(s.name)!;
      for (let t = 0; t < s.steps; t++) {
        for (let u = 0; u < s.units; u++) {
          const got = s.values[u * s.steps + t]!;
          assert.ok(Math.abs(got - want[t]![u]!) < 1e-6, `${kind} layer ${trace.layer} ${trace.direction} ${s.name}[t=${t}, unit ${u}]: ${got} vs hand ${want[t]![u]}`);
          checked++;
        }
      }
      if (s.range) for (const v of s.values) assert.ok(v >= s.range[0] && v <= s.range[1], `${kind} ${s.name} in its range`);
    }
  }
  return checked;
}

test('gate trace: every gate and state equals a hand recomputation from the weights, for each cell kind', () => {
  const gen = new Generator(7);
  const common = { inputSize: 3, hiddenSize: 4, numLayers: 2, generator: gen, dtype: 'float64' as const };
  const cases: [string, RNN | LSTM | GRU][] = [
    ['rnn_tanh', new RNN({ ...common })],
    ['rnn_relu', new RNN({ ...common, nonlinearity: 'relu' })],
    ['lstm', new LSTM({ ...common, bidirectional: true })],
    ['lstm', new LSTM({ ...common, projSize: 2 })],
    ['peephole', new LSTM({ ...common, peephole: true })],
    ['gru', new GRU({ ...common, bidirectional: true })],
  ];
  for (const [kind, layer] of cases) {
    const input = randn([6, 3], { dtype: 'float64', generator: gen });
    const traces = gateTrace(layer, input);
    const checked = compare(kind, traces, handLayers(kind, layer, input));
    assert.ok(checked >= 2 * 6 * 2, `${kind}: ${checked} values compared`);
    // The last layer's h is what the layer itself outputs.
    const [output] = layer instanceof LSTM ? layer.forward(input) : layer.forward(input);
    const D = layer.bidirectional ? 2 : 1;
    const P = layer instanceof LSTM && layer.projSize ? layer.projSize : layer.hiddenSize;
    for (const trace of traces.filter((t) => t.layer === layer.numLayers - 1)) {
      const h = trace.signals.find((s) => s.name === 'h')!;
      const offset = trace.direction === 'reverse' ? P : 0;
      for (let t = 0; t < 6; t++) for (let u = 0; u < P; u++) {
        assert.ok(Math.abs(h.values[u * 6 + t]! - output.data[t * D * P + offset + u]!) < 1e-6, `${kind}: trace h = forward output`);
      }
    }
  }
});

test('gate trace: refuses an input of the wrong shape, naming it', () => {
  const lstm = new LSTM({ inputSize: 3, hiddenSize: 4 });
  assert.throws(() => gateTrace(lstm, randn([5, 2])), /gateTrace: input must be \[steps, 3\].*got \[5, 2\]/);
  assert.throws(() => gateTrace(lstm, randn([2, 5, 3])), /input must be \[steps, 3\]/);
});

const cli = (...args: string[]): Promise<CliRun> => runCli(args);

function ok(run: CliRun, what: string): CliRun {
  assert.equal(run.code, 0, `${what} failed:\n${run.stderr}`);
  return run;
}

/** Panel titles of an inspect SVG, in order. */
const titles = (svg: string): string[] => [...svg.matchAll(/<text [^>]*class="title"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);

test('inspect gates end to end: series (peephole), text (2 layers, capped units), music (GRU) and denoise (bidirectional RNN) runs', async () => {
  const runs: [string, string[]][] = [
    ['series', ['--data', 'sine', '--cell', 'peephole', '--hidden', '6']],
    ['text', ['--cell', 'lstm', '--hidden', '40', '--layers', '2']],
    ['music', ['--cell', 'gru', '--hidden', '6', '--encoding', 'poly']],
    ['denoise', ['--cell', 'rnn', '--hidden', '5']],
  ];
  for (const [task, args] of runs) ok(await cli('train', task, '--steps', '3', '--val-every', '3', '--out', join(TMP, task), ...args), `train ${task}`);

  // Series: 100 steps of its own validation data by default, every LSTM gate, the peephole terms and c.
  const series = ok(await cli('inspect', 'gates', '--model', join(TMP, 'series')), 'inspect series');
  const seriesSvg = readFileSync(join(TMP, 'series', 'gates.svg'), 'utf8');
  assert.match(series.stdout, /100 steps, 1 layer\(s\), each showing i, f, g, o, c, peephole_i, peephole_f, peephole_o, h/);
  assert.deepEqual(titles(seriesSvg).slice(1).map((t) => t.split(':')[0]), ['input', 'i', 'f', 'g', 'o', 'c', 'w_ci ⊙ c(t-1)', 'w_cf ⊙ c(t-1)', 'w_co ⊙ c(t)', 'h']);
  // One cell per unit and step in every gate panel: 6 units × 100 steps.
  assert.ok((seriesSvg.match(/class="cell"/g) ?? []).length >= 100 + 9 * 6 * 100);
  // Given values: their own length.
  const given = ok(await cli('inspect', 'gates', '--model', join(TMP, 'series'), '--input', '1,2,3,2,1', '--out', join(TMP, 'given.svg')), 'inspect series values');
  assert.match(given.stdout, /5 steps/);

  // Text: the given string on the time axis, 8 of 40 units per layer, both layers.
  const text = ok(await cli('inspect', 'gates', '--model', join(TMP, 'text'), '--input', 'the cat', '--units', '8', '--out', join(TMP, 'text.svg')), 'inspect text');
  assert.match(text.stdout, /7 steps, 2 layer\(s\)/);
  assert.match(text.stdout, /8 of 40 units: those whose c varies most/);
  const textSvg = readFileSync(join(TMP, 'text.svg'), 'utf8');
  assert.equal(titles(textSvg).filter((t) => t.startsWith('layer 1 · f: forget gate')).length, 1);
  assert.ok(textSvg.includes('>␣</text>'), 'the space is drawn on the time axis');
  assert.ok(textSvg.trimEnd().endsWith('</svg>') && textSvg.startsWith('<svg'));

  // Music (poly GRU) from its validation data; denoise from values, both directions.
  ok(await cli('inspect', 'gates', '--model', join(TMP, 'music'), '--steps', '24'), 'inspect music');
  const musicSvg = readFileSync(join(TMP, 'music', 'gates.svg'), 'utf8');
  assert.deepEqual(titles(musicSvg).slice(1).map((t) => t.split(':')[0]), ['input', 'r', 'z', 'n', 'h']);
  const denoise = ok(await cli('inspect', 'gates', '--model', join(TMP, 'denoise'), '--input', '0.5 -0.2 0.9 0.1'), 'inspect denoise');
  assert.match(denoise.stdout, /4 steps, 1 layer\(s\) × 2 directions, each showing h/);
  assert.deepEqual(titles(readFileSync(join(TMP, 'denoise', 'gates.svg'), 'utf8')).slice(2).map((t) => t.split(':')[0]), ['forward · h', 'reverse · h']);

  // Errors a user can act on; nothing written.
  const cases: [string[], RegExp][] = [
    [['--model', join(TMP, 'nope')], /--model .*nope: no such folder/],
    [['--model', TMP], /holds no config\.json/],
    [['--model', join(TMP, 'series'), '--input', '1,x,3'], /--input: expected a CSV file or numbers separated by commas .*got "x" at position 2/],
    [['--model', join(TMP, 'music'), '--input', 'song.txt'], /--input song\.txt: for music, expected a \.mid file/],
    [['--model', join(TMP, 'music'), '--input', join(TMP, 'missing.mid')], /missing\.mid: no such file/],
    [['--model', join(TMP, 'series'), '--out', join(TMP, 'no-folder', 'g.svg')], /--out .*g\.svg: the folder .*no-folder does not exist/],
    [['--model', join(TMP, 'series'), '--units', '0'], /--units/],
  ];
  for (const [args, message] of cases) {
    const run = await cli('inspect', 'gates', ...args);
    assert.equal(run.code, 1, `${args.join(' ')}: exit code`);
    assert.match(run.stderr, message);
  }
  writeFileSync(join(TMP, 'series', 'config.json'), '{"format": "nope"}');
  const broken = await cli('inspect', 'gates', '--model', join(TMP, 'series'));
  assert.match(broken.stderr, /is not a recurrent run configuration/);
  assert.ok(!existsSync(join(TMP, 'no-folder')));
});
