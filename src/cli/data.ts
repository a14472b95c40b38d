/**
 * Reading a task's data from --data (a file, a folder, or the name of a synthetic source) and
 * describing where it came from, so a run can find the same data again and notice if it changed.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { listShippedData, readMidiFile, readMidiFolder, readSeriesFile, readTextFile, resolveDataPath, shippedDataPath, type ShippedKind } from '../data/files.js';
import type { Series } from '../data/index.js';
import { sineSeries, type Piece, type TaskName } from '../tasks/index.js';
import { SYNTHETIC } from './defaults.js';

/** How config.json records the data. */
export interface DataRecord {
  /** 'sine' or 'sine-mixture' for generated signals, else null. */
  synthetic: string | null;
  /** Relative to the shipped data/ folder when `shipped`, else absolute. */
  path: string | null;
  shipped: boolean;
  /** FNV-1a of the bytes read, to notice a file that changed since training. */
  fingerprint: string | null;
  /** Files read (a folder gives several). */
  files: string[];
  /** MIDI: the track option used. */
  track?: number | 'most' | 'merge';
  /** Series CSV: the value column picked by --column, or the table read as --wide. */
  column?: string;
  wide?: boolean;
}

export type LoadedData =
  | { task: 'series'; series: Series; record: DataRecord }
  | { task: 'text'; text: string; record: DataRecord }
  | { task: 'music'; pieces: Piece[]; skipped: { file: string; reason: string }[]; record: DataRecord }
  | { task: 'denoise'; series: Series | null; record: DataRecord };

