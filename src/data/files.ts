/**
 * Node-only loaders: read a file or folder and hand the contents to the pure parsers. Kept out of the
 * data barrel (index.ts) so a browser bundle of the data layer never pulls in node:fs.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { parseChorales, type ChoraleSet } from './chorales.js';
import { parseMidi } from './midi.js';
import type { MidiSong, ParseMidiOptions } from './midi.js';
import { parseSeriesCsv } from './series-csv.js';
import type { ParseSeriesOptions, Series } from './series-csv.js';
import { decodeText, normalizeText } from './text.js';

/** The shipped data/ folder: two levels up from both src/data/ and dist/data/. */
export function shippedDataPath(...parts: string[]): string {
  return join(fileURLToPath(new URL('../../data/', import.meta.url)), ...parts);
}

export type ShippedKind = 'series' | 'text' | 'music';

/**
 * Shipped datasets of a kind by name: CSV and text files without extension, music folders of MIDI
 * files (data/music/jsb-chorales holds piano rolls for the music experiment, not the music task).
 */
export function listShippedData(kind: ShippedKind): string[] {
  const isMidiFolder = (n: string) => readdirSync(shippedDataPath(kind, n)).some((f) => /\.midi?$/i.test(f));
  return readdirSync(shippedDataPath(kind))
    .filter((n) => !n.startsWith('.') && !/\.md$/i.test(n) && (kind !== 'music' || isMidiFolder(n)))
    .map((n) => n.replace(/\.(csv|txt)$/i, ''))
    .sort();
}

/**
 * A path that exists is used as given; otherwise the name of a shipped dataset ("AirPassengers",
 * "austen-sense", "pianobooster"). Anything else is an error that lists the shipped names.
 */
export function resolveDataPath(kind: ShippedKind, nameOrPath: string): string {
  if (existsSync(nameOrPath)) return nameOrPath;
  const names = listShippedData(kind);
  const match = names.find((n) => n.toLowerCase() === nameOrPath.toLowerCase());
  if (match === undefined) {
    throw new Error(`resolveDataPath: "${nameOrPath}" is neither an existing path nor a shipped ${kind} dataset (shipped: ${names.join(', ')})`);
  }
  const ext = kind === 'series' ? '.csv' : kind === 'text' ? '.txt' : '';
  return shippedDataPath(kind, match + ext);
}

function readBytes(fn: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (err as Error).message;
    throw new Error(`${fn}: cannot read ${path} (${why})`);
  }
}

export function readSeriesFile(path: string, options: ParseSeriesOptions = {}): Series {
  return parseSeriesCsv(readBytes('readSeriesFile', path).toString('utf8'), path, options);
}

/** UTF-8 text with line ends normalised; an empty file is an error. */
export function readTextFile(path: string): string {
  const text = normalizeText(decodeText(readBytes('readTextFile', path), path));
  if (text.length === 0) throw new Error(`readTextFile: ${path} is empty`);
  return text;
}

export function readMidiFile(path: string, options: ParseMidiOptions = {}): MidiSong {
  const bytes = readBytes('readMidiFile', path);
  return parseMidi(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path, options);
}

export interface MidiFolder {
  songs: MidiSong[];
  /** Files that could not be used, with the reason (a corrupt file, or one with only drums). */
  skipped: { file: string; reason: string }[];
}

/**
 * Every .mid/.midi file directly in the folder, in name order. Unusable files are reported in
 * `skipped` rather than failing the whole corpus; a folder with no usable file is an error.
 */
export function readMidiFolder(dir: string, options: ParseMidiOptions = {}): MidiFolder {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a folder');
    names = readdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`readMidiFolder: cannot list ${dir} (${code === 'ENOENT' ? 'no such folder' : (err as Error).message})`);
  }
  const files = names.filter((n) => /\.midi?$/i.test(n)).sort();
  if (files.length === 0) throw new Error(`readMidiFolder: ${dir} holds no .mid or .midi files`);
  const songs: MidiSong[] = [];
  const skipped: MidiFolder['skipped'] = [];
  for (const name of files) {
    const path = join(dir, name);
    try {
      songs.push(readMidiFile(path, options));
    } catch (err) {
      skipped.push({ file: path, reason: err instanceof Error ? err.message : String(err) });
    }
  }
  if (songs.length === 0) {
    const reasons = skipped.map((s) => `  ${basename(s.file)}: ${s.reason}`).join('\n');
    throw new Error(`readMidiFolder: none of the ${files.length} MIDI file(s) in ${dir} could be used:\n${reasons}`);
  }
  return { songs, skipped };
}

/** The shipped JSB chorales (see data/music/jsb-chorales/README.md). */
export const SHIPPED_CHORALES = 'music/jsb-chorales/jsb-chorales-quarter.txt.gz';

/**
 * Reads the chorales file written by tools/convert_jsb_chorales.py (default: the shipped one). gzip's
 * CRC-32 and the parser's counts both stand guard, so a damaged file is an error that names it.
 */
export function readChorales(path = shippedDataPath(SHIPPED_CHORALES)): ChoraleSet {
  const bytes = readBytes('readChorales', path);
  let text: string;
  try {
    text = gunzipSync(bytes, { maxOutputLength: CHORALES_MAX_BYTES }).toString('latin1');
  } catch (err) {
    throw new Error(`readChorales: ${path} is not an intact gzip file (${(err as Error).message}); restore it from the package or rerun tools/convert_jsb_chorales.py`);
  }
  return parseChorales(text, path);
}

/** Ten times the shipped file's text (270 kB): a bound on what a forged file can make us allocate. */
const CHORALES_MAX_BYTES = 3_000_000;
