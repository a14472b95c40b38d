/**
 * The one training loop of every task, with callbacks instead of I/O: the CLI draws progress bars and
 * writes checkpoints from them, the playground posts messages from a Web Worker. The loop gives the
 * event loop a turn every few tens of milliseconds, so a Ctrl-C handler or a "stop" message can set
 * the flag `shouldStop` reads.
 */
import { clipGradNorm } from '../optim/index.js';
import { checkInteger } from './checks.js';
import { DivergenceGuard, type DivergenceOptions } from './divergence.js';
import type { Evaluation, Task } from './task.js';

export interface StepInfo {
  step: number;
  loss: number;
  /** Total gradient norm before clipping. */
  gradNorm: number;
  lr: number;
  /** Seconds of training so far (including earlier sessions of a resumed run). */
  elapsed: number;
  /** Training time steps per second over this session. */
  tokensPerSecond: number;
}

export interface ValidationInfo extends Evaluation {
  step: number;
  elapsed: number;
  /** True when this is the lowest validation loss so far. */
  best: boolean;
  /**
   * True when the training loss is over the divergence guard's bar: the run may be blowing up, so a
   * caller keeping "the last good state" should not save over it now.
   */
  suspect: boolean;
}

export interface TrainLoopOptions {
  /** The step to stop at (the total, counting steps already taken). */
  steps: number;
  /** Steps already taken (a resumed run). Default 0. */
  startStep?: number;
  /** Seconds already spent in earlier sessions. Default 0. */
  startElapsed?: number;
  /** Best validation loss of earlier sessions. */
  bestLoss?: number;
  /** Maximum total gradient norm; 0 or undefined: no clipping. */
  clip?: number;
  /** Evaluate every this many steps (and always at the last step). 0: only at the end. */
  validateEvery?: number;
  onStep?: (info: StepInfo) => void | Promise<void>;
  onValidate?: (info: ValidationInfo) => void | Promise<void>;
  /** Checked after every step; true ends the loop early (the caller then saves). */
  shouldStop?: () => boolean;
  /** Ends the loop, after a last validation, once this session has trained this many seconds. */
  maxSeconds?: number;
  /**
   * The divergence guard (see divergence.ts): a NaN or infinite loss or gradient norm, or a loss
   * far above its running level for several steps, ends the loop with a TrainingDivergedError before
   * the diverged state reaches the weights or a callback. `false` turns it off (non-finite values
   * still throw: no step is taken from them). Default: on, with the guard's defaults.
   */
  divergence?: DivergenceOptions | false;
  /**
   * The guard to use instead of a new one (then `divergence` is not given): a resumed run passes one
   * restored from its checkpoint (`guard.restore(saved)`), and reads `guard.state()` when it saves.
   */
  guard?: DivergenceGuard;
  /** Longest stretch without yielding to the event loop, in milliseconds. Default 50. */
  yieldEveryMs?: number;
  /**
   * Early stopping: end the loop once this many validations in a row brought no new best (0 or
   * undefined: never). Judged from the step of the best validation, so a resumed run stops where an
   * uninterrupted one would.
   */
  patience?: number;
  /** Step of the best validation of earlier sessions (for patience). */
  bestStep?: number | null;
}

export interface TrainResult {
  step: number;
  elapsed: number;
  bestLoss: number;
  /** True when shouldStop ended the loop before `steps`. */
  stopped: boolean;
  /** True when maxSeconds ended the loop before `steps`. */
  timeUp: boolean;
  /** True when patience ended the loop before `steps`. */
  earlyStopped?: boolean;
  lastValidation: ValidationInfo | null;
}

const now = (): number => (typeof performance === 'object' ? performance.now() : Date.now());

/** A macrotask turn: lets signal handlers and worker messages run between steps. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

/**
 * One optimisation step on the task's next batch; returns the loss and the gradient norm. A NaN or
 * infinite loss or gradient norm throws TrainingDivergedError before the optimizer steps, so the
 * weights and the optimizer state stay as they were; `guard` (when given) also judges the loss's
 * level. `step` is the number this step gets, for the message.
 */
