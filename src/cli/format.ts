/** How the CLI prints times and numbers for people. */

/**
 * A decimal-year time as a person reads it: "1961-01" for monthly data, "1961-Q1" for quarterly,
 * "1961" for yearly; other times keep at most 4 decimals. Monthly times are stored as year + m/12,
 * so rounding to the nearest month undoes the float error that printed 1961.0001.
 */
export function formatTime(time: number, frequency: number): string {
  if (frequency === 12 || frequency === 4) {
    const index = Math.round(time * frequency);
    const year = Math.floor(index / frequency);
    const part = index - year * frequency;
    return frequency === 12 ? `${year}-${String(part + 1).padStart(2, '0')}` : `${year}-Q${part + 1}`;
  }
  if (frequency === 1 && Math.abs(time - Math.round(time)) < 1e-6) return String(Math.round(time));
  return String(Number(time.toFixed(4)));
}


/**
 * A figure for a progress line or a table: 4 significant digits, and scientific notation outside
 * [0.001, 1e6), so a diverging loss reads 4.483e+12 rather than 4483000000000.
 */
export function formatNumber(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '-';
  if (x === 0) return '0';
  const size = Math.abs(x);
  return size >= 1e6 || size < 1e-3 ? x.toExponential(3) : String(Number(x.toPrecision(4)));
}
