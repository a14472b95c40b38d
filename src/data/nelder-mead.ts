/**
 * Derivative-free minimisation (Nelder & Mead 1965, with the standard coefficients: reflection 1,
 * expansion 2, contraction 1/2, shrink 1/2). Used to fit the few parameters of the statistical
 * baselines, whose objectives are cheap and not smooth enough at their bounds for gradients.
 */

export interface NelderMeadOptions {
  /** Initial simplex edge along each coordinate. */
  steps: ArrayLike<number>;
  maxEvaluations: number;
  /** Stops when the simplex's values differ by less than this relative amount. Default 1e-12. */
  tolerance?: number;
}

export interface NelderMeadResult {
  x: number[];
  value: number;
  evaluations: number;
}

export function minimizeNelderMead(
  f: (x: ArrayLike<number>) => number,
  start: ArrayLike<number>,
  options: NelderMeadOptions,
): NelderMeadResult {
  const n = start.length;
  if (options.steps.length !== n) throw new Error(`minimizeNelderMead: steps has ${options.steps.length} entries; expected ${n}, one per coordinate`);
  const tolerance = options.tolerance ?? 1e-12;
  let evaluations = 0;
  const evaluate = (x: number[]): number => {
    evaluations++;
    return f(x);
  };
  const points: number[][] = [Array.from(start)];
  for (let i = 0; i < n; i++) {
    const p = Array.from(start);
    p[i] = p[i]! + options.steps[i]!;
    points.push(p);
  }
  const values = points.map(evaluate);
  const along = (from: number[], to: number[], t: number): number[] => from.map((v, i) => v + t * (to[i]! - v));

  while (evaluations < options.maxEvaluations) {
    const order = values.map((_, i) => i).sort((a, b) => values[a]! - values[b]!);
    const sortedPoints = order.map((i) => points[i]!);
    const sortedValues = order.map((i) => values[i]!);
    points.splice(0, points.length, ...sortedPoints);
    values.splice(0, values.length, ...sortedValues);
    const lowest = values[0]!;
    const highest = values[n]!;
    if (highest - lowest <= tolerance * (Math.abs(lowest) + Math.abs(highest)) + 1e-300) break;

    const centroid = new Array<number>(n).fill(0);
    for (let k = 0; k < n; k++) for (let i = 0; i < n; i++) centroid[i] = centroid[i]! + points[k]![i]! / n;
    const worst = points[n]!;
    const reflected = along(centroid, worst, -1);
    const reflectedValue = evaluate(reflected);
    if (reflectedValue < lowest) {
      const expanded = along(centroid, worst, -2);
      const expandedValue = evaluate(expanded);
      [points[n], values[n]] = expandedValue < reflectedValue ? [expanded, expandedValue] : [reflected, reflectedValue];
    } else if (reflectedValue < values[n - 1]!) {
      [points[n], values[n]] = [reflected, reflectedValue];
    } else {
      const outside = reflectedValue < highest;
      const contracted = along(centroid, worst, outside ? -0.5 : 0.5);
      const contractedValue = evaluate(contracted);
      if (contractedValue < (outside ? reflectedValue : highest)) {
        [points[n], values[n]] = [contracted, contractedValue];
      } else {
        for (let k = 1; k <= n; k++) {
          points[k] = along(points[0]!, points[k]!, 0.5);
          values[k] = evaluate(points[k]!);
        }
      }
    }
  }
  let best = 0;
  for (let k = 1; k < values.length; k++) if (values[k]! < values[best]!) best = k;
  return { x: points[best]!, value: values[best]!, evaluations };
}
