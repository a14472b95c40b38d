/**
 * Axis scales and tick positions: "nice" linear ticks at 1, 2 or 5 times a power of ten, and
 * decade ticks for log axes.
 */

export interface Scale {
  (value: number): number;
  domain: [number, number];
  log: boolean;
  ticks: number[];
}

/** Ticks covering [min, max] at a step of 1, 2 or 5 × 10^k, about `count` of them. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  const first = Math.ceil(min / step - 1e-9);
  const last = Math.floor(max / step + 1e-9);
  // The length cap guarantees an end even where float steps stop moving (a range of 1e15 ± 0.1).
  for (let i = first; i <= last && ticks.length < 50; i++) {
    // Snap away float residue (0.30000000000000004) so labels stay short.
    ticks.push(Number((i * step).toPrecision(12)));
  }
  return ticks.length > 0 ? ticks : [min, max];
}

/** Widens a degenerate or empty range so a flat or single-point series still gets an axis. */
export function padDomain(min: number, max: number, log: boolean): [number, number] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return log ? [1, 10] : [0, 1];
  if (max > min) return [min, max];
  if (log) return [min / 10 ** 0.5, min * 10 ** 0.5];
  const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
  return [min - pad, max + pad];
}

/** Linear (or log10) map from the domain onto [start, end] pixels, with its ticks. */
export function makeScale(domain: [number, number], start: number, end: number, log = false, tickCount = 5): Scale {
  const [d0, d1] = log ? [Math.log10(domain[0]), Math.log10(domain[1])] : domain;
  let ticks: number[];
  let lo = d0;
  let hi = d1;
  if (log) {
    lo = Math.floor(d0);
    hi = Math.ceil(d1);
    ticks = [];
    for (let k = lo; k <= hi; k++) ticks.push(10 ** k);
    // Few decades: add 2× and 5× ticks so the axis still has something to read.
    if (ticks.length < 3) ticks = ticks.flatMap((t) => [t, 2 * t, 5 * t]).filter((t) => t <= 10 ** hi);
  } else {
    ticks = niceTicks(d0, d1, tickCount);
    // Extend the domain to the outer ticks so lines never touch the frame.
    const step = ticks.length > 1 ? ticks[1]! - ticks[0]! : 0;
    if (step > 0) {
      if (ticks[0]! > lo) ticks.unshift(ticks[0]! - step);
      if (ticks[ticks.length - 1]! < hi) ticks.push(ticks[ticks.length - 1]! + step);
      lo = ticks[0]!;
      hi = ticks[ticks.length - 1]!;
    }
  }
  const span = hi - lo || 1;
  const scale = ((value: number) => start + (((log ? Math.log10(value) : value) - lo) / span) * (end - start)) as Scale;
  scale.domain = log ? [10 ** lo, 10 ** hi] : [lo, hi];
  scale.log = log;
  scale.ticks = ticks;
  return scale;
}

/** Short tick labels: 1200 → "1200", 0.00012 → "1.2e-4", 2500000 → "2.5e+6". */
export function formatTick(value: number, step?: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1e6 || abs < 1e-3) {
    const [mantissa, exponent] = value.toExponential(2).split('e');
    return `${Number(mantissa)}e${exponent}`;
  }
  // With the tick step known, show as many decimals as the step needs, so neighbouring ticks never
  // print the same label (1959.5 and 1960 with a step of 0.5, not 1960 twice).
  if (step !== undefined && step > 0 && Number.isFinite(step)) {
    const decimals = Math.max(0, Math.min(10, -Math.floor(Math.log10(step) + 1e-9)));
    return String(Number(value.toFixed(decimals)));
  }
  return String(Number(value.toPrecision(4)));
}
