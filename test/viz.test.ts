import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COLORS, colorAt, escapeXml, formatTick, heatmap, heatmapColor, heatmapFrame, heatmapLayout, heatmapRange, heatmapStack, rgbHex, lineChart, lossCurve, pianoRoll, pitchName } from '../src/viz/index.js';

// A strict little XML reader: it throws on anything not well-formed (unbalanced or misnested tags,
// duplicate or unquoted attributes, a bare & or <, more than one root) and returns the element tree.
interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = /[A-Za-z_:][\w:.-]*/y;
const ENTITY = /&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/y;

function parseXml(src: string): XmlElement {
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`XML not well-formed at ${i}: ${why} near ${JSON.stringify(src.slice(Math.max(0, i - 30), i + 30))}`);
  };
  const readName = (): string => {
    NAME.lastIndex = i;
    const m = NAME.exec(src);
    if (!m) return fail('expected a name');
    i += m[0].length;
    return m[0];
  };
  const decode = (raw: string, end: number): string => {
    let out = '';
    for (let k = 0; k < raw.length; k++) {
      const c = raw[k]!;
      if (c === '<') fail('raw < in text or attribute');
      if (c !== '&') {
        out += c;
        continue;
      }
      ENTITY.lastIndex = k;
      const m = ENTITY.exec(raw);
      if (!m) {
        i = end;
        fail(`bare & in ${JSON.stringify(raw.slice(k, k + 10))}`);
      }
      const e = m![1]!;
      out += e === 'amp' ? '&' : e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'quot' ? '"' : e === 'apos' ? "'" : String.fromCodePoint(Number(e.startsWith('#x') ? `0x${e.slice(2)}` : e.slice(1)));
      k += m![0].length - 1;
    }
    return out;
  };
  const skipMisc = () => {
    for (;;) {
      while (/\s/.test(src[i] ?? '')) i++;
      if (src.startsWith('<?xml', i)) i = src.indexOf('?>', i) + 2 || fail('unclosed declaration');
      else if (src.startsWith('<!--', i)) i = src.indexOf('-->', i) + 3 || fail('unclosed comment');
      else return;
    }
  };
  const readElement = (): XmlElement => {
    if (src[i] !== '<') fail('expected <');
    i++;
    const el: XmlElement = { name: readName(), attributes: {}, children: [], text: '' };
    for (;;) {
      const before = i;
      while (/\s/.test(src[i] ?? '')) i++;
      if (src.startsWith('/>', i)) {
        i += 2;
        return el;
      }
      if (src[i] === '>') {
        i++;
        break;
      }
      if (i === before) fail('expected whitespace before an attribute');
      const key = readName();
      if (key in el.attributes) fail(`duplicate attribute ${key}`);
      if (src[i] !== '=') fail('expected =');
      const quote = src[++i];
      if (quote !== '"' && quote !== "'") fail('unquoted attribute value');
      const end = src.indexOf(quote!, i + 1);
      if (end < 0) fail('unterminated attribute value');
      el.attributes[key] = decode(src.slice(i + 1, end), i);
      i = end + 1;
    }
    for (;;) {
      const lt = src.indexOf('<', i);
      if (lt < 0) fail(`unclosed <${el.name}>`);
      el.text += decode(src.slice(i, lt), i);
      i = lt;
      if (src.startsWith('</', i)) {
        i += 2;
        const name = readName();
        if (name !== el.name) fail(`</${name}> closes <${el.name}>`);
        while (/\s/.test(src[i] ?? '')) i++;
        if (src[i] !== '>') fail('expected >');
        i++;
        return el;
      }
      if (src.startsWith('<!--', i)) {
        i = src.indexOf('-->', i) + 3 || fail('unclosed comment');
        continue;
      }
      el.children.push(readElement());
    }
  };
  skipMisc();
  const root = readElement();
  skipMisc();
  if (i !== src.length) fail('content after the root element');
  return root;
}

function all(root: XmlElement, pred: (e: XmlElement) => boolean): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    if (pred(e)) out.push(e);
    e.children.forEach(walk);
  };
  walk(root);
  return out;
}

const byClass = (root: XmlElement, cls: string) => all(root, (e) => e.attributes.class === cls);
const texts = (root: XmlElement) => all(root, (e) => e.name === 'text').map((e) => e.text);

