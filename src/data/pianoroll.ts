/**
 * Notes on a time grid and their two encodings for sequence models (pure, no MIDI parsing):
 * - the polyphonic piano roll, multi-hot [steps, pitches]: which keys sound at each step;
 * - the monophonic melody, one class per step: the highest sounding pitch, or a rest.
 * A multi-hot roll alone cannot tell one long note from two repeated ones, so the roll also carries
 * an onset plane; decoding uses it when present and otherwise starts a note wherever a key goes down.
 */
import { checkAllocation } from './limits.js';

/** A note on the step grid. */
export interface StepNote {
  /** MIDI note number, 0..127 (60 = middle C). */
  pitch: number;
  /** First step. */
  start: number;
  /** Length in steps, at least 1. */
  duration: number;
  /** 0..1, as @tonejs/midi normalises it. */
  velocity: number;
}

/** A note in MIDI ticks, as read from a file. */
export interface TickNote {
  pitch: number;
  ticks: number;
  durationTicks: number;
  velocity: number;
}

/** Inclusive pitch range; columns (or classes) 0..high-low map to pitches low..high. */
export interface PitchRange {
  low: number;
  high: number;
}

/** The 88 keys of a piano, A0 to C8. */
export const PIANO_RANGE: PitchRange = { low: 21, high: 108 };

/** Default cap on the length of a roll or melody: about 50 minutes of sixteenths at 120 bpm. */
export const DEFAULT_MAX_STEPS = 25_000;

function checkRange(fn: string, range: PitchRange): number {
  const { low, high } = range;
  if (!Number.isInteger(low) || !Number.isInteger(high) || low < 0 || high > 127 || low > high) {
    throw new Error(`${fn}: pitch range must be integers with 0 <= low <= high <= 127, received low=${low}, high=${high}`);
  }
  return high - low + 1;
}

/**
 * Rounds onsets and ends to the nearest step (a note keeps at least one step) and, because one key
 * cannot be pressed twice at once, cuts a note short where the next note of the same pitch begins.
 * The result is sorted by start, then pitch.
 */
export function quantizeNotes(notes: readonly TickNote[], ppq: number, stepsPerQuarter = 4): StepNote[] {
  if (!(ppq > 0)) throw new Error(`quantizeNotes: ppq must be positive, received ${ppq}`);
  if (!Number.isInteger(stepsPerQuarter) || stepsPerQuarter < 1 || stepsPerQuarter > 96) {
    throw new Error(`quantizeNotes: stepsPerQuarter must be an integer in [1, 96], received ${stepsPerQuarter}`);
  }
  const ticksPerStep = ppq / stepsPerQuarter;
  const byPitch = new Map<number, StepNote[]>();
  for (const n of notes) {
    const start = Math.round(n.ticks / ticksPerStep);
    const end = Math.max(start + 1, Math.round((n.ticks + n.durationTicks) / ticksPerStep));
    const list = byPitch.get(n.pitch) ?? [];
    list.push({ pitch: n.pitch, start, duration: end - start, velocity: n.velocity });
    byPitch.set(n.pitch, list);
  }
  const out: StepNote[] = [];
  for (const list of byPitch.values()) {
    list.sort((a, b) => a.start - b.start || b.duration - a.duration);
    for (let i = 0; i < list.length; i++) {
      const note = list[i]!;
      const following = list[i + 1];
      if (following && following.start === note.start) {
        // Two notes of one pitch on one step sound as one: keep the longer (sorted first).
        list.splice(i + 1, 1);
        i--;
        continue;
      }
      if (following && following.start < note.start + note.duration) note.duration = following.start - note.start;
      out.push(note);
    }
  }
  return out.sort((a, b) => a.start - b.start || a.pitch - b.pitch);
}

/** What to do with a note outside the pitch range. */
export type OutOfRange = 'fold' | 'drop' | 'error';

export interface EncodeOptions {
  range?: PitchRange;
  /** 'fold' moves a note by whole octaves into the range (the default), 'drop' leaves it out. */
  outOfRange?: OutOfRange;
  /** Length in steps; default: up to the end of the last note. */
  steps?: number;
  maxSteps?: number;
}

function placeInRange(fn: string, pitch: number, range: PitchRange, policy: OutOfRange): number | undefined {
  if (pitch >= range.low && pitch <= range.high) return pitch;
  if (policy === 'error') {
    throw new Error(`${fn}: pitch ${pitch} is outside the range [${range.low}, ${range.high}] (pass outOfRange 'fold' or 'drop', or widen the range)`);
  }
  if (policy === 'drop' || range.high - range.low < 11) return undefined;
  let p = pitch;
  while (p < range.low) p += 12;
  while (p > range.high) p -= 12;
  return p;
}

function prepare(fn: string, notes: readonly StepNote[], options: EncodeOptions) {
  const range = options.range ?? PIANO_RANGE;
  const pitches = checkRange(fn, range);
  const policy = options.outOfRange ?? 'fold';
  const placed: StepNote[] = [];
  for (const n of notes) {
    if (!Number.isInteger(n.start) || n.start < 0 || !Number.isInteger(n.duration) || n.duration < 1) {
      throw new Error(`${fn}: notes need an integer start >= 0 and duration >= 1, received start=${n.start}, duration=${n.duration}`);
    }
    const pitch = placeInRange(fn, n.pitch, range, policy);
    if (pitch !== undefined) placed.push({ ...n, pitch });
  }
  if (placed.length === 0) {
    throw new Error(`${fn}: no notes to encode (${notes.length} given, none inside the pitch range [${range.low}, ${range.high}])`);
  }
  const end = placed.reduce((m, n) => Math.max(m, n.start + n.duration), 0);
  const steps = options.steps ?? end;
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`${fn}: steps must be a positive integer, received ${steps}`);
  if (steps > maxSteps) {
    throw new Error(`${fn}: the notes span ${steps} steps, more than maxSteps ${maxSteps} (raise maxSteps or cut the piece)`);
  }
  checkAllocation(fn, `${steps} steps x ${pitches} pitches`, steps * pitches);
  return { range, pitches, placed, steps };
}

