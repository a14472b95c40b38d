/**
 * Screening a series before training. One wild value (a typo, a sensor fault, 1e30 for "missing")
 * dominates the z-score normalisation and then the loss, and a run trains "successfully" on nonsense.
 * Values are judged by a robust z-score, |x - median| / (1.4826 · MAD): the median and the median
 * absolute deviation do not move when a few values are wild, unlike the mean and the standard
 * deviation, which the wild values themselves inflate. 1.4826 makes the MAD estimate the standard
 * deviation of normal data.
 */
import type { Series } from './series-csv.js';

/**
 * Robust z-scores above this are refused. Normal data almost never passes 5; a trend or a skewed
 * series (monthly sunspots, air passengers) stays under 10; a value off by a factor of 10 or a
 * placeholder such as 1e30 is far above.
 */
export const OUTLIER_LIMIT = 30;

export interface Outlier {
  /** Position in the series. */
  index: number;
  value: number;
  /** Robust z-score; Infinity for a non-finite value. */
  score: number;
}

export interface OutlierReport {
  median: number;
  /** The robust scale: 1.4826 · MAD, or 1.4826 · the median of the non-zero deviations when the MAD is 0. */
  scale: number;
  /** Worst first. */
  outliers: Outlier[];
}

function median(sorted: Float64Array): number {
  const n = sorted.length;
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The values that are not finite or whose robust z-score is above `limit`. */
export function findOutliers(values: ArrayLike<number>, limit = OUTLIER_LIMIT): OutlierReport {
  const outliers: Outlier[] = [];
  // Typed arrays and plain loops: a 1 MB file holds half a million values, screened in well under 1 s.
  const finite = new Float64Array(values.length);
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) finite[count++] = v;
    else outliers.push({ index: i, value: v, score: Infinity });
  }
  if (count === 0) return { median: NaN, scale: NaN, outliers };
  const sorted = finite.subarray(0, count).sort();
  const center = median(sorted);
  const deviations = new Float64Array(count);
  for (let i = 0; i < count; i++) deviations[i] = Math.abs(sorted[i]! - center);
  deviations.sort();
  let scale = 1.4826 * median(deviations);
  // More than half the values equal the median (a series of mostly zeros with events): the MAD is 0,
  // and the values that differ are judged against the typical size of a difference instead.
  if (scale === 0) {
    const nonzero = deviations.filter((d) => d > 0);
    scale = nonzero.length === 0 ? 0 : 1.4826 * median(nonzero);
  }
  if (scale > 0) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) continue;
      const score = Math.abs(v - center) / scale;
      if (score > limit) outliers.push({ index: i, value: v, score });
    }
  }
  outliers.sort((a, b) => b.score - a.score || a.index - b.index);
  return { median: center, scale, outliers };
}

const short = (x: number): string => String(Number(x.toPrecision(4)));

/**
 * Throws when the series holds non-finite values or outliers, naming the file, the line and the
 * value of each (the first five, worst first). `escape` is what the user can do to train anyway.
 */
export function checkSeriesOutliers(series: Series, escape: string, limit = OUTLIER_LIMIT): void {
  const { median: center, scale, outliers } = findOutliers(series.values, limit);
  if (outliers.length === 0) return;
  const at = (o: Outlier): string => {
    const where = series.lines ? `line ${series.lines[o.index]}` : `value ${o.index}`;
    // float32 values shown with the digits float32 has: 1e+30, not 1.0000000150474662e+30.
    return Number.isFinite(o.value) ? `${where}: ${Number(o.value.toPrecision(7))} (robust z-score ${short(o.score)})` : `${where}: ${o.value}`;
  };
  const shown = outliers.slice(0, 5).map(at).join('; ');
  const more = outliers.length > 5 ? `; and ${outliers.length - 5} more` : '';
  throw new Error(
    `checkSeriesOutliers: ${series.source} holds ${outliers.length} value(s) far from the rest (median ${short(center)}, robust scale ${short(scale)}, limit z ${limit}): ` +
      `${shown}${more}. Fix or remove them, or pass ${escape} to train on them as they are`,
  );
}
