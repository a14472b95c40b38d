/**
 * Notes as bars over time (x: steps, y: pitch), with bar lines, octave labels at each C and an
 * optional marker, e.g. where the priming notes end and generated ones begin.
 */
import { COLORS } from './colors.js';
import { checkSize, el, svgDocument, text } from './svg.js';

/** Structurally the data layer's StepNote; declared here so viz imports nothing. */
export interface RollNote {
  pitch: number;
  start: number;
  duration: number;
  /** 0..1, drawn as opacity. */
  velocity?: number;
}

export interface PianoRollOptions {
  title?: string;
  width?: number;
  height?: number;
  /** Grid resolution of the notes; with beatsPerBar it places the bar lines (defaults 4 and 4). */
  stepsPerQuarter?: number;
  beatsPerBar?: number;
  /** Pitch range shown; default the notes' range, padded to whole octaves. */
  low?: number;
  high?: number;
  color?: string;
  marker?: { step: number; label?: string };
}

const NAMES = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];

/** Scientific pitch name: 60 → "C4". */
export function pitchName(pitch: number): string {
  return `${NAMES[((pitch % 12) + 12) % 12]}${Math.floor(pitch / 12) - 1}`;
}

export function pianoRoll(notes: readonly RollNote[], options: PianoRollOptions = {}): string {
  const { width = 900, height = 360, stepsPerQuarter = 4, beatsPerBar = 4, color = COLORS.blue } = options;
  checkSize('pianoRoll', width, height);
  const valid = notes.filter(
    (n) => Number.isFinite(n.pitch) && Number.isFinite(n.start) && Number.isFinite(n.duration) && n.duration > 0 && n.start >= 0,
  );
  if (valid.length !== notes.length) {
    const bad = notes.find((n) => !valid.includes(n))!;
    throw new Error(`pianoRoll: invalid note {pitch: ${bad.pitch}, start: ${bad.start}, duration: ${bad.duration}}; expected finite pitch, start >= 0, duration > 0`);
  }
  // Loops, not Math.min(...spread): a long piece would overflow the argument limit.
  let lowest = 60;
  let highest = 71;
  let endStep = Math.max(1, (options.marker?.step ?? 0) + 1);
  for (const n of valid) {
    lowest = Math.min(lowest, n.pitch);
    highest = Math.max(highest, n.pitch);
    endStep = Math.max(endStep, n.start + n.duration);
  }
  let low = options.low ?? lowest;
  let high = options.high ?? highest;
  if (options.low === undefined) low = Math.floor(low / 12) * 12;
  if (options.high === undefined) high = Math.ceil((high + 1) / 12) * 12 - 1;
  if (!(high >= low)) throw new Error(`pianoRoll: expected low <= high, received low=${low}, high=${high}`);

  const box = { left: 44, top: 36, right: width - 12, bottom: height - 28 };
  const sx = (box.right - box.left) / endStep;
  const rowH = (box.bottom - box.top) / (high - low + 1);
  const yOf = (pitch: number) => box.top + (high - pitch) * rowH;
  let body = '';

  // Background stripes for the black keys, the usual piano-roll reading aid.
  for (let p = low; p <= high; p++) {
    if ([1, 3, 6, 8, 10].includes(((p % 12) + 12) % 12)) {
      body += el('rect', { x: box.left, y: yOf(p), width: box.right - box.left, height: rowH, fill: '#f2f2f2' });
    }
    if (((p % 12) + 12) % 12 === 0) {
      body += el('line', { x1: box.left, x2: box.right, y1: yOf(p) + rowH, y2: yOf(p) + rowH, stroke: '#d0d0d0' });
      body += text(box.left - 4, yOf(p) + rowH, pitchName(p), { 'text-anchor': 'end', 'font-size': 10, class: 'pitch-label' });
    }
  }
  const stepsPerBar = Math.max(1, stepsPerQuarter * beatsPerBar);
  const barEvery = stepsPerBar * Math.max(1, Math.ceil(endStep / stepsPerBar / 32));
  for (let s = 0; s <= endStep; s += barEvery) {
    const x = box.left + s * sx;
    body += el('line', { x1: x, x2: x, y1: box.top, y2: box.bottom, stroke: '#c8c8c8' });
    body += text(x, box.bottom + 14, String(s / stepsPerBar + 1), { 'text-anchor': 'middle', 'font-size': 10, class: 'bar-label' });
  }

  let bars = '';
  for (const n of valid) {
    if (n.pitch < low || n.pitch > high) continue;
    bars += el('rect', {
      x: box.left + n.start * sx,
      y: yOf(n.pitch) + 0.5,
      width: Math.max(1, n.duration * sx - 0.5),
      height: Math.max(1, rowH - 1),
      fill: color,
      'fill-opacity': 0.35 + 0.65 * Math.min(1, Math.max(0, n.velocity ?? 0.8)),
      rx: Math.min(2, rowH / 4),
      class: 'note',
    });
  }
  body += el('g', { class: 'notes' }, bars);
  body += el('rect', { x: box.left, y: box.top, width: box.right - box.left, height: box.bottom - box.top, fill: 'none', stroke: '#888' });
  if (options.marker) {
    const x = box.left + options.marker.step * sx;
    body += el('line', { x1: x, x2: x, y1: box.top, y2: box.bottom, stroke: COLORS.red, 'stroke-width': 1.5, class: 'marker' });
    if (options.marker.label) body += text(x + 4, box.top - 4, options.marker.label, { fill: COLORS.red });
  }
  if (options.title) body += text(width / 2, 20, options.title, { 'text-anchor': 'middle', 'font-size': 15, 'font-weight': 'bold', class: 'title' });
  if (valid.length === 0) body += text(width / 2, height / 2, 'no notes', { 'text-anchor': 'middle', fill: '#888' });
  return svgDocument(width, height, options.title, body);
}
