/**
 * Colours. The line palette starts blue, red so that the usual "prediction over target" pair reads as
 * it does everywhere else in the project; the heatmap maps are perceptually ordered.
 */

export const COLORS = {
  blue: '#1f77b4',
  red: '#d62728',
  green: '#2ca02c',
  orange: '#ff7f0e',
  purple: '#9467bd',
  brown: '#8c564b',
  pink: '#e377c2',
  grey: '#7f7f7f',
} as const;

export const PALETTE: readonly string[] = Object.values(COLORS);

/** Red, green and blue, each 0-255. */
export type RGB = [number, number, number];

/** Anchors of the viridis map (dark purple → yellow), evenly spaced; interpolated linearly. */
const VIRIDIS: RGB[] = [
  [68, 1, 84],
  [72, 40, 120],
  [62, 74, 137],
  [49, 104, 142],
  [38, 130, 142],
  [31, 158, 137],
  [53, 183, 121],
  [109, 205, 89],
  [180, 222, 44],
  [253, 231, 37],
];

/** Blue → white → red, for values with a meaningful zero (weights, signed activations). */
const DIVERGING: RGB[] = [
  [33, 102, 172],
  [146, 197, 222],
  [247, 247, 247],
  [244, 165, 130],
  [178, 24, 43],
];

export type ColorMap = 'viridis' | 'diverging';

/** The colour as `#rrggbb`, each channel rounded to the nearest byte. */
export function rgbHex(c: RGB): string {
  return '#' + c.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('');
}

/** Colour of t in [0, 1] (clamped) on the named map, as bytes: what `colorAt` writes as hex. */
export function rgbAt(map: ColorMap, t: number): RGB {
  const anchors = map === 'viridis' ? VIRIDIS : DIVERGING;
  const u = Math.min(1, Math.max(0, t)) * (anchors.length - 1);
  const i = Math.min(anchors.length - 2, Math.floor(u));
  const f = u - i;
  const a = anchors[i]!;
  const b = anchors[i + 1]!;
  return [Math.round(a[0] + (b[0] - a[0]) * f), Math.round(a[1] + (b[1] - a[1]) * f), Math.round(a[2] + (b[2] - a[2]) * f)];
}

/** Colour of t in [0, 1] (clamped) on the named map. */
export function colorAt(map: ColorMap, t: number): string {
  return rgbHex(rgbAt(map, t));
}