export function trainStep(task: Task, clip = 0, guard: DivergenceGuard = new DivergenceGuard(), step = 0): { loss: number; gradNorm: number } {
  const loss = task.trainLoss();
  task.optimizer.zeroGrad();
  loss.backward();
  const value = loss.item();
  const params = task.model.parameters();
  // With clipping off the norm is still measured (max norm Infinity scales nothing): it is a useful gauge.
  const gradNorm = clipGradNorm(params, clip > 0 ? clip : Infinity);
  guard.checkFinite(step, value, gradNorm);
  task.optimizer.step();
  guard.observe(step, value, gradNorm);
  return { loss: value, gradNorm };
}

export async function train(task: Task, options: TrainLoopOptions): Promise<TrainResult> {
  const startStep = options.startStep ?? 0;
  checkInteger('steps', options.steps, startStep);
  const validateEvery = options.validateEvery ?? 0;
  checkInteger('validate-every', validateEvery, 0);
  const yieldEvery = options.yieldEveryMs ?? 50;
  const sessionStart = now();
  const startElapsed = options.startElapsed ?? 0;
  const elapsed = (): number => startElapsed + (now() - sessionStart) / 1000;
  let bestLoss = options.bestLoss ?? Infinity;
  // Assigned inside validate(); the cast keeps TypeScript from narrowing it to null for good.
  let lastValidation = null as ValidationInfo | null;
  let lastYield = now();
  let step = startStep;
  if (options.guard !== undefined && !(options.guard instanceof DivergenceGuard)) throw new Error(`train: guard must be a DivergenceGuard, got ${String(options.guard)}`);
  if (options.guard !== undefined && options.divergence !== undefined) throw new Error('train: give divergence options or a guard, not both');
  const guard = options.guard ?? new DivergenceGuard(options.divergence === false ? { factor: Infinity } : options.divergence);
  const patience = options.patience ?? 0;
  checkInteger('patience', patience, 0);
  let bestStep = options.bestStep ?? startStep;

  const validate = async (): Promise<void> => {
    const evaluation = task.evaluate();
    const suspect = guard.suspect;
    const best = evaluation.loss < bestLoss && !suspect;
    if (best) {
      bestLoss = evaluation.loss;
      bestStep = step;
    }
    lastValidation = { ...evaluation, step, elapsed: elapsed(), best, suspect };
    await options.onValidate?.(lastValidation);
  };

  while (step < options.steps) {
    const { loss, gradNorm } = trainStep(task, options.clip, guard, step + 1);
    step++;
    const seconds = (now() - sessionStart) / 1000;
    await options.onStep?.({
      step,
      loss,
      gradNorm,
      lr: task.optimizer.paramGroups[0]?.lr ?? NaN,
      elapsed: elapsed(),
      tokensPerSecond: seconds > 0 ? ((step - startStep) * task.tokensPerStep) / seconds : 0,
    });
    if ((validateEvery > 0 && step % validateEvery === 0) || step === options.steps) {
      await validate();
      // A loss blowing up is the divergence guard's to judge: stopping "early" would hide it.
      if (patience > 0 && validateEvery > 0 && step - bestStep >= patience * validateEvery && step < options.steps && !guard.suspect) {
        return { step, elapsed: elapsed(), bestLoss, stopped: false, timeUp: false, earlyStopped: true, lastValidation };
      }
    }
    if (now() - lastYield > yieldEvery) {
      await yieldToEventLoop();
      lastYield = now();
    }
    if (options.shouldStop?.() && step < options.steps) {
      return { step, elapsed: elapsed(), bestLoss, stopped: true, timeUp: false, lastValidation };
    }
    if (options.maxSeconds !== undefined && (now() - sessionStart) / 1000 >= options.maxSeconds && step < options.steps) {
      if (lastValidation?.step !== step) await validate();
      return { step, elapsed: elapsed(), bestLoss, stopped: false, timeUp: true, lastValidation };
    }
  }
  return { step, elapsed: elapsed(), bestLoss, stopped: false, timeUp: false, lastValidation };
}
