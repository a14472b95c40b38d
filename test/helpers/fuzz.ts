// A seeded mutation fuzzer for the readers of outside bytes (series CSV, text, MIDI, safetensors,
// checkpoints). Each case mutates a valid seed file a few times and reads it. Allowed outcomes: a
// result, or an Error of our own with a message. Anything else is a failure: another exception
// (TypeError, RangeError: a crash of the reader), a case slower than SLOW_MS, or a result larger
// than OUTPUT_MULTIPLE times the input (plus OUTPUT_SLACK bytes).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkSeriesOutliers, decodeText, DataRng, normalizeText, parseMidi, parseSeriesCsv, Vocabulary } from '../../src/data/index.js';
import { decodeCheckpoint, encodeCheckpoint, loadSafetensors, readSafetensorsMetadata, restoreCheckpoint, saveSafetensors } from '../../src/io/index.js';
import { Linear } from '../../src/nn/index.js';
import { Adam } from '../../src/optim/index.js';
import { Generator, tensor } from '../../src/tensor/index.js';
import { ROOT } from './cli.js';

/** A case slower than this is a failure (the readers are linear; inputs stay under 1 MB). */
export const SLOW_MS = 1000;
/** What a reader returns may take at most this many times the input's bytes, plus OUTPUT_SLACK. */
export const OUTPUT_MULTIPLE = 16;
export const OUTPUT_SLACK = 65_536;
/** Mutated inputs are cut to this size. */
export const MAX_INPUT = 1_000_000;

export interface Reader {
  name: string;
  seeds: Uint8Array[];
  /** Reads the bytes; returns the size of what it produced, in bytes. */
  read(bytes: Uint8Array): number;
}

export interface Failure {
  reader: string;
  case: number;
  kind: 'crash' | 'slow' | 'allocation';
  detail: string;
  /** The input, base64 (inputs over 4 KB are cut: the seed and case number reproduce it). */
  input: string;
}

export interface ReaderFigures {
  reader: string;
  cases: number;
  results: number;
  errors: number;
  failures: Failure[];
  seconds: number;
  slowestMs: number;
  /**
   * Cases over SLOW_MS that took at most SLOW_MS when run again alone (best of 3) at the end: the
   * machine was busy, not the reader slow. Only a case slow on its replay too is a failure.
   */
  slowOnlyUnderLoad: { case: number; ms: number; replayMs: number; bytes: number }[];
  largestOutputRatio: number;
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const latin = new TextDecoder('utf-8');

const typedBytes = (values: ArrayBufferView[]): number => values.reduce((n, v) => n + v.byteLength, 0);

/** A tiny model and Adam, trained one step so the checkpoint holds optimizer moments too. */
function checkpointTargets(): { model: Linear; optimizer: Adam; generator: Generator } {
  const generator = new Generator(5);
  const model = new Linear(3, 2, { generator });
  const optimizer = new Adam(model.parameters(), { lr: 0.01 });
  return { model, optimizer, generator };
}

function checkpointSeed(): Uint8Array {
  const t = checkpointTargets();
  t.optimizer.zeroGrad();
  t.model.forward(tensor([[1, 2, 3]])).sum().backward();
  t.optimizer.step();
  return encodeCheckpoint({ ...t, step: 1, extra: { note: 'seed', losses: [0.5, 0.25] } });
}

function withoutChecksum(bytes: Uint8Array): Uint8Array {
  const { data_crc32: _, ...metadata } = readSafetensorsMetadata(bytes);
  return saveSafetensors(loadSafetensors(bytes), metadata);
}

export function readers(): Reader[] {
  const file = (...parts: string[]): Uint8Array => new Uint8Array(readFileSync(join(ROOT, ...parts)));
  return [
    {
      name: 'series CSV',
      seeds: [
        file('data/series/AirPassengers.csv'),
        utf8('time,value\n1950-01,1.5\n1950-02,-2e3\n1950-03,"4"\n# note\n1950-04,5\n'),
        utf8('3\n1\n4\n1\n5\n9\n2\n6\n'),
      ],
      read(bytes) {
        const series = parseSeriesCsv(latin.decode(bytes), 'fuzz.csv', { minLength: 1 });
        try {
          checkSeriesOutliers(series, '--allow-outliers');
        } catch (e) {
          if (!(e as Error).message.startsWith('checkSeriesOutliers: fuzz.csv holds')) throw e;
        }
        return typedBytes([series.time, series.values, ...(series.lines ? [series.lines] : [])]);
      },
    },
    {
      name: 'text',
      seeds: [file('data/text/austen-sense.txt').subarray(0, 3000), utf8('Ünïcödé ☕ and 🎵 and\r\nline ends\r')],
      read(bytes) {
        const text = normalizeText(decodeText(bytes, 'fuzz.txt'));
        const vocabulary = Vocabulary.fromText(text.length > 0 ? text : ' ');
        return text.length * 2 + vocabulary.size * 16;
      },
    },
    {
      name: 'MIDI',
      seeds: [file('data/music/pianobooster/BeginnerCourse-02-ChordOfCMajor.mid'), file('data/music/pianobooster/BoosterMusic-04-FrereJacques.mid')],
      read(bytes) {
        const song = parseMidi(bytes, 'fuzz.mid');
        return JSON.stringify(song).length * 2;
      },
    },
    {
      name: 'safetensors',
      seeds: [file('test/fixtures/gru_1layer.safetensors'), file('test/fixtures/optim_adam.safetensors')].map((b) => b.subarray(0, 200_000)),
      read(bytes) {
        const tensors = loadSafetensors(bytes);
        return Object.values(tensors).reduce((n, t) => n + t.data.byteLength + 64 * t.shape.length, 0);
      },
    },
    {
      name: 'checkpoint',
      // A file of before the checksum too: damage in its data section reaches the value checks and the restore.
      seeds: [checkpointSeed(), withoutChecksum(checkpointSeed())],
      read(bytes) {
        const decoded = decodeCheckpoint(bytes, 'fuzz.safetensors');
        restoreCheckpoint(bytes, checkpointTargets(), 'fuzz.safetensors');
        return [...Object.values(decoded.model), ...Object.values(decoded.optimizer?.state ?? {})].reduce((n, t) => n + t.data.byteLength, 0);
      },
    },
  ];
}

/** Bytes that steer parsers into their edge cases. */
const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x22, 0x2c, 0x0a, 0x0d, 0x5b, 0x7b, 0x5d, 0x7d, 0x3a, 0x2d, 0x2e, 0x30, 0x39, 0x65, 0xc3, 0xe2, 0xf0];

