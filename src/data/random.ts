/**
 * A small seeded generator for the data helpers (shuffling windows, noise, synthetic signals).
 * The tensor layer has its own generator for weights and dropout; keeping this one apart means a
 * change in how data is shuffled never changes a model's initial weights.
 *
 * Algorithm: mulberry32 (one 32-bit word of state), with the seed first mixed by a splitmix-style
 * hash so that neighbouring seeds (0, 1, 2, ...) start far apart.
 */

/** Everything needed to resume a DataRng exactly where it stopped (JSON-safe). */
export interface DataRngState {
  state: number;
  /** The second Box-Muller value, kept so normal() is reproducible across a save and restore. */
  spare: number | null;
}

function mixSeed(seed: number): number {
  let z = (seed + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

export class DataRng {
  private state: number;
  private spare: number | null = null;

  constructor(seed = 0) {
    if (!Number.isFinite(seed)) {
      throw new Error(`DataRng: seed must be a finite number, received ${seed}`);
    }
    // Fractions and values beyond 32 bits fold into one 32-bit word; seeds are usually small integers.
    this.state = mixSeed(Math.floor(seed) >>> 0);
  }

  /** The next 32-bit unsigned integer. */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [low, high). */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * (this.nextUint32() / 4294967296);
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) {
      throw new Error(`DataRng.int: n must be a positive integer, received ${n}`);
    }
    return Math.floor(this.uniform() * n);
  }

  /** Gaussian sample (Box-Muller; the second value of each pair is kept for the next call). */
  normal(mean = 0, std = 1): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return mean + std * z;
    }
    // 1 - u keeps the logarithm's argument in (0, 1], so it never returns -Infinity.
    const u = 1 - this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** Shuffles in place (Fisher-Yates) and returns the same array. */
  shuffle<T>(items: T[]): T[];
  shuffle<A extends Int32Array | Uint32Array | Float32Array | Float64Array>(items: A): A;
  shuffle(items: { length: number; [i: number]: unknown }): unknown {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    return this.shuffle(out);
  }

  getState(): DataRngState {
    return { state: this.state, spare: this.spare };
  }

  setState(saved: DataRngState): void {
    if (!Number.isInteger(saved.state) || saved.state < 0 || saved.state > 0xffffffff) {
      throw new Error(`DataRng.setState: state must be a 32-bit unsigned integer, received ${saved.state}`);
    }
    this.state = saved.state;
    this.spare = saved.spare;
  }
}
