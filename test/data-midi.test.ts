import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readMidiFile, readMidiFolder, shippedDataPath } from '../src/data/files.js';
import {
  melodyToMidi,
  melodyToNotes,
  notesToMelody,
  notesToPianoRoll,
  parseMidi,
  pianoRollToMidi,
  pianoRollToNotes,
  quantizeNotes,
  songToMelody,
  songToPianoRoll,
  writeMidi,
} from '../src/data/index.js';
import type { StepNote } from '../src/data/index.js';

const piano = (name: string) => shippedDataPath('music', 'pianobooster', name);
const shape = (notes: readonly StepNote[]) => notes.map((n) => [n.pitch, n.start, n.duration]);
const note = (pitch: number, start: number, duration: number): StepNote => ({ pitch, start, duration, velocity: 0.8 });

describe('parseMidi', () => {
  it('picks the non-drum track with the most notes and quantises to sixteenths', () => {
    const song = readMidiFile(piano('BoosterMusic-04-FrereJacques.mid'));
    const drums = song.tracks.filter((t) => t.percussion);
    assert.equal(drums.length, 1);
    const melodic = song.tracks.filter((t) => !t.percussion);
    const most = melodic.reduce((a, b) => (b.notes > a.notes ? b : a));
    assert.equal(song.track, most.index);
    assert.equal(song.notes.length, most.notes);
    assert.equal(song.stepsPerQuarter, 4);
    assert.equal(song.bpm, 90);
    assert.ok(song.notes.every((n) => Number.isInteger(n.start) && n.duration >= 1 && n.pitch >= 21 && n.pitch <= 108));
    const merged = readMidiFile(piano('BoosterMusic-04-FrereJacques.mid'), { track: 'merge' });
    assert.ok(merged.notes.length > song.notes.length);
    assert.throws(() => readMidiFile(piano('BoosterMusic-04-FrereJacques.mid'), { track: 99 }), /track 99 does not exist in .*FrereJacques\.mid; expected 0\.\.\d+/);
  });

  it('reports corrupt, truncated and empty files by name', () => {
    const bytes = readFileSync(piano('BoosterMusic-04-FrereJacques.mid'));
    assert.throws(() => parseMidi(new TextEncoder().encode('hello, world'), 'notes.txt'), /notes\.txt is not a MIDI file \(expected it to start with "MThd", received "hell"\)/);
    assert.throws(() => parseMidi(new Uint8Array(bytes.subarray(0, 1000)), 'cut.mid'), /cut\.mid is a corrupt MIDI file \(truncated: track \d of \d declares \d+ bytes, only \d+ remain\)/);
    assert.throws(() => parseMidi(writeMidi([]), 'silent.mid'), /silent\.mid has no notes outside drum tracks/);
  });

  it('refuses SMPTE-timed files, empty headers and garbled track events, naming the file and the reason', () => {
    const bytes = new Uint8Array(readFileSync(piano('BoosterMusic-04-FrereJacques.mid')));
    const smpte = bytes.slice();
    smpte[12] = 0xe7; // -25 frames per second
    smpte[13] = 40;
    assert.throws(() => parseMidi(smpte, 'film.mid'), /film\.mid times its events in SMPTE frames, not in ticks per quarter note/);
    const zero = bytes.slice();
    zero[12] = 0;
    zero[13] = 0;
    assert.throws(() => parseMidi(zero, 'zero.mid'), /zero\.mid is a corrupt MIDI file \(the header gives 0 ticks per quarter note\)/);
    const empty = bytes.slice();
    empty[10] = 0;
    empty[11] = 0;
    assert.throws(() => parseMidi(empty, 'empty.mid'), /empty\.mid is a corrupt MIDI file \(the header declares no tracks\)/);
    const garbled = bytes.slice();
    garbled.fill(0xf0, 22, 40); // the first track's first events
    assert.throws(() => parseMidi(garbled, 'garbled.mid'), /garbled\.mid is a corrupt MIDI file \(track 1: the delta time of the event at byte 0 is cut off or longer than 4 bytes\)/);
  });

  it('refuses track events that run past their chunk before the parser sees them (a fuzzed file on which it ran out of memory)', () => {
    const found = new Uint8Array(readFileSync(new URL('./fixtures/fuzz/midi-parser-oom.mid', import.meta.url)));
    assert.throws(() => parseMidi(found, 'oom.mid'), /^Error: parseMidi: oom\.mid is a corrupt MIDI file \(track 5: the event at byte 376 runs past the end of the track\)$/);
    const bytes = new Uint8Array(readFileSync(piano('BoosterMusic-04-FrereJacques.mid')));
    const running = bytes.slice();
    running[22 + 1] = 0x40; // the first event's status byte becomes data, with no earlier status to repeat
    assert.throws(() => parseMidi(running, 'running.mid'), /running\.mid is a corrupt MIDI file \(track 1: the event at byte 0 has no status byte and no earlier one to repeat\)/);
  });
});

describe('quantizeNotes', () => {
  it('rounds to the grid, keeps a step at least, and cuts overlaps of one pitch', () => {
    const notes = quantizeNotes(
      [
        { pitch: 60, ticks: 0, durationTicks: 230, velocity: 1 }, // 0..1.92 steps → 0..2
        { pitch: 60, ticks: 115, durationTicks: 500, velocity: 1 }, // starts at step 1: cuts the first to 1 step
        { pitch: 64, ticks: 470, durationTicks: 10, velocity: 1 }, // tiny: one step at 4
        { pitch: 64, ticks: 480, durationTicks: 120, velocity: 1 }, // same step: the longer one stays
      ],
      480,
      4,
    );
    assert.deepEqual(shape(notes), [
      [60, 0, 1],
      [60, 1, 4],
      [64, 4, 1],
    ]);
  });
});

