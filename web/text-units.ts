/**
 * LSTMVis-style unit search (Strobelt et al. 2017) over the hidden activations of a text: a unit
 * matches a selected span when it is on (above a threshold) inside the span and off just outside it;
 * the units that match best then find other places where they fire together the same way. Pure
 * functions over an activation matrix, so the worker runs them and Node tests them.
 */

/** Hidden activations while reading a text: `values[unit * steps + t]`. */
export interface Activations {
  values: ArrayLike<number>;
  units: number;
  steps: number;
}

/** Characters [from, to) of the text. */
export interface Span {
  from: number;
  to: number;
}

export interface UnitMatch {
  unit: number;
  /** inside × outside: 1 for a unit on throughout the span and off throughout its surroundings. */
  score: number;
  /** Share of the span's characters where the unit is on. */
  inside: number;
  /** Share of the surrounding characters (as many as the span has, each side) where it is off. */
  outside: number;
}

export interface Place extends Span {
  /** How many of the searched units are on throughout this place. */
  unitsOn: number;
}

function checkSpan(span: Span, steps: number): void {
  if (!Number.isInteger(span.from) || !Number.isInteger(span.to) || span.from < 0 || span.to > steps || span.to <= span.from) {
    throw new Error(`span must be characters [from, to) with 0 <= from < to <= ${steps}, received [${span.from}, ${span.to})`);
  }
}

function checkThreshold(threshold: number): void {
  if (!Number.isFinite(threshold)) throw new Error(`threshold must be a finite number, received ${threshold}`);
}

/** The units ranked by how well their on/off pattern matches the span (best first; units that never match are left out). */
export function rankUnits(activations: Activations, span: Span, threshold: number, limit = 10): UnitMatch[] {
  const { values, units, steps } = activations;
  checkSpan(span, steps);
  checkThreshold(threshold);
  const pad = span.to - span.from;
  const before = Math.max(0, span.from - pad);
  const after = Math.min(steps, span.to + pad);
  const ranked: (UnitMatch & { margin: number })[] = [];
  for (let unit = 0; unit < units; unit++) {
    const row = unit * steps;
    let on = 0, insideSum = 0;
    for (let t = span.from; t < span.to; t++) {
      const v = values[row + t]!;
      insideSum += v;
      if (v > threshold) on++;
    }
    let off = 0, outsideSum = 0;
    const outsideCount = span.from - before + (after - span.to);
    for (const [a, b] of [[before, span.from], [span.to, after]] as const) {
      for (let t = a; t < b; t++) {
        const v = values[row + t]!;
        outsideSum += v;
        if (v <= threshold) off++;
      }
    }
    const inside = on / pad;
    const outside = outsideCount > 0 ? off / outsideCount : 1;
    const margin = insideSum / pad - (outsideCount > 0 ? outsideSum / outsideCount : 0);
    if (inside * outside > 0) ranked.push({ unit, score: inside * outside, inside, outside, margin });
  }
  // Ties (common: small spans give few distinct shares) go to the unit whose inside stands out more.
  ranked.sort((a, b) => b.score - a.score || b.margin - a.margin || a.unit - b.unit);
  return ranked.slice(0, limit).map(({ unit, score, inside, outside }) => ({ unit, score, inside, outside }));
}

export interface FindOptions {
  /** How many of the units must be on at once (default: all of them). */
  minOn?: number;
  /** The selected span itself, left out of the places found. */
  exclude?: Span;
  limit?: number;
}

/**
 * Places where at least `minOn` of `units` are on together, for a stretch between half and twice the
 * span's length: maximal runs, the closest in length to the span first.
 */
export function findPlaces(activations: Activations, units: readonly number[], threshold: number, length: number, options: FindOptions = {}): Place[] {
  const { values, steps } = activations;
  checkThreshold(threshold);
  if (units.length === 0) return [];
  for (const unit of units) {
    if (!Number.isInteger(unit) || unit < 0 || unit >= activations.units) throw new Error(`unit must be an integer in [0, ${activations.units}), received ${unit}`);
  }
  const minOn = options.minOn ?? units.length;
  const onCount = new Int32Array(steps);
  for (const unit of units) for (let t = 0; t < steps; t++) if (values[unit * steps + t]! > threshold) onCount[t]!++;
  const places: Place[] = [];
  const shortest = Math.max(1, Math.ceil(length / 2));
  const longest = 2 * length;
  const exclude = options.exclude;
  for (let t = 0; t < steps; ) {
    if (onCount[t]! < minOn) {
      t++;
      continue;
    }
    const from = t;
    let unitsOn = units.length;
    while (t < steps && onCount[t]! >= minOn) unitsOn = Math.min(unitsOn, onCount[t++]!);
    const overlaps = exclude !== undefined && from < exclude.to && t > exclude.from;
    if (t - from >= shortest && t - from <= longest && !overlaps) places.push({ from, to: t, unitsOn });
  }
  places.sort((a, b) => Math.abs(a.to - a.from - length) - Math.abs(b.to - b.from - length) || b.unitsOn - a.unitsOn || a.from - b.from);
  return places.slice(0, options.limit ?? 10);
}
