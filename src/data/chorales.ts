/**
 * The JSB chorales as shipped in data/music/jsb-chorales (written once by
 * tools/convert_jsb_chorales.py): Bach's chorales on a quarter-note grid with the train / valid /
 * test split of Boulanger-Lewandowski et al. (2012), each chorale an 88-key piano roll.
 * Pure: parses the decompressed text; src/data/files.ts reads and decompresses the file.
 */
import { PIANO_RANGE, type PianoRoll } from './pianoroll.js';

export type ChoraleSplit = 'train' | 'valid' | 'test';
export const CHORALE_SPLITS: readonly ChoraleSplit[] = ['train', 'valid', 'test'];

/** A chorale's piano roll on the 88 keys (column 0 = MIDI 21); no onset plane (the source has none). */
export type ChoraleRoll = Pick<PianoRoll, 'low' | 'pitches' | 'steps' | 'active'>;

export type ChoraleSet = Record<ChoraleSplit, ChoraleRoll[]>;

const HEADER = 'jsb-chorales 1 steps-per-quarter 1';
/** Longer than any chorale (the longest has 160 steps) by far; refuses absurd lines before allocating. */
const MAX_CHORALE_STEPS = 10_000;

/**
 * Parses the shipped format: a header, then per split a line "<split> <chorales> <steps>" followed by
 * one line per chorale (steps separated by spaces, a step's pitches joined by ',' or '-' for
 * silence). Any deviation (a count that does not match, a pitch off the piano, a missing split) is
 * an error naming the line, so a damaged file is never read as fewer or different chorales.
 */
export function parseChorales(text: string, source = 'chorales'): ChoraleSet {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const fail = (line: number, why: string): never => {
    throw new Error(`parseChorales: ${source}, line ${line + 1}: ${why}`);
  };
  if (lines[0] !== HEADER) fail(0, `expected the header "${HEADER}", got "${(lines[0] ?? '').slice(0, 60)}"`);
  const set: Partial<ChoraleSet> = {};
  let at = 1;
  for (const split of CHORALE_SPLITS) {
    const head = /^(\w+) (\d+) (\d+)$/.exec(lines[at] ?? '');
    if (!head || head[1] !== split) fail(at, `expected "${split} <chorales> <steps>", got "${(lines[at] ?? 'the end of the file').slice(0, 60)}"`);
    const [chorales, steps] = [Number(head![2]), Number(head![3])];
    const rolls: ChoraleRoll[] = [];
    let counted = 0;
    for (let c = 0; c < chorales; c++) {
      const line = at + 1 + c;
      if (lines[line] === undefined) fail(line, `${split} announces ${chorales} chorales, but the file ends after ${c}`);
      if (/^[a-z]/.test(lines[line]!)) fail(line, `${split} announces ${chorales} chorales, but the next section ("${lines[line]!.slice(0, 30)}") starts after ${c}`);
      rolls.push(parseChorale(lines[line]!, (why) => fail(line, why)));
      counted += rolls[c]!.steps;
    }
    if (counted !== steps) fail(at, `${split} announces ${steps} steps but its chorales hold ${counted}`);
    set[split] = rolls;
    at += chorales + 1;
  }
  if (at !== lines.length) fail(at, `unexpected text after the test chorales`);
  return set as ChoraleSet;
}

function parseChorale(line: string, fail: (why: string) => never): ChoraleRoll {
  const steps = line.split(' ');
  if (line === '' || steps.length > MAX_CHORALE_STEPS) fail(`expected a chorale of 1 to ${MAX_CHORALE_STEPS} steps, got ${line === '' ? 'an empty line' : `${steps.length} steps`}`);
  const { low, high } = PIANO_RANGE;
  const pitches = high - low + 1;
  const active = new Float32Array(steps.length * pitches);
  steps.forEach((step, t) => {
    if (step === '-') return;
    for (const item of step.split(',')) {
      const pitch = Number(item);
      if (!/^\d+$/.test(item) || pitch < low || pitch > high) fail(`step ${t + 1}: expected MIDI pitches ${low}..${high} joined by ',' (or '-' for silence), got "${step.slice(0, 40)}"`);
      active[t * pitches + pitch - low] = 1;
    }
  });
  return { low, pitches, steps: steps.length, active };
}
