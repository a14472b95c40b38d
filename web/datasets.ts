/**
 * The data the page offers: the sine, a few of the shipped series, a shipped novel for the text task
 * and shipped melodies for the music task, bundled (the page has no file system) and parsed by the
 * same code as the CLI.
 */
import { parseMidi, parseSeriesCsv, type Series } from '../src/data/index.js';
import { sineSeries, type Piece } from '../src/tasks/index.js';
import airPassengers from '../data/series/AirPassengers.csv';
import co2 from '../data/series/co2.csv';
import lakeHuron from '../data/series/LakeHuron.csv';
import nile from '../data/series/Nile.csv';
import sunspotYear from '../data/series/sunspot.year.csv';
import persuasion from '../data/text/austen-persuasion.txt';
import clairDeLaLune from '../data/music/pianobooster/BoosterMusic-01-ClairDeLaLune.mid';
import lavendersBlue from '../data/music/pianobooster/BoosterMusic-02-LavendersBlue.mid';
import skipToMyLoo from '../data/music/pianobooster/BoosterMusic-03-SkipToMyLoo.mid';
import frereJacques from '../data/music/pianobooster/BoosterMusic-04-FrereJacques.mid';
import scarboroughFair from '../data/music/pianobooster/BoosterMusic-05-ScarboroughFair.mid';
import greensleeves from '../data/music/pianobooster/BoosterMusic-06-Greensleeves.mid';
import amazingGrace from '../data/music/pianobooster/BoosterMusic-07-AmazingGrace.mid';

const SHIPPED: Record<string, string> = {
  AirPassengers: airPassengers,
  co2,
  LakeHuron: lakeHuron,
  Nile: nile,
  'sunspot.year': sunspotYear,
};

const TEXTS: Record<string, string> = { persuasion };

/** Each set's files, named as in data/music/. */
const MUSIC: Record<string, Record<string, Uint8Array>> = {
  pianobooster: {
    'BoosterMusic-01-ClairDeLaLune.mid': clairDeLaLune,
    'BoosterMusic-02-LavendersBlue.mid': lavendersBlue,
    'BoosterMusic-03-SkipToMyLoo.mid': skipToMyLoo,
    'BoosterMusic-04-FrereJacques.mid': frereJacques,
    'BoosterMusic-05-ScarboroughFair.mid': scarboroughFair,
    'BoosterMusic-06-Greensleeves.mid': greensleeves,
    'BoosterMusic-07-AmazingGrace.mid': amazingGrace,
  },
};

export const SERIES_DATASETS: readonly string[] = ['sine', ...Object.keys(SHIPPED)];
export const DATASETS: readonly string[] = [...SERIES_DATASETS, ...Object.keys(TEXTS), ...Object.keys(MUSIC)];

/** The pieces of a music dataset (the melody track of each file, in sixteenths, as the CLI reads them), or undefined. */
export function datasetPieces(name: string): Piece[] | undefined {
  const files = MUSIC[name];
  return files && Object.entries(files).map(([file, bytes]) => parseMidi(bytes, file, { track: 'most', stepsPerQuarter: 4 }));
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