export function fnv1a(chunks: readonly Uint8Array[]): string {
  let h = 0x811c9dc5;
  for (const bytes of chunks) {
    for (let i = 0; i < bytes.length; i++) {
      h ^= bytes[i]!;
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  return h.toString(16).padStart(8, '0');
}

function kindOf(path: string): 'file' | 'folder' | 'missing' {
  try {
    return statSync(path).isDirectory() ? 'folder' : 'file';
  } catch {
    return 'missing';
  }
}

function listFiles(dir: string, pattern: RegExp): string[] {
  return readdirSync(dir)
    .filter((n) => pattern.test(n))
    .sort()
    .map((n) => join(dir, n));
}

/** Where a DataRecord's data lives now. */
export function resolveRecordPath(record: DataRecord): string | null {
  if (record.path === null) return null;
  return record.shipped ? shippedDataPath(record.path) : record.path;
}

function recordFor(path: string, files: string[], extra: Partial<DataRecord> = {}): DataRecord {
  const absolute = resolve(path);
  const shippedRoot = shippedDataPath();
  const inside = relative(shippedRoot, absolute);
  const shipped = inside !== '' && !inside.startsWith('..') && !isAbsolute(inside);
  const fingerprint = fnv1a(files.map((f) => readFileSync(f)));
  return {
    synthetic: null,
    path: shipped ? inside.split(sep).join('/') : absolute,
    shipped,
    fingerprint,
    files: files.map((f) => (shipped ? relative(shippedRoot, resolve(f)).split(sep).join('/') : resolve(f))),
    ...extra,
  };
}

export interface LoadOptions {
  /** A path, or a synthetic source name; the task's default when undefined. */
  data: string;
  /** True when the value is the built-in default (a path under data/). */
  shippedDefault: boolean;
  seed: number;
  track?: number | 'most' | 'merge';
  /** Series CSV: value column by header name or 0-based index. */
  column?: string;
  /** Series CSV: a year x season table read row by row. */
  wide?: boolean;
}

/** Reads the data of a task; every problem is an Error naming the path and what was expected. */
export function loadData(task: TaskName, options: LoadOptions): LoadedData {
  const synthetic = Object.hasOwn(SYNTHETIC, options.data) ? SYNTHETIC[options.data] : undefined;
  if ((options.column !== undefined || options.wide) && task !== 'series' && task !== 'denoise') {
    throw new Error(`--column and --wide apply to series CSV files, not to ${task}`);
  }
  if (synthetic && kindOf(options.data) === 'missing') {
    if (!synthetic.includes(task)) {
      throw new Error(`--data ${options.data} is a synthetic source for ${synthetic.join(', ')}, not for ${task}`);
    }
    const record: DataRecord = { synthetic: options.data, path: null, shipped: false, fingerprint: null, files: [] };
    if (task === 'series') return { task, series: sineSeries(), record };
    return { task: 'denoise', series: null, record };
  }
  const shippedKind: ShippedKind = task === 'denoise' ? 'series' : task;
  let path = options.shippedDefault ? shippedDataPath(options.data) : options.data;
  if (kindOf(path) === 'missing') {
    try {
      path = resolveDataPath(shippedKind, path);
    } catch {
      throw new Error(`--data ${path}: no such file or folder, and no shipped ${shippedKind} data of that name (shipped: ${listShippedData(shippedKind).join(', ')}; see "recurrent data")`);
    }
  }
  const kind = kindOf(path);
  switch (task) {
    case 'series':
    case 'denoise': {
      if (kind === 'folder') throw new Error(`--data ${path} is a folder; the ${task} task reads one CSV file of "time,value" lines`);
      const column = options.column === undefined ? undefined : /^\d+$/.test(options.column) ? Number(options.column) : options.column;
      const series = readSeriesFile(path, { minLength: 3, valueColumn: column, wide: options.wide });
      const record = recordFor(path, [path], { ...(options.column !== undefined ? { column: options.column } : {}), ...(options.wide ? { wide: true } : {}) });
      return task === 'series' ? { task, series, record } : { task, series, record };
    }
    case 'text': {
      const files = kind === 'folder' ? listFiles(path, /\.txt$/i) : [path];
      if (files.length === 0) throw new Error(`--data ${path} holds no .txt files`);
      // Files are joined by a blank line so that one book's last word never runs into the next's first.
      const text = files.map((f) => readTextFile(f)).join('\n\n');
      return { task, text, record: recordFor(path, files) };
    }
    case 'music': {
      const track = options.track ?? 'most';
      if (kind === 'file') {
        const song = readMidiFile(path, { track });
        return { task, pieces: [song], skipped: [], record: recordFor(path, [path], { track }) };
      }
      const { songs, skipped } = readMidiFolder(path, { track });
      const used = new Set(skipped.map((s) => s.file));
      const files = listFiles(path, /\.midi?$/i).filter((f) => !used.has(f));
      return { task, pieces: songs, skipped, record: recordFor(path, files, { track }) };
    }
  }
}

/** Reloads the data a run was trained on, refusing data that changed since. */
export function reloadData(task: TaskName, record: DataRecord, seed: number, runDir: string): LoadedData {
  if (record.synthetic !== null) return loadData(task, { data: record.synthetic, shippedDefault: false, seed });
  const path = resolveRecordPath(record);
  if (path === null) throw new Error(`${runDir}/config.json records no data path`);
  if (kindOf(path) === 'missing') {
    throw new Error(`the data this run was trained on, ${path}, is gone; pass --data to use other data`);
  }
  const loaded = loadData(task, { data: record.shipped ? record.path! : path, shippedDefault: record.shipped, seed, track: record.track, column: record.column, wide: record.wide });
  if (loaded.record.fingerprint !== record.fingerprint) {
    throw new Error(
      `the data at ${path} changed since this run was trained (fingerprint ${loaded.record.fingerprint}, recorded ${record.fingerprint}); ` +
        `its validation split no longer matches: pass --data to evaluate on it explicitly`,
    );
  }
  return loaded;
}

export interface ShippedEntry {
  task: ShippedKind;
  name: string;
  /** Human-readable size on disk. */
  size: string;
  path: string;
}

function sizeOnDisk(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, n) => sum + sizeOnDisk(join(path, n)), 0);
}

function humanBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Every shipped dataset, by task: what `recurrent data` prints (provenance is in data/README.md). */
export function shippedDataTable(): ShippedEntry[] {
  const kinds: ShippedKind[] = ['series', 'text', 'music'];
  return kinds.flatMap((task) =>
    listShippedData(task).map((name) => {
      const path = resolveDataPath(task, name);
      return { task, name, size: humanBytes(sizeOnDisk(path)), path: relative(process.cwd(), path) || path };
    }),
  );
}
