/**
 * The data the page offers: the sine, a few of the shipped series, a shipped novel for the text task
 * and shipped melodies for the music task, bundled (the page has no file system) and parsed by the
 * same code as the CLI.
 */
import { normalizeText, parseMidi, parseSeriesCsv, type Series } from '../src/data/index.js';
import { sineSeries, type Piece } from '../src/tasks/index.js';
import airPassengers from '../data/series/AirPassengers.csv';
import co2 from '../data/series/co2.csv';
import lakeHuron from '../data/series/LakeHuron.csv';
import nile from '../data/series/Nile.csv';
import sunspotYear from '../data/series/sunspot.year.csv';
import persuasion from '../data/text/austen-persuasion.txt';
import startWithMiddleC from '../data/music/pianobooster/BeginnerCourse-01-StartWithMiddleC.mid';
import chordOfCMajor from '../data/music/pianobooster/BeginnerCourse-02-ChordOfCMajor.mid';
import upAndDown from '../data/music/pianobooster/BeginnerCourse-03-UpAndDown.mid';
import beginnerClairDeLaLune from '../data/music/pianobooster/BeginnerCourse-04-ClairDeLaLune.mid';
import chordOfFMajor from '../data/music/pianobooster/BeginnerCourse-05-ChordOfFMajor.mid';
import downAndUp from '../data/music/pianobooster/BeginnerCourse-06-DownAndUp.mid';
import clairDeLaLune from '../data/music/pianobooster/BoosterMusic-01-ClairDeLaLune.mid';
import lavendersBlue from '../data/music/pianobooster/BoosterMusic-02-LavendersBlue.mid';
import skipToMyLoo from '../data/music/pianobooster/BoosterMusic-03-SkipToMyLoo.mid';
import frereJacques from '../data/music/pianobooster/BoosterMusic-04-FrereJacques.mid';
import scarboroughFair from '../data/music/pianobooster/BoosterMusic-05-ScarboroughFair.mid';
import greensleeves from '../data/music/pianobooster/BoosterMusic-06-Greensleeves.mid';
import amazingGrace from '../data/music/pianobooster/BoosterMusic-07-AmazingGrace.mid';
import type { HeldData } from './cli-run.js';
import { FETCHED_DATA } from './fetched-data.js';

const SHIPPED: Record<string, string> = {
  AirPassengers: airPassengers,
  co2,
  LakeHuron: lakeHuron,
  Nile: nile,
  'sunspot.year': sunspotYear,
};

const TEXTS: Record<string, string> = { persuasion };
/** The texts by their path under data/, as a CLI run records them: bundled, or fetched when a run needs them. */
const BUNDLED_TEXTS: Record<string, string> = { 'text/austen-persuasion.txt': persuasion };
const fetchedTexts = new Map<string, string>();

/**
 * Every shipped MIDI file the page holds, by its path under data/ (as a CLI run records it): the
 * whole pianobooster folder, so a run of `recurrent train music` on its default data loads.
 */
const MIDI_FILES: Record<string, Uint8Array> = Object.fromEntries(Object.entries({
  'BeginnerCourse-01-StartWithMiddleC.mid': startWithMiddleC,
  'BeginnerCourse-02-ChordOfCMajor.mid': chordOfCMajor,
  'BeginnerCourse-03-UpAndDown.mid': upAndDown,
  'BeginnerCourse-04-ClairDeLaLune.mid': beginnerClairDeLaLune,
  'BeginnerCourse-05-ChordOfFMajor.mid': chordOfFMajor,
  'BeginnerCourse-06-DownAndUp.mid': downAndUp,
  'BoosterMusic-01-ClairDeLaLune.mid': clairDeLaLune,
  'BoosterMusic-02-LavendersBlue.mid': lavendersBlue,
  'BoosterMusic-03-SkipToMyLoo.mid': skipToMyLoo,
  'BoosterMusic-04-FrereJacques.mid': frereJacques,
  'BoosterMusic-05-ScarboroughFair.mid': scarboroughFair,
  'BoosterMusic-06-Greensleeves.mid': greensleeves,
  'BoosterMusic-07-AmazingGrace.mid': amazingGrace,
}).map(([file, bytes]) => [`music/pianobooster/${file}`, bytes]));

/** The page's own music sets: the melodies of the BoosterMusic files. */
const MUSIC: Record<string, string[]> = { pianobooster: Object.keys(MIDI_FILES).filter((path) => path.includes('/BoosterMusic-')) };

export const SERIES_DATASETS: readonly string[] = ['sine', ...Object.keys(SHIPPED)];
export const DATASETS: readonly string[] = [...SERIES_DATASETS, ...Object.keys(TEXTS), ...Object.keys(MUSIC)];

/** What a CLI run may have been trained on for the page to rebuild its data. */
export const HELD_DATA: HeldData = {
  series: SERIES_DATASETS,
  texts: [...Object.keys(BUNDLED_TEXTS), ...FETCHED_DATA.filter((path) => path.startsWith('text/'))],
  textDataset: 'persuasion',
  midiFiles: Object.keys(MIDI_FILES),
  musicDataset: 'pianobooster',
};

/** Fetches the texts of `files` the page does not bundle from beside the page (once each). */
export async function fetchTexts(files: readonly string[]): Promise<void> {
  for (const path of files) {
    if (path in BUNDLED_TEXTS || fetchedTexts.has(path)) continue;
    if (!FETCHED_DATA.includes(path)) throw new Error(`the page does not hold ${path}`);
    const response = await fetch(new URL(`./${path}`, import.meta.url));
    if (!response.ok) throw new Error(`could not fetch ${path} from the page's folder (HTTP ${response.status}); the build copies it there`);
    fetchedTexts.set(path, normalizeText(await response.text()));
  }
}

/** The text a CLI run read: its files one after another, joined by a blank line as the CLI's loadData joins them. */
export function runText(files: readonly string[]): string {
  return files.map((path) => {
    const text = BUNDLED_TEXTS[path] ?? fetchedTexts.get(path);
    if (text === undefined) throw new Error(`the page does not hold ${path} (not fetched)`);
    return text;
  }).join('\n\n');
}

/** Held MIDI files (paths under data/), each the track with the most notes in sixteenths, as the CLI reads them. */
export function midiPieces(files: readonly string[]): Piece[] {
  return files.map((path) => {
    const bytes = MIDI_FILES[path];
    if (!bytes) throw new Error(`the page does not hold ${path}`);
    return parseMidi(bytes, path.slice(path.lastIndexOf('/') + 1), { track: 'most', stepsPerQuarter: 4 });
  });
}

/** The pieces of a music dataset, or undefined. */
export function datasetPieces(name: string): Piece[] | undefined {
  const files = MUSIC[name];
  return files && midiPieces(files);
}

/** The text of a text dataset, or undefined for a series. */
export function datasetText(name: string): string | undefined {
  return TEXTS[name];
}

export function loadDataset(name: string): Series {
  if (name === 'sine') return sineSeries();
  const text = SHIPPED[name];
  if (text === undefined) throw new Error(`dataset must be one of ${DATASETS.join(', ')}, received '${name}'`);
  return parseSeriesCsv(text, `${name}.csv`);
}