export interface PianoRoll {
  /** Pitch of column 0. */
  low: number;
  pitches: number;
  steps: number;
  /** [steps, pitches]: 1 while a note sounds. */
  active: Float32Array;
  /** [steps, pitches]: 1 on the first step of each note. */
  onsets: Float32Array;
}

export function notesToPianoRoll(notes: readonly StepNote[], options: EncodeOptions = {}): PianoRoll {
  const { range, pitches, placed, steps } = prepare('notesToPianoRoll', notes, options);
  const active = new Float32Array(steps * pitches);
  const onsets = new Float32Array(steps * pitches);
  for (const n of placed) {
    const col = n.pitch - range.low;
    if (n.start >= steps) continue;
    onsets[n.start * pitches + col] = 1;
    const end = Math.min(steps, n.start + n.duration);
    for (let s = n.start; s < end; s++) active[s * pitches + col] = 1;
  }
  return { low: range.low, pitches, steps, active, onsets };
}

export interface DecodeOptions {
  /** A cell at or above this counts as on (model outputs are probabilities). Default 0.5. */
  threshold?: number;
  velocity?: number;
}

/** A roll as a model may produce it: `onsets` is optional. */
export type PianoRollLike = Pick<PianoRoll, 'low' | 'pitches' | 'steps' | 'active'> & { onsets?: Float32Array };

export function pianoRollToNotes(roll: PianoRollLike, options: DecodeOptions = {}): StepNote[] {
  const { low, pitches, steps, active, onsets } = roll;
  const threshold = options.threshold ?? 0.5;
  const velocity = options.velocity ?? 0.8;
  if (active.length !== steps * pitches || (onsets && onsets.length !== steps * pitches)) {
    throw new Error(`pianoRollToNotes: expected arrays of steps x pitches = ${steps} x ${pitches} = ${steps * pitches}, received active ${active.length}${onsets ? `, onsets ${onsets.length}` : ''}`);
  }
  const notes: StepNote[] = [];
  for (let col = 0; col < pitches; col++) {
    let start = -1;
    for (let s = 0; s <= steps; s++) {
      const on = s < steps && active[s * pitches + col]! >= threshold;
      const struck = on && (start < 0 || (onsets !== undefined && onsets[s * pitches + col]! >= threshold));
      if (start >= 0 && (!on || struck)) {
        notes.push({ pitch: low + col, start, duration: s - start, velocity });
        start = -1;
      }
      if (struck) start = s;
    }
  }
  return notes.sort((a, b) => a.start - b.start || a.pitch - b.pitch);
}

export interface MelodyOptions extends EncodeOptions {
  /**
   * Adds a "hold" class: a note's first step gets its pitch class and its later steps the hold
   * class, so a repeated note stays two notes. Without it, equal neighbouring classes merge.
   */
  hold?: boolean;
}

export interface Melody {
  /** Pitch of class 0; class k is pitch low + k for k < pitches. */
  low: number;
  pitches: number;
  /** Class id of silence: equal to `pitches`. */
  rest: number;
  /** Class id meaning "the previous note continues" (pitches + 1), or -1 without the hold option. */
  hold: number;
  /** Number of classes: pitches + 1, or pitches + 2 with hold. */
  classes: number;
  /** [steps] class per step. */
  ids: Int32Array;
}

/** The highest sounding pitch of each step (the tune usually sits on top), or rest. */
export function notesToMelody(notes: readonly StepNote[], options: MelodyOptions = {}): Melody {
  const { range, pitches, placed, steps } = prepare('notesToMelody', notes, options);
  const rest = pitches;
  const hold = options.hold ? pitches + 1 : -1;
  const top = new Int32Array(steps).fill(-1);
  const onset = new Uint8Array(steps);
  for (const n of placed) {
    const end = Math.min(steps, n.start + n.duration);
    for (let s = n.start; s < end; s++) {
      if (n.pitch > top[s]!) {
        top[s] = n.pitch;
        onset[s] = s === n.start ? 1 : 0;
      }
    }
  }
  const ids = new Int32Array(steps);
  for (let s = 0; s < steps; s++) {
    const p = top[s]!;
    if (p < 0) ids[s] = rest;
    else if (hold >= 0 && !onset[s] && s > 0 && top[s - 1] === p) ids[s] = hold;
    else ids[s] = p - range.low;
  }
  return { low: range.low, pitches, rest, hold, classes: options.hold ? pitches + 2 : pitches + 1, ids };
}

export function melodyToNotes(melody: Melody, options: Pick<DecodeOptions, 'velocity'> = {}): StepNote[] {
  const { low, pitches, rest, hold, ids } = melody;
  const velocity = options.velocity ?? 0.8;
  const notes: StepNote[] = [];
  let current: StepNote | undefined;
  for (let s = 0; s <= ids.length; s++) {
    const id = s < ids.length ? ids[s]! : rest;
    if (!Number.isInteger(id) || id < 0 || (id > rest && id !== hold)) {
      throw new Error(`melodyToNotes: class ${id} at step ${s} is out of range; expected 0..${melody.classes - 1}`);
    }
    const continues = current !== undefined && (id === hold || (hold < 0 && id === current.pitch - low));
    if (continues) {
      current!.duration++;
      continue;
    }
    if (current) notes.push(current);
    current = id < pitches ? { pitch: low + id, start: s, duration: 1, velocity } : undefined;
  }
  return notes;
}