/** One mutation of `bytes` (a new array; the input is never changed). */
function mutate(bytes: Uint8Array, rng: DataRng, seeds: Uint8Array[]): Uint8Array {
  const n = bytes.length;
  const at = (): number => rng.nextUint32() % Math.max(1, n);
  const pick = (k: number): number => rng.nextUint32() % k;
  const out = (): Uint8Array => Uint8Array.from(bytes);
  switch (pick(10)) {
    case 0: { // flip a bit
      const b = out();
      if (n > 0) b[at()]! ^= 1 << pick(8);
      return b;
    }
    case 1: { // an interesting byte
      const b = out();
      if (n > 0) b[at()] = INTERESTING[pick(INTERESTING.length)]!;
      return b;
    }
    case 2: { // a random byte
      const b = out();
      if (n > 0) b[at()] = pick(256);
      return b;
    }
    case 3: { // delete a range
      const i = at();
      return Uint8Array.from([...bytes.subarray(0, i), ...bytes.subarray(i + 1 + pick(64))]);
    }
    case 4: { // insert random bytes
      const i = at();
      const extra = Array.from({ length: 1 + pick(16) }, () => (pick(2) ? INTERESTING[pick(INTERESTING.length)]! : pick(256)));
      return Uint8Array.from([...bytes.subarray(0, i), ...extra, ...bytes.subarray(i)]);
    }
    case 5: // truncate
      return bytes.slice(0, at());
    case 6: { // duplicate a range in place
      const i = at();
      const chunk = bytes.subarray(i, i + 1 + pick(256));
      return Uint8Array.from([...bytes.subarray(0, i), ...chunk, ...chunk, ...bytes.subarray(i + chunk.length)]);
    }
    case 7: { // splice with another seed
      const other = seeds[pick(seeds.length)]!;
      const i = at();
      const j = pick(Math.max(1, other.length));
      return Uint8Array.from([...bytes.subarray(0, i), ...other.subarray(j, j + 1 + pick(512))]);
    }
    case 8: { // a 32-bit little-endian field set to an extreme (lengths, counts, offsets)
      const b = out();
      if (n >= 4) new DataView(b.buffer).setUint32(Math.min(at(), n - 4), [0, 1, 0x7fffffff, 0xffffffff, 0x80000000][pick(5)]!, true);
      return b;
    }
    default: { // repeat a chunk many times: size and depth bombs, up to MAX_INPUT
      const i = at();
      const chunk = bytes.subarray(i, i + 1 + pick(8));
      // Large repeats (up to 1 MB) are rare: each costs as much as a few hundred small cases.
      const times = 1 + pick(pick(40) === 0 ? 100_000 : 200);
      const repeated = new Uint8Array(Math.min(MAX_INPUT, n + chunk.length * times));
      repeated.set(bytes.subarray(0, i));
      let k = i;
      for (let t = 0; t < times && k + chunk.length <= repeated.length; t++, k += chunk.length) repeated.set(chunk, k);
      repeated.set(bytes.subarray(i, i + repeated.length - k), k);
      return repeated;
    }
  }
}

