/**
 * MIDI bytes ⇄ notes on a step grid, through @tonejs/midi. Pure (bytes in, bytes out) so the
 * playground can use it on a dropped file; reading files and folders lives in files.ts.
 */
import tonejs from '@tonejs/midi';
import { notesToMelody, notesToPianoRoll, pianoRollToNotes, quantizeNotes, melodyToNotes } from './pianoroll.js';
import type { DecodeOptions, EncodeOptions, Melody, MelodyOptions, PianoRoll, PianoRollLike, StepNote } from './pianoroll.js';

// The package ships CommonJS only: Node's ESM loader exposes it as one default export.
const { Midi } = tonejs;

export interface MidiTrackInfo {
  index: number;
  name: string;
  channel: number;
  /** General MIDI program number (0 = acoustic grand piano). */
  program: number;
  /** Drum tracks (channel 10) are skipped by default: their "pitches" name drums, not notes. */
  percussion: boolean;
  notes: number;
}

export interface MidiSong {
  source: string;
  /** Ticks per quarter note in the file. */
  ppq: number;
  /** First tempo of the file (120 when it sets none). */
  bpm: number;
  stepsPerQuarter: number;
  /** The track the notes come from, or 'merge' for all non-drum tracks together. */
  track: number | 'merge';
  tracks: MidiTrackInfo[];
  /** Quantised notes, sorted by start then pitch. */
  notes: StepNote[];
}

export interface ParseMidiOptions {
  /**
   * A track index, 'merge' (every non-drum track), or 'most' (the default: the non-drum track with the
   * most notes, usually the melody or the piano part).
   */
  track?: number | 'merge' | 'most';
  /** Grid resolution; the default 4 is sixteenth notes. */
  stepsPerQuarter?: number;
}

type MidiFile = InstanceType<typeof Midi>;

function load(bytes: Uint8Array | ArrayBuffer, source: string): MidiFile {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const magic = String.fromCharCode(...view.subarray(0, 4));
  if (magic !== 'MThd') {
    throw new Error(`parseMidi: ${source} is not a MIDI file (expected it to start with "MThd", received ${JSON.stringify(magic)})`);
  }
  checkChunks(view, source);
  try {
    return new Midi(view);
  } catch (err) {
    // The parser's own TypeErrors and RangeErrors name its internals, not the file: say what failed.
    const why = err instanceof TypeError || err instanceof RangeError ? 'its track events could not be read' : `the parser reported: ${String(err)}`;
    throw new Error(`parseMidi: ${source} is a corrupt MIDI file (${why})`);
  }
}

/**
 * Walks the chunk headers before parsing: the parser reads a truncated file without complaint and
 * returns fewer notes, which would silently shrink a training corpus.
 */
function checkChunks(view: Uint8Array, source: string): void {
  const data = new DataView(view.buffer, view.byteOffset, view.byteLength);
  const corrupt = (why: string) => new Error(`parseMidi: ${source} is a corrupt MIDI file (${why})`);
  if (view.length < 14) throw corrupt(`${view.length} bytes, shorter than the 14-byte header`);
  const division = data.getUint16(12);
  if (division & 0x8000) {
    throw new Error(`parseMidi: ${source} times its events in SMPTE frames, not in ticks per quarter note; notes need beats to be placed on a grid, so only tick-timed files are supported`);
  }
  if (division === 0) throw corrupt('the header gives 0 ticks per quarter note');
  const tracks = data.getUint16(10);
  if (tracks === 0) throw corrupt('the header declares no tracks');
  let pos = 8 + data.getUint32(4);
  for (let found = 0; found < tracks; ) {
    if (pos + 8 > view.length) throw corrupt(`truncated: the header declares ${tracks} tracks, the file ends after ${found}`);
    const type = String.fromCharCode(...view.subarray(pos, pos + 4));
    const length = data.getUint32(pos + 4);
    if (pos + 8 + length > view.length) {
      throw corrupt(`truncated: track ${found + 1} of ${tracks} declares ${length} bytes, only ${view.length - pos - 8} remain`);
    }
    // Chunks of unknown type are skipped, as the standard asks; only MTrk chunks are tracks.
    if (type === 'MTrk') {
      found++;
      const why = trackEventError(view, pos + 8, pos + 8 + length);
      if (why !== null) throw corrupt(`track ${found}: ${why}`);
    }
    pos += 8 + length;
  }
}

/** Data bytes of a channel message by its status' high nibble (0x80..0xE0). */
const CHANNEL_DATA = [2, 2, 2, 2, 1, 1, 2];

/**
 * Walks the events of one track (delta time, status, data) and returns why they do not tile the chunk
 * exactly, or null. The parser trusts the lengths it reads, and a damaged one can make it loop and
 * allocate until the process runs out of memory (found by the fuzzer); this walk is linear and
 * always moves forward.
 */
function trackEventError(view: Uint8Array, start: number, end: number): string | null {
  let pos = start;
  let running = 0;
  /** A variable-length quantity (at most 4 bytes), or -1 when it runs past the chunk or is longer. */
  const quantity = (): number => {
    let value = 0;
    for (let k = 0; k < 4; k++) {
      if (pos >= end) return -1;
      const b = view[pos++]!;
      value = value * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) return value;
    }
    return -1;
  };
  while (pos < end) {
    const at = pos - start;
    if (quantity() < 0) return `the delta time of the event at byte ${at} is cut off or longer than 4 bytes`;
    if (pos >= end) return `the track ends inside the event at byte ${at}`;
    let status = view[pos]!;
    if (status < 0x80) {
      if (running === 0) return `the event at byte ${at} has no status byte and no earlier one to repeat`;
      status = running;
    } else {
      pos++;
    }
    let length: number;
    if (status === 0xff) {
      if (pos >= end) return `the meta event at byte ${at} is cut off`;
      pos++;
      length = quantity();
      running = 0;
    } else if (status === 0xf0 || status === 0xf7) {
      length = quantity();
      running = 0;
    } else if (status >= 0xf0) {
      return `the event at byte ${at} has status 0x${status.toString(16)}, which a MIDI file cannot hold`;
    } else {
      length = CHANNEL_DATA[(status >> 4) - 8]!;
      running = status;
    }
    if (length < 0 || pos + length > end) return `the event at byte ${at} runs past the end of the track`;
    pos += length;
  }
  return null;
}