/** Parses as XML and checks the standalone-SVG basics every chart must have. */
function svg(source: string): XmlElement {
  const root = parseXml(source);
  assert.equal(root.name, 'svg');
  assert.equal(root.attributes.xmlns, 'http://www.w3.org/2000/svg');
  assert.ok(!/NaN|Infinity|undefined/.test(source), 'no NaN, Infinity or undefined in the output');
  return root;
}

describe('the XML checker itself', () => {
  it('rejects what is not well-formed', () => {
    assert.throws(() => parseXml('<a><b></a></b>'), /closes/);
    assert.throws(() => parseXml('<a x="1" x="2"/>'), /duplicate/);
    assert.throws(() => parseXml('<a>fish & chips</a>'), /bare &/);
    assert.throws(() => parseXml('<a/><b/>'), /after the root/);
    assert.throws(() => parseXml('<a x=1/>'), /unquoted/);
    assert.equal(parseXml('<a t="&lt;&amp;">x &gt; y</a>').text, 'x > y');
  });
});

describe('escapeXml', () => {
  it('escapes the five specials and drops control characters', () => {
    assert.equal(escapeXml(`<a href="x">'&'</a>\u0001`), '&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
    assert.equal(escapeXml('😀 \ud800x'), '😀 x');
  });
});

describe('lineChart', () => {
  const target = Array.from({ length: 120 }, (_, i) => Math.sin(i / 10) * 100 + 300);
  const prediction = target.map((v, i) => (i < 60 ? NaN : v + 5));

  it('draws one path per series, axes, a legend and an escaped title', () => {
    const title = 'Passengers <forecast> & "more"';
    const root = svg(
      lineChart(
        [
          { name: 'target', values: target, color: COLORS.red },
          { name: 'prediction <model>', values: prediction, color: COLORS.blue },
        ],
        { title, xLabel: 'month', yLabel: 'passengers', marker: { x: 60, label: 'forecast' } },
      ),
    );
    const paths = byClass(root, 'series');
    assert.equal(paths.length, 2);
    assert.equal(paths[0]!.attributes.stroke, COLORS.red);
    assert.equal(paths[1]!.attributes.stroke, COLORS.blue);
    // The prediction starts at x = 60: one subpath, beginning right of the target's.
    assert.equal(paths[1]!.attributes.d!.match(/M/g)!.length, 1);
    const words = texts(root);
    assert.ok(words.includes(title));
    assert.ok(words.includes('prediction <model>'));
    assert.ok(words.includes('month') && words.includes('passengers') && words.includes('forecast'));
    assert.ok(words.includes('300'), `y ticks ${words.join('|')}`);
    assert.equal(all(root, (e) => e.name === 'title')[0]!.text, title);
    assert.equal(byClass(root, 'marker').length, 1);
  });

  it('breaks a line at missing values and survives empty or flat input', () => {
    const gappy = svg(lineChart([{ name: 'x', values: [1, 2, NaN, 4, 5, Infinity, 7] }]));
    assert.equal(byClass(gappy, 'series')[0]!.attributes.d!.match(/M/g)!.length, 3);
    const empty = svg(lineChart([{ name: 'nothing', values: [] }]));
    assert.ok(texts(empty).includes('no data'));
    svg(lineChart([{ name: 'flat', values: [3, 3, 3] }]));
    svg(lineChart([{ name: 'one', values: [1e15, 1e15 + 0.125] }]));
    assert.throws(() => lineChart([{ name: 'a', values: [1, 2], x: [1] }]), /series 0 \("a"\) has 2 values but 1 x positions/);
    assert.throws(() => lineChart([], { width: 5 }), /width must be between 100 and 20000 pixels, received 5/);
  });

  it('keeps a million-point series to a small file without losing its spikes', () => {
    const values = new Float32Array(1_000_000).map((_, i) => Math.sin(i / 5000));
    values[500_000] = 50;
    const out = lineChart([{ name: 'long', values }]);
    assert.ok(out.length < 150_000, `${out.length} characters`);
    const root = svg(out);
    const ticks = texts(root).map(Number).filter((v) => Number.isFinite(v));
    assert.ok(Math.max(...ticks) >= 50, `the y axis reaches the spike: ${ticks.join(', ')}`);
  });
});

describe('lossCurve', () => {
  it('plots train and validation on a log axis with decade ticks', () => {
    const train = Array.from({ length: 500 }, (_, i) => 3 * Math.exp(-i / 80) + 0.01);
    const validation = [0, 100, 200, 300, 400].map((step) => ({ step, loss: 3 * Math.exp(-step / 80) + 0.05 }));
    const root = svg(lossCurve({ train, validation, logScale: true, title: 'char-LSTM' }));
    const paths = byClass(root, 'series');
    assert.equal(paths.length, 2);
    assert.deepEqual(paths.map((p) => p.attributes['data-name']), ['train', 'validation']);
    const words = texts(root);
    for (const label of ['0.01', '0.1', '1', '10']) assert.ok(words.includes(label), `tick ${label} in ${words.join('|')}`);
    assert.ok(words.includes('loss (log scale)') && words.includes('step') && words.includes('char-LSTM'));
  });

  it('drops non-positive losses on a log axis instead of failing', () => {
    const root = svg(lossCurve({ train: [1, 0.5, 0, 0.25], logScale: true }));
    assert.equal(byClass(root, 'series')[0]!.attributes.d!.match(/M/g)!.length, 2);
  });
});

describe('heatmap', () => {
  it('draws one cell per entry, a colour bar and labels', () => {
    const rows = 4;
    const cols = 30;
    const values = Float32Array.from({ length: rows * cols }, (_, k) => (k % cols) / cols);
    values[5] = NaN;
    const root = svg(heatmap(values, { rows, cols, title: 'input gate', xLabel: 'step', yLabel: 'unit', rowLabels: ['i0', 'i1', 'i2', 'i3'] }));
    const cells = byClass(root, 'cell');
    assert.equal(cells.length, rows * cols);
    assert.equal(cells[5]!.attributes.fill, '#bdbdbd');
    assert.notEqual(cells[0]!.attributes.fill, cells[cols - 1]!.attributes.fill);
    assert.equal(byClass(root, 'bar').length, 40);
    const words = texts(root);
    assert.ok(['input gate', 'step', 'unit', 'i0', 'i3'].every((w) => words.includes(w)));
  });

  it('averages a large matrix down to maxCells, keeping a short axis whole', () => {
    const big = svg(heatmap(new Float32Array(400 * 500).fill(1), { rows: 400, cols: 500, maxCells: 2000 }));
    const n = byClass(big, 'cell').length;
    assert.ok(n <= 2000 && n > 1000, `${n} cells`);
    const wide = svg(heatmap(new Float32Array(4 * 100_000), { rows: 4, cols: 100_000, maxCells: 2000 }));
    assert.equal(byClass(wide, 'cell').length, 2000);
  });

  it('uses a symmetric diverging scale and checks its input', () => {
    const root = svg(heatmap([-1, 0, 2, 1], { rows: 2, cols: 2, colorMap: 'diverging' }));
    const labels = byClass(root, 'bar-label').map((e) => e.text);
    assert.deepEqual(labels, ['2', '-2']);
    assert.throws(() => heatmap([1, 2, 3], { rows: 2, cols: 2 }), /expected rows x cols = 2 x 2 = 4 values, received 3/);
    assert.throws(() => heatmap([1], { rows: 1, cols: 1, min: 2, max: 1 }), /expected finite min <= max, received min=2, max=1/);
  });

  it('lays out, scales and colours its cells by exported parts, and draws its frame alone for a caller that paints the cells', () => {
    const rows = 3;
    const cols = 20;
    const values = Float32Array.from({ length: rows * cols }, (_, k) => Math.sin(k) * 1.7);
    values[7] = NaN;
    const options = { rows, cols, title: 'c: cell state', yLabel: 'unit', rowLabels: ['0', '1', '2'], colorMap: 'diverging' as const, width: 600, height: 200 };
    const root = svg(heatmap(values, options));
    const layout = heatmapLayout(options);
    const range = heatmapRange(values, options);
    assert.ok(range[1] === -range[0] && range[1] > 1.6, `symmetric range ${range}`);
    const color = heatmapColor('diverging', range);
    const cells = byClass(root, 'cell');
    cells.forEach((cell, k) => {
      const [r, c] = [Math.floor(k / cols), k % cols];
      assert.ok(Math.abs(Number(cell.attributes.x) - (layout.box.left + c * layout.cellWidth)) < 0.01, `cell ${k} x`);
      assert.ok(Math.abs(Number(cell.attributes.y) - (layout.box.top + r * layout.cellHeight)) < 0.01, `cell ${k} y`);
      assert.equal(cell.attributes.fill, rgbHex(color(values[k]!)), `cell ${k} colour`);
    });
    assert.equal(cells[7]!.attributes.fill, '#bdbdbd');
    assert.equal(rgbHex(color(range[1])), colorAt('diverging', 1));
    const labels = byClass(root, 'bar-label');
    assert.deepEqual(labels.map((e) => [e.text, Number(e.attributes.x), Number(e.attributes.y)]), [
      [formatTick(range[1]), layout.rangeLabels.x, layout.rangeLabels.maxY],
      [formatTick(range[0]), layout.rangeLabels.x, layout.rangeLabels.minY],
    ]);
    // The frame is the heatmap without its cells and its range labels, everything else the same.
    const frame = heatmapFrame(options);
    const full = heatmap(values, options);
    const withoutValues = full.replace(/<g class="cells">.*?<\/g>/, '').replace(/<text[^>]*class="bar-label"[^>]*>[^<]*<\/text>/g, '');
    assert.equal(frame, withoutValues);
    assert.equal(byClass(svg(frame), 'cell').length, 0);
    assert.equal(byClass(svg(frame), 'bar').length, 40);
    assert.throws(() => heatmapFrame({ rows: 0, cols: 4 }), /rows and cols must be positive integers, received 0 x 4/);
    assert.throws(() => heatmapRange([1, 2], { min: 3, max: 1 }), /expected finite min <= max, received min=3, max=1/);
  });
});

describe('pianoRoll', () => {
  it('draws one bar per note with octave labels and a marker', () => {
    const notes = [
      { pitch: 60, start: 0, duration: 4 },
      { pitch: 64, start: 4, duration: 2, velocity: 0.5 },
      { pitch: 67, start: 6, duration: 2 },
      { pitch: 72, start: 8, duration: 8 },
    ];
    const root = svg(pianoRoll(notes, { title: 'Frère Jacques & co', marker: { step: 8, label: 'generated' } }));
    assert.equal(byClass(root, 'note').length, 4);
    const words = texts(root);
    assert.ok(words.includes('C4') && words.includes('C5'), words.join('|'));
    assert.ok(words.includes('Frère Jacques & co') && words.includes('generated'));
    assert.equal(byClass(root, 'marker').length, 1);
    assert.equal(pitchName(60), 'C4');
    assert.equal(pitchName(21), 'A0');
  });

  it('handles no notes and rejects invalid ones', () => {
    assert.ok(texts(svg(pianoRoll([]))).includes('no notes'));
    assert.throws(() => pianoRoll([{ pitch: 60, start: -1, duration: 1 }]), /invalid note \{pitch: 60, start: -1, duration: 1\}/);
  });
});

it('axis tick labels never repeat, even for decimal-year axes', async () => {
  const { formatTick } = await import('../src/viz/scale.js');
  const ticks = [1959, 1959.5, 1960, 1960.5, 1961];
  const labels = ticks.map((t) => formatTick(t, 0.5));
  assert.equal(new Set(labels).size, ticks.length, labels.join(', '));
  assert.deepEqual(labels, ['1959', '1959.5', '1960', '1960.5', '1961']);
  assert.equal(formatTick(0.30000000000000004, 0.1), '0.3');
  assert.equal(formatTick(2400, 200), '2400');
});

describe('heatmapStack', () => {
  it('stacks panels on one time axis: column t starts at the same x in every panel, each panel with its colour bar', () => {
    const steps = 7;
    const svg = heatmapStack([
      { values: Array.from({ length: steps }, (_, t) => t), rows: 1, cols: steps, title: 'input', rowLabels: ['x'] },
      { values: Array.from({ length: 3 * steps }, (_, k) => k / 20), rows: 3, cols: steps, title: 'gate', min: 0, max: 1 },
    ], { title: 'stack <&>', colLabels: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] });
    assert.ok(svg.startsWith('<svg') && svg.includes('stack &lt;&amp;&gt;'));
    const panels = svg.split('<g transform="translate(0 ').slice(1);
    assert.equal(panels.length, 2);
    const columnsX = (panel: string): number[] => [...new Set([...panel.matchAll(/<rect x="([\d.]+)"[^>]*class="cell"/g)].map((m) => Number(m[1])))];
    assert.deepEqual(columnsX(panels[0]!), columnsX(panels[1]!));
    assert.equal(columnsX(panels[0]!).length, steps);
    for (const panel of panels) assert.equal((panel.match(/class="bar"/g) ?? []).length, 40);
    assert.ok(svg.includes('>d</text>'), 'column labels drawn');
    assert.throws(() => heatmapStack([]), /heatmapStack: expected at least one panel/);
  });
});