describe('piano roll', () => {
  it('marks sounding keys and onsets, and decodes repeated notes apart', () => {
    const notes = [note(60, 0, 2), note(60, 2, 2), note(64, 1, 1)];
    const roll = notesToPianoRoll(notes, { range: { low: 60, high: 71 } });
    assert.equal(roll.steps, 4);
    assert.equal(roll.pitches, 12);
    assert.deepEqual([0, 1, 2, 3].map((s) => roll.active[s * 12]), [1, 1, 1, 1]);
    assert.deepEqual([0, 1, 2, 3].map((s) => roll.onsets[s * 12]), [1, 0, 1, 0]);
    assert.deepEqual(shape(pianoRollToNotes(roll)), shape([note(60, 0, 2), note(64, 1, 1), note(60, 2, 2)]));
    // A model's output has no onsets: then a held key is one note.
    assert.deepEqual(shape(pianoRollToNotes({ ...roll, onsets: undefined })), [
      [60, 0, 4],
      [64, 1, 1],
    ]);
  });

  it('folds or drops notes outside the range', () => {
    const notes = [note(48, 0, 1), note(62, 1, 1)];
    const folded = pianoRollToNotes(notesToPianoRoll(notes, { range: { low: 60, high: 71 } }));
    assert.deepEqual(shape(folded), [
      [60, 0, 1],
      [62, 1, 1],
    ]);
    const dropped = pianoRollToNotes(notesToPianoRoll(notes, { range: { low: 60, high: 71 }, outOfRange: 'drop' }));
    assert.deepEqual(shape(dropped), [[62, 1, 1]]);
    assert.throws(() => notesToPianoRoll(notes, { range: { low: 60, high: 71 }, outOfRange: 'error' }), /pitch 48 is outside the range \[60, 71\]/);
    assert.throws(() => notesToPianoRoll([note(60, 100_000, 1)]), /span 100001 steps, more than maxSteps 25000/);
  });

  it('round-trips every shipped pianobooster piece through a MIDI file', () => {
    const { songs, skipped } = readMidiFolder(shippedDataPath('music', 'pianobooster'));
    assert.equal(songs.length, 13);
    assert.deepEqual(skipped, []);
    for (const song of songs) {
      const roll = songToPianoRoll(song);
      const bytes = pianoRollToMidi(roll, { bpm: song.bpm, stepsPerQuarter: song.stepsPerQuarter });
      const back = parseMidi(bytes, 'round-trip.mid');
      assert.deepEqual(shape(back.notes), shape(song.notes), song.source);
      assert.equal(back.bpm, song.bpm);
    }
  });
});

describe('melody', () => {
  it('keeps the highest sounding note per step, with a rest class', () => {
    const chord = [note(60, 0, 4), note(67, 0, 2), note(64, 2, 1)];
    const m = notesToMelody(chord, { range: { low: 60, high: 72 } });
    assert.equal(m.rest, 13);
    assert.equal(m.classes, 14);
    assert.deepEqual([...m.ids], [7, 7, 4, 0]);
    const gap = notesToMelody([note(60, 0, 1), note(62, 2, 1)], { range: { low: 60, high: 72 } });
    assert.deepEqual([...gap.ids], [0, 13, 2]);
    assert.deepEqual(shape(melodyToNotes(gap)), [
      [60, 0, 1],
      [62, 2, 1],
    ]);
  });

  it('separates repeated notes with the hold class', () => {
    const repeated = [note(60, 0, 2), note(60, 2, 2)];
    const plain = notesToMelody(repeated, { range: { low: 60, high: 72 } });
    assert.deepEqual(shape(melodyToNotes(plain)), [[60, 0, 4]]);
    const held = notesToMelody(repeated, { range: { low: 60, high: 72 }, hold: true });
    assert.equal(held.hold, 14);
    assert.deepEqual([...held.ids], [0, 14, 0, 14]);
    assert.deepEqual(shape(melodyToNotes(held)), shape(repeated));
    assert.throws(() => melodyToNotes({ ...plain, ids: Int32Array.from([0, 20]) }), /class 20 at step 1 is out of range; expected 0\.\.13/);
  });

  it('round-trips a shipped tune through a MIDI file', () => {
    const song = readMidiFile(piano('BoosterMusic-06-Greensleeves.mid'));
    const melody = songToMelody(song, { range: { low: 48, high: 84 }, hold: true });
    const back = songToMelody(parseMidi(melodyToMidi(melody, { bpm: song.bpm }), 'm.mid'), {
      range: { low: 48, high: 84 },
      hold: true,
      steps: melody.ids.length,
    });
    assert.deepEqual(back.ids, melody.ids);
    assert.ok(new Set(melody.ids).size > 5);
  });
});

describe('readMidiFolder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'recurrent-midi-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('skips unusable files with a reason and fails when none is usable', () => {
    writeFileSync(join(dir, 'bad.mid'), 'not midi');
    assert.throws(() => readMidiFolder(dir), /none of the 1 MIDI file\(s\) in .* could be used:\n {2}bad\.mid: parseMidi: .*bad\.mid is not a MIDI file/);
    writeFileSync(join(dir, 'good.MID'), writeMidi([note(60, 0, 4)]));
    writeFileSync(join(dir, 'readme.txt'), 'ignored');
    const { songs, skipped } = readMidiFolder(dir);
    assert.equal(songs.length, 1);
    assert.deepEqual(skipped.map((s) => s.file), [join(dir, 'bad.mid')]);
    assert.throws(() => readMidiFolder(join(dir, 'missing')), /cannot list .*missing \(no such folder\)/);
    assert.throws(() => readMidiFile(join(dir, 'missing.mid')), /readMidiFile: cannot read .*missing\.mid \(no such file\)/);
  });
});
