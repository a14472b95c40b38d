/**
 * Z-score normalisation. It is fitted on the training part only, so the validation part is scaled
 * with statistics the model could have known, and it is saved beside the weights (toJSON) because a
 * model trained on scaled data predicts scaled values that must be inverted with the same numbers.
 */

export interface ZScoreJSON {
  type: 'zscore';
  mean: number;
  std: number;
}

export class ZScore {
  constructor(
    readonly mean: number,
    readonly std: number,
  ) {
    if (!Number.isFinite(mean) || !Number.isFinite(std) || std <= 0) {
      throw new Error(`ZScore: expected a finite mean and a positive finite std, received mean=${mean}, std=${std}`);
    }
  }

  /** Mean and (population) standard deviation of the values; a constant series gets std 1. */
  static fit(values: ArrayLike<number>): ZScore {
    const n = values.length;
    if (n === 0) throw new Error('ZScore.fit: expected at least 1 value, received 0');
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) throw new Error(`ZScore.fit: value at index ${i} is ${v}; expected finite numbers`);
      sum += v;
    }
    const mean = sum / n;
    let squares = 0;
    for (let i = 0; i < n; i++) squares += (values[i]! - mean) ** 2;
    const std = Math.sqrt(squares / n);
    // Dividing by a zero spread would turn every value into NaN; a constant stays constant instead.
    const tiny = 1e-12 * Math.max(1, Math.abs(mean));
    return new ZScore(mean, std > tiny ? std : 1);
  }

  static fromJSON(json: unknown): ZScore {
    const j = json as Partial<ZScoreJSON> | null;
    if (j === null || typeof j !== 'object' || j.type !== 'zscore' || typeof j.mean !== 'number' || typeof j.std !== 'number') {
      throw new Error(`ZScore.fromJSON: expected {"type":"zscore","mean":number,"std":number}, received ${JSON.stringify(json)}`);
    }
    return new ZScore(j.mean, j.std);
  }

  toJSON(): ZScoreJSON {
    return { type: 'zscore', mean: this.mean, std: this.std };
  }

  applyValue(x: number): number {
    return (x - this.mean) / this.std;
  }

  invertValue(z: number): number {
    return z * this.std + this.mean;
  }

  /** A new array of scaled values. */
  apply(values: ArrayLike<number>): Float32Array {
    const out = new Float32Array(values.length);
    for (let i = 0; i < out.length; i++) out[i] = (values[i]! - this.mean) / this.std;
    return out;
  }

  /** A new array back in the original units. */
  invert(values: ArrayLike<number>): Float32Array {
    const out = new Float32Array(values.length);
    for (let i = 0; i < out.length; i++) out[i] = values[i]! * this.std + this.mean;
    return out;
  }
}
