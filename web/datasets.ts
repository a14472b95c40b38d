/**
 * The series the page offers: the sine, and a few of the shipped datasets, bundled as text (the page
 * has no file system) and parsed by the same code as the CLI.
 */
import { parseSeriesCsv, type Series } from '../src/data/index.js';
import { sineSeries } from '../src/tasks/index.js';
import airPassengers from '../data/series/AirPassengers.csv';
import co2 from '../data/series/co2.csv';
import lakeHuron from '../data/series/LakeHuron.csv';
import nile from '../data/series/Nile.csv';
import sunspotYear from '../data/series/sunspot.year.csv';

const SHIPPED: Record<string, string> = {
  AirPassengers: airPassengers,
  co2,
  LakeHuron: lakeHuron,
  Nile: nile,
  'sunspot.year': sunspotYear,
};

export const DATASETS: readonly string[] = ['sine', ...Object.keys(SHIPPED)];

export function loadDataset(name: string): Series {
  if (name === 'sine') return sineSeries();
  const text = SHIPPED[name];
  if (text === undefined) throw new Error(`dataset must be one of ${DATASETS.join(', ')}, received '${name}'`);
  return parseSeriesCsv(text, `${name}.csv`);
}
