/** Options shared by the experiments: defaults under the caller's values, and integer checks. */

/** The defaults, overridden by every option the caller set (an option given as undefined keeps its default). */
export function withDefaults<D extends object>(defaults: D, options: object): D {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  return { ...defaults, ...given } as D;
}

export function checkInteger(where: string, name: string, value: number, min = 1): void {
  if (!Number.isInteger(value) || value < min) throw new Error(`${where}: ${name} must be an integer >= ${min}, got ${value}`);
}