export function parseMidi(bytes: Uint8Array | ArrayBuffer, source = '<bytes>', options: ParseMidiOptions = {}): MidiSong {
  const midi = load(bytes, source);
  const stepsPerQuarter = options.stepsPerQuarter ?? 4;
  const tracks: MidiTrackInfo[] = midi.tracks.map((t, index) => ({
    index,
    name: t.name,
    channel: t.channel,
    program: t.instrument.number,
    percussion: t.instrument.percussion,
    notes: t.notes.length,
  }));
  const melodic = tracks.filter((t) => !t.percussion && t.notes > 0);
  const choice = options.track ?? 'most';
  let chosen: number[];
  if (choice === 'most' || choice === 'merge') {
    if (melodic.length === 0) {
      const drums = tracks.filter((t) => t.percussion).reduce((sum, t) => sum + t.notes, 0);
      throw new Error(`parseMidi: ${source} has no notes outside drum tracks (${tracks.length} track(s), ${drums} drum note(s))`);
    }
    chosen = choice === 'merge' ? melodic.map((t) => t.index) : [melodic.reduce((a, b) => (b.notes > a.notes ? b : a)).index];
  } else {
    const info = tracks[choice];
    if (!Number.isInteger(choice) || info === undefined) {
      throw new Error(`parseMidi: track ${choice} does not exist in ${source}; expected 0..${tracks.length - 1}, 'most' or 'merge'`);
    }
    if (info.notes === 0) throw new Error(`parseMidi: track ${choice} of ${source} has no notes`);
    chosen = [choice];
  }
  const tickNotes = chosen.flatMap((i) =>
    midi.tracks[i]!.notes.map((n) => ({ pitch: n.midi, ticks: n.ticks, durationTicks: n.durationTicks, velocity: n.velocity })),
  );
  return {
    source,
    ppq: midi.header.ppq,
    // Files store microseconds per beat, so 90 bpm reads back as 90.00009: keep two decimals.
    bpm: Math.round((midi.header.tempos[0]?.bpm ?? 120) * 100) / 100,
    stepsPerQuarter,
    track: choice === 'merge' ? 'merge' : chosen[0]!,
    tracks,
    notes: quantizeNotes(tickNotes, midi.header.ppq, stepsPerQuarter),
  };
}

export interface WriteMidiOptions {
  stepsPerQuarter?: number;
  bpm?: number;
  /** General MIDI program of the single track (default 0, piano). */
  program?: number;
  name?: string;
}

/** Writes the notes as a one-track MIDI file (480 ticks per quarter note). */
export function writeMidi(notes: readonly StepNote[], options: WriteMidiOptions = {}): Uint8Array {
  const { stepsPerQuarter = 4, bpm = 120, program = 0, name = 'recurrent' } = options;
  if (!Number.isInteger(stepsPerQuarter) || stepsPerQuarter < 1 || stepsPerQuarter > 96) {
    throw new Error(`writeMidi: stepsPerQuarter must be an integer in [1, 96], received ${stepsPerQuarter}`);
  }
  if (!(bpm > 0 && bpm <= 1000)) throw new Error(`writeMidi: bpm must be in (0, 1000], received ${bpm}`);
  if (!Number.isInteger(program) || program < 0 || program > 127) {
    throw new Error(`writeMidi: program must be an integer in [0, 127], received ${program}`);
  }
  const midi = new Midi();
  midi.header.setTempo(bpm);
  midi.header.name = name;
  const track = midi.addTrack();
  track.name = name;
  track.instrument.number = program;
  const ticksPerStep = midi.header.ppq / stepsPerQuarter;
  for (const n of notes) {
    if (!Number.isInteger(n.pitch) || n.pitch < 0 || n.pitch > 127 || !(n.start >= 0) || !(n.duration > 0)) {
      throw new Error(`writeMidi: invalid note {pitch: ${n.pitch}, start: ${n.start}, duration: ${n.duration}}; expected pitch 0..127, start >= 0, duration > 0`);
    }
    track.addNote({
      midi: n.pitch,
      ticks: Math.round(n.start * ticksPerStep),
      durationTicks: Math.max(1, Math.round(n.duration * ticksPerStep)),
      velocity: Math.min(1, Math.max(0, n.velocity)),
    });
  }
  return midi.toArray();
}

/** The song's notes as a piano roll. */
export function songToPianoRoll(song: MidiSong, options: EncodeOptions = {}): PianoRoll {
  try {
    return notesToPianoRoll(song.notes, options);
  } catch (err) {
    throw new Error(`${song.source}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The song's top line as melody classes. */
export function songToMelody(song: MidiSong, options: MelodyOptions = {}): Melody {
  try {
    return notesToMelody(song.notes, options);
  } catch (err) {
    throw new Error(`${song.source}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function pianoRollToMidi(roll: PianoRollLike, options: WriteMidiOptions & DecodeOptions = {}): Uint8Array {
  return writeMidi(pianoRollToNotes(roll, options), options);
}

export function melodyToMidi(melody: Melody, options: WriteMidiOptions & Pick<DecodeOptions, 'velocity'> = {}): Uint8Array {
  return writeMidi(melodyToNotes(melody, options), options);
}
