/**
 * Checks of option objects shared by every constructor that takes one (creation functions here,
 * modules, optimizers, schedulers): a misspelled key is an error that names the key and the valid
 * one it is closest to, never an option silently ignored.
 */

/** Edit distance between two strings (insertions, deletions, substitutions). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** Case and separators do not count: `weight_decay` is one step from nothing but `weightDecay`. */
const normalise = (key: string): string => key.toLowerCase().replace(/[_-]/g, '');

/** The known name closest to `key`, if one is close enough to be what was meant. */
export function closestName(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of known) {
    const d = editDistance(normalise(key), normalise(name));
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** Throws `where: unknown option 'dropuot'; did you mean 'dropout'?` for the first key not in `known`. */
export function checkOptionKeys(where: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const guess = closestName(key, known);
    const hint = guess === undefined ? '' : `; did you mean '${guess}'?`;
    throw new Error(`${where}: unknown option '${key}'${hint} (known options: ${known.join(', ')})`);
  }
}

/** Checks that `options` is an object (or undefined) with known keys only, and returns it. */
export function knownOptions<T extends object>(where: string, options: T | undefined, known: readonly (keyof T & string)[]): T {
  if (options === undefined) return {} as T;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new Error(`${where}: options must be an object like { ${known.slice(0, 2).join(', ')} }, got ${Array.isArray(options) ? 'an array' : String(options)}`);
  }
  checkOptionKeys(where, options, known);
  return options;
}
