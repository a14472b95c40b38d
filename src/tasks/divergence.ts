/**
 * The divergence guard: training that has blown up must stop with a reason, not end "successfully"
 * with NaN weights or a loss a thousand times its start. Two signs are watched:
 *   - a NaN or infinite loss or gradient norm (at once: the next optimizer step would poison every
 *     weight and every moment estimate);
 *   - a loss above `factor` times its running level for `patience` steps in a row. The level is an
 *     exponential moving average of the losses of calm steps only, so a blow-up cannot raise the bar
 *     it is measured against; a single noisy batch (one step over the bar) is not a divergence.
 */

export interface DivergenceOptions {
  /** A loss above this many times the running level counts as exploding. Default 10. */
  factor?: number;
  /** Exploding steps in a row that make a divergence. Default 10. */
  patience?: number;
  /** Weight of the newest calm loss in the running level. Default 0.1 (about the last 10 steps). */
  smoothing?: number;
}

/**
 * What a guard has seen, for a run that stops and resumes: its running level (null before the first
 * step) and how many steps in a row have been over the bar. A resumed run judged from a fresh guard
 * would measure an already blown-up loss against itself and pass it.
 */
export interface DivergenceState {
  level: number | null;
  streak: number;
}

export type DivergenceReason = 'non-finite loss' | 'non-finite gradient' | 'exploding loss';

/** Training has diverged at `step`; the message says how, and what to try. */
export class TrainingDivergedError extends Error {
  constructor(
    readonly step: number,
    readonly reason: DivergenceReason,
    /** What was seen: "the loss is NaN", "the loss has stayed above 10 × its running level 0.02 ...". */
    readonly detail: string,
  ) {
    super(`training diverged at step ${step}: ${detail} (lower the learning rate or clip the gradient norm)`);
    this.name = 'TrainingDivergedError';
  }
}

const DEFAULTS = { factor: 10, patience: 10, smoothing: 0.1 };

const short = (x: number): string => String(Number(x.toPrecision(4)));
/** A value read from a file, for a message (JSON would show NaN as null). */
const shown = (v: unknown): string => (typeof v === 'number' ? String(v) : JSON.stringify(v) ?? String(v));

export class DivergenceGuard {
  private readonly factor: number;
  private readonly patience: number;
  private readonly smoothing: number;
  private level = NaN;
  private streak = 0;

  constructor(options: DivergenceOptions = {}) {
    const { factor, patience, smoothing } = { ...DEFAULTS, ...options };
    if (!(factor > 1)) throw new Error(`DivergenceGuard: factor must be a number > 1 (Infinity: watch for NaN and Infinity only), got ${String(factor)}`);
    if (!Number.isSafeInteger(patience) || patience < 1) throw new Error(`DivergenceGuard: patience must be an integer >= 1, got ${String(patience)}`);
    if (!(smoothing > 0 && smoothing <= 1)) throw new Error(`DivergenceGuard: smoothing must be in (0, 1], got ${String(smoothing)}`);
    this.factor = factor;
    this.patience = patience;
    this.smoothing = smoothing;
  }

  /**
   * Throws TrainingDivergedError if the loss or the gradient norm is not finite. Call it before the
   * optimizer step, so a diverged state is never applied to the weights.
   */
  checkFinite(step: number, loss: number, gradNorm: number): void {
    if (!Number.isFinite(loss)) throw new TrainingDivergedError(step, 'non-finite loss', `the loss is ${loss}`);
    if (!Number.isFinite(gradNorm)) throw new TrainingDivergedError(step, 'non-finite gradient', `the gradient norm is ${gradNorm}`);
  }

  /** Records a step's loss; throws TrainingDivergedError once the loss has exploded for `patience` steps. */
  observe(step: number, loss: number, gradNorm: number): void {
    this.checkFinite(step, loss, gradNorm);
    if (Number.isNaN(this.level)) {
      this.level = loss;
      return;
    }
    if (loss > this.factor * this.level) {
      this.streak++;
      if (this.streak >= this.patience) {
        throw new TrainingDivergedError(step, 'exploding loss',
          `the loss (now ${short(loss)}) has stayed above ${this.factor} × its running level ${short(this.level)} for ${this.streak} steps`);
      }
      return;
    }
    this.streak = 0;
    this.level += this.smoothing * (loss - this.level);
  }

  /** A copy of what the guard has seen, to save with a checkpoint. */
  state(): DivergenceState {
    return { level: Number.isNaN(this.level) ? null : this.level, streak: this.streak };
  }

  /** Takes up a saved state (from `state()`, possibly read from a damaged file: checked first). */
  restore(state: DivergenceState): void {
    const s = state as Partial<DivergenceState> | null;
    const level = s?.level;
    const streak = s?.streak;
    if (typeof s !== 'object' || s === null || !(level === null || (typeof level === 'number' && Number.isFinite(level)))) {
      throw new Error(`DivergenceGuard.restore: level must be a finite number or null, got ${shown(level)}`);
    }
    if (!Number.isSafeInteger(streak) || (streak as number) < 0) {
      throw new Error(`DivergenceGuard.restore: streak must be an integer >= 0, got ${shown(streak)}`);
    }
    this.level = level ?? NaN;
    this.streak = streak as number;
  }

  /** True while the loss is over the bar: a state worth keeping is not saved over a good one then. */
  get suspect(): boolean {
    return this.streak > 0;
  }
}