/** An error of our own: a plain Error (or a subclass we define) with a message, not a runtime crash. */
function isTypedError(e: unknown): boolean {
  if (!(e instanceof Error) || e.message.length === 0) return false;
  return !(e instanceof TypeError || e instanceof RangeError || e instanceof SyntaxError || e instanceof ReferenceError || e instanceof EvalError);
}

const now = (): number => performance.now();

/** Runs `cases` cases of one reader from `seed`; stops early once `seconds` have passed (if given). */
export function fuzzReader(reader: Reader, cases: number, seed: number, seconds = Infinity): ReaderFigures {
  const rng = new DataRng(seed);
  const figures: ReaderFigures = { reader: reader.name, cases: 0, results: 0, errors: 0, failures: [], seconds: 0, slowestMs: 0, largestOutputRatio: 0, slowOnlyUnderLoad: [] };
  const slow: { case: number; ms: number; input: Uint8Array }[] = [];
  const start = now();
  for (let c = 0; c < cases && now() - start < seconds * 1000; c++) {
    let input = reader.seeds[rng.nextUint32() % reader.seeds.length]!;
    const rounds = 1 + (rng.nextUint32() % 4);
    for (let r = 0; r < rounds; r++) input = mutate(input, rng, reader.seeds);
    if (input.length > MAX_INPUT) input = input.subarray(0, MAX_INPUT);
    const fail = (kind: Failure['kind'], detail: string): void => {
      figures.failures.push({ reader: reader.name, case: c, kind, detail, input: Buffer.from(input.subarray(0, 4096)).toString('base64') });
    };
    const t0 = now();
    let produced = -1;
    try {
      produced = reader.read(input);
      figures.results++;
    } catch (e) {
      if (isTypedError(e)) figures.errors++;
      else fail('crash', `${(e as Error)?.name ?? typeof e}: ${String((e as Error)?.message ?? e).slice(0, 300)}`);
    }
    const ms = now() - t0;
    figures.cases++;
    figures.slowestMs = Math.max(figures.slowestMs, ms);
    if (ms > SLOW_MS) slow.push({ case: c, ms, input });
    if (produced >= 0) {
      figures.largestOutputRatio = Math.max(figures.largestOutputRatio, produced / Math.max(1, input.length));
      if (produced > OUTPUT_MULTIPLE * input.length + OUTPUT_SLACK) fail('allocation', `${produced} bytes produced from ${input.length}`);
    }
  }
  figures.seconds = (now() - start) / 1000;
  for (const s of slow) {
    let best = Infinity;
    for (let k = 0; k < 3; k++) {
      const t0 = now();
      try {
        reader.read(s.input);
      } catch {
        // judged above; only the time matters here
      }
      best = Math.min(best, now() - t0);
    }
    if (best > SLOW_MS) {
      figures.failures.push({ reader: reader.name, case: s.case, kind: 'slow', detail: `${s.ms.toFixed(0)} ms on ${s.input.length} bytes (${best.toFixed(0)} ms alone)`, input: Buffer.from(s.input.subarray(0, 4096)).toString('base64') });
    } else {
      figures.slowOnlyUnderLoad.push({ case: s.case, ms: Math.round(s.ms), replayMs: Math.round(best), bytes: s.input.length });
    }
  }
  return figures;
}
