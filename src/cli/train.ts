/**
 * `recurrent train <task>`: builds the recipe from the options (or from a run folder with --resume),
 * runs the shared training loop, and keeps the run folder up to date: history, the latest and the
 * best checkpoint at every validation, plots at the end. Nothing is created before the data has been
 * read and the recipe built, so bad input leaves no folder behind.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { checkSeriesOutliers } from '../data/index.js';
import { encodeCheckpoint } from '../io/index.js';
import { removeStaleTemporaries, writeFileAtomic, type FileLock } from '../io/node.js';
import { DivergenceGuard, train, TrainingDivergedError, type CellType, type OptimizerName, type SeriesPredictions, type SeriesTask, type Task, type TaskName } from '../tasks/index.js';
import { loadData, reloadData, type LoadedData } from './data.js';
import { DEFAULTS, DENOISE_SNR, MUSIC_EMBEDDING, TEXT_EMBEDDING, TEXT_VALIDATION_BATCHES } from './defaults.js';
import { createReporter, duration, reporterKind } from './progress.js';
import { createTask, RUN_FORMAT, RUN_VERSION, type RunConfig } from './run-config.js';
import { BEST, CONFIG_FILE, HISTORY_FILE, HistoryWriter, isLockFile, LATEST, lockRunFolder, openRun, readHistory, restoreTaskCheckpoint, writeJson, type CheckpointExtra } from './run-dir.js';
import { writeTaskOutputs } from './outputs.js';

export interface TrainFlags {
  data?: string;
  cell?: CellType;
  hidden?: number;
  layers?: number;
  dropout?: number;
  seqLen?: number;
  batch?: number;
  steps?: number;
  epochs?: number;
  timeLimit?: number;
  lr?: number;
  optimizer?: OptimizerName;
  clip?: number;
  seed?: number;
  valSplit?: number;
  testSplit?: number;
  valEvery?: number;
  patience?: number;
  out?: string;
  resume?: string;
  force?: boolean;
  json?: boolean;
  embedding?: number;
  encoding?: 'mono' | 'poly';
  windows?: 'stream' | 'pieces';
  track?: number | 'most' | 'merge';
  target?: 'level' | 'delta';
  snr?: number;
  bidirectional?: boolean;
  checkpointEvery?: number;
  column?: string;
  wide?: boolean;
  allowOutliers?: boolean;
}

/** Options that shape the model or its data: fixed once a run exists. */
const FIXED_ON_RESUME: (keyof TrainFlags)[] = [
  'data', 'cell', 'hidden', 'layers', 'dropout', 'seqLen', 'batch', 'lr', 'optimizer', 'clip', 'seed', 'valSplit', 'testSplit',
  'embedding', 'encoding', 'windows', 'track', 'target', 'snr', 'bidirectional', 'checkpointEvery', 'force', 'column', 'wide', 'allowOutliers',
];

const FLAG_NAMES: Partial<Record<keyof TrainFlags, string>> = {
  seqLen: '--seq-len', valSplit: '--val-split', testSplit: '--test-split', valEvery: '--val-every', allowOutliers: '--allow-outliers',
  checkpointEvery: '--checkpoint-every',
};
const flagName = (key: keyof TrainFlags): string => FLAG_NAMES[key] ?? `--${key}`;

export interface TrainOutcome {
  dir: string;
  config: RunConfig;
  step: number;
  stopped: boolean;
  metrics: Record<string, number | null> | null;
  valLoss: number | null;
  /** Seconds of training, over all sessions of the run. */
  elapsed: number;
}

/** runs/<task>, or runs/<task>-2, -3, ... when taken. */
function freshRunDir(task: TaskName): string {
  for (let k = 1; ; k++) {
    const dir = join('runs', k === 1 ? task : `${task}-${k}`);
    if (!existsSync(dir)) return dir;
  }
}

/**
 * Makes `out` ready for a new run and returns its lock. The lock is taken before the folder is
 * looked at, so two processes never both see it free, and a loser never mistakes the winner's
 * files for someone else's; --force empties a folder only once this process holds it.
 */
async function prepareOutDir(out: string, force: boolean, command: string): Promise<FileLock> {
  mkdirSync(out, { recursive: true });
  const lock = lockRunFolder(out, '--out', command);
  try {
    await removeStaleTemporaries(out);
    const entries = readdirSync(out).filter((name) => !isLockFile(name));
    if (entries.length > 0) {
      if (!entries.includes(CONFIG_FILE)) {
        throw new Error(`--out ${out} exists and is not empty, and is not a run folder; choose another --out`);
      }
      if (!force) {
        const saved = entries.includes(LATEST) ? `use --resume ${out} to continue it, ` : 'it stopped before its first checkpoint; ';
        throw new Error(`--out ${out} already holds a run; ${saved}--force to replace it, or another --out`);
      }
      for (const name of entries) rmSync(join(out, name), { recursive: true, force: true });
    }
  } catch (e) {
    lock.release();
    throw e;
  }
  return lock;
}

function freshConfig(taskName: TaskName, flags: TrainFlags): Pick<RunConfig, 'task' | 'model' | 'training' | 'options'> {
  const d = DEFAULTS[taskName];
  const options: RunConfig['options'] = {};
  if (taskName === 'series') options.target = flags.target ?? (flags.data === 'sine' ? 'level' : 'delta');
  if (taskName === 'text') {
    options.embedding = flags.embedding ?? TEXT_EMBEDDING;
    options.validationBatches = TEXT_VALIDATION_BATCHES;
  }
  if (taskName === 'music') {
    options.encoding = flags.encoding ?? 'mono';
    options.embedding = flags.embedding ?? MUSIC_EMBEDDING;
    if (flags.windows !== undefined) options.windows = flags.windows;
  }
  if (taskName === 'denoise') options.snr = flags.snr ?? DENOISE_SNR;
  const misplaced: [keyof TrainFlags, TaskName[]][] = [
    ['target', ['series']], ['embedding', ['text', 'music']], ['encoding', ['music']], ['windows', ['music']], ['track', ['music']], ['snr', ['denoise']],
    ['column', ['series', 'denoise']], ['wide', ['series', 'denoise']],
  ];
  for (const [key, tasks] of misplaced) {
    if (flags[key] !== undefined && !tasks.includes(taskName)) throw new Error(`${flagName(key)} applies to ${tasks.join(' and ')}, not to ${taskName}`);
  }
  if (taskName === 'music' && options.encoding === 'poly' && flags.embedding) {
    throw new Error('--embedding applies to --encoding mono; poly reads piano-roll rows as they are');
  }
  return {
    task: taskName,
    model: {
      cell: flags.cell ?? d.cell,
      hiddenSize: flags.hidden ?? d.hidden,
      numLayers: flags.layers ?? d.layers,
      dropout: flags.dropout ?? 0,
      // Denoising may look both ways: the clean value at t depends on noisy samples after t too.
      bidirectional: flags.bidirectional ?? taskName === 'denoise',
      ...(flags.checkpointEvery !== undefined ? { checkpointEvery: flags.checkpointEvery } : {}),
    },
    training: {
      seed: flags.seed ?? 0,
      optimizer: flags.optimizer ?? 'adam',
      lr: flags.lr ?? d.lr,
      clip: flags.clip ?? d.clip,
      batch: flags.batch ?? d.batch,
      seqLen: flags.seqLen ?? d.seqLen,
      valSplit: flags.valSplit ?? d.valSplit,
      testSplit: flags.testSplit ?? d.testSplit,
      steps: 0,
      validateEvery: 0,
    },
    options,
  };
}

/** With --time-limit alone, the step count is open-ended: the clock ends the run. */
const OPEN_ENDED = 1_000_000_000;

function totalSteps(flags: TrainFlags, task: Task, fallback: number): number {
  if (flags.steps !== undefined && flags.epochs !== undefined) throw new Error('give --steps or --epochs, not both');
  if (flags.steps !== undefined) return flags.steps;
  if (flags.epochs !== undefined) return flags.epochs * task.stepsPerEpoch;
  if (flags.timeLimit !== undefined && flags.resume === undefined) return OPEN_ENDED;
  if (fallback === OPEN_ENDED && flags.timeLimit === undefined) {
    throw new Error('this run was limited by time only; give --steps or --time-limit to resume it');
  }
  return fallback;
}

/** What a diverged run says: where, why, what is left of it, and what to change. */
function divergenceMessage(e: TrainingDivergedError, dir: string, config: RunConfig, best: { step: number | null; loss: number }, lastSaved: number): string {
  const kept = best.step !== null
    ? `the best checkpoint is ${join(dir, BEST)} (step ${best.step}, validation loss ${Number(best.loss.toPrecision(4))})`
    : lastSaved >= 0 ? `the last checkpoint before it is ${join(dir, LATEST)} (step ${lastSaved})` : 'no checkpoint was written';
  const { lr, clip } = config.training;
  const tryClip = clip > 0 ? `a smaller --clip (now ${clip})` : 'a --clip (now off; 1 is a start)';
  return `training diverged at step ${e.step}: ${e.detail}; ${kept}. Try a lower --lr (now ${lr}, e.g. ${Number((lr / 10).toPrecision(3))}) or ${tryClip}, and train again with --force`;
}

export async function trainCommand(taskName: TaskName, flags: TrainFlags): Promise<TrainOutcome> {
  const held: { lock?: FileLock } = {};
  try {
    return await trainHoldingFolder(taskName, flags, held);
  } finally {
    held.lock?.release();
  }
}

/** The command; the run folder's lock, once taken, is put in `held` for the caller to release. */
async function trainHoldingFolder(taskName: TaskName, flags: TrainFlags, held: { lock?: FileLock }): Promise<TrainOutcome> {
  const reporter = createReporter(reporterKind(flags.json ?? false));
  const say = (text: string): void => reporter.note(text);
  let config: RunConfig;
  let data: LoadedData;
  let task: Task;
  let dir: string;
  let startStep = 0;
  let extra: CheckpointExtra | null = null;
  // A resumed run's guard carries on from the checkpoint, so it judges as the uninterrupted run would.
  const guard = new DivergenceGuard();

  if (flags.resume !== undefined) {
    const given = FIXED_ON_RESUME.filter((k) => flags[k] !== undefined);
    if (given.length > 0) {
      throw new Error(`${given.map(flagName).join(', ')} cannot be changed when resuming: the run continues with the options in ${join(flags.resume, CONFIG_FILE)}`);
    }
    if (flags.out !== undefined && flags.out !== flags.resume) throw new Error('--resume continues in its own folder; leave out --out');
    const run = openRun(flags.resume, '--resume', taskName, `train ${taskName}`);
    dir = run.dir;
    held.lock = lockRunFolder(dir, '--resume', `recurrent train ${taskName} --resume ${dir}`);
    // Saves of a run killed mid-write leave their temporary files behind.
    await removeStaleTemporaries(dir);
    config = run.config;
    data = reloadData(taskName, config.data, config.training.seed, dir);
    task = createTask(config, data);
    const latest = join(dir, LATEST);
    if (!existsSync(latest)) {
      throw new Error(`--resume ${dir} holds no ${LATEST} to resume from: the run stopped before its first checkpoint; start it anew with its options (in ${join(dir, CONFIG_FILE)}) and --out ${dir} --force`);
    }
    const restored = await restoreTaskCheckpoint(latest, task);
    startStep = restored.step;
    extra = restored.extra;
    if (extra.divergence !== undefined) {
      try {
        guard.restore(extra.divergence);
      } catch (e) {
        throw new Error(`${latest}: ${(e as Error).message}`, { cause: e });
      }
    }
  } else {
    const fresh = freshConfig(taskName, flags);
    const d = DEFAULTS[taskName];
    data = loadData(taskName, { data: flags.data ?? d.data, shippedDefault: flags.data === undefined && !d.data.startsWith('sine'), seed: fresh.training.seed, track: flags.track, column: flags.column, wide: flags.wide });
    // Screened before anything is built or written: one wild value would pass as a successful run.
    if ((data.task === 'series' || data.task === 'denoise') && data.series && !flags.allowOutliers) checkSeriesOutliers(data.series, '--allow-outliers');
    task = createTask(fresh, data);
    dir = flags.out ?? freshRunDir(taskName);
    config = {
      format: RUN_FORMAT,
      version: RUN_VERSION,
      created: new Date().toISOString(),
      ...fresh,
      data: data.record,
      summary: (task as unknown as { summary: RunConfig['summary'] }).summary,
      parameters: task.model.parameterCount(),
    };
  }
  if (data.task === 'music') for (const s of data.skipped) say(`skipped ${s.file}: ${s.reason}`);

  const steps = totalSteps(flags, task, flags.resume !== undefined ? config.training.steps : DEFAULTS[taskName].steps);
  if (steps < startStep) throw new Error(`--steps ${steps} is before the checkpoint's step ${startStep}; give a larger --steps`);
  const validateEvery =
    flags.valEvery ??
    (flags.resume !== undefined ? config.training.validateEvery : steps === OPEN_ENDED ? 500 : Math.max(1, Math.ceil(steps / 20)));
  // Recorded like the validation interval, so a resumed run stops early (or never) as the first would.
  const patience = flags.patience ?? (flags.resume !== undefined ? config.training.patience : undefined) ?? DEFAULTS[taskName].patience;
  config.training = { ...config.training, steps, validateEvery, patience };

  // Everything that can fail on bad input has run: from here on the run folder is written.
  if (flags.resume === undefined) held.lock = await prepareOutDir(dir, flags.force ?? false, `recurrent train ${taskName} --out ${dir}`);
  await writeJson(join(dir, CONFIG_FILE), config);
  const history = new HistoryWriter(join(dir, HISTORY_FILE));
  await history.start(flags.resume !== undefined ? startStep : null);

  let bestLoss = extra?.bestLoss ?? Infinity;
  let bestStep = extra?.bestStep ?? null;
  // A resumed run's checkpoint is in the folder already: the last good state if it diverges at once.
  let lastSaved = flags.resume !== undefined ? startStep : -1;
  let stopRequested = false;
  // Series runs keep the validation predictions at a few moments, early ones included: the first
  // steps are where the prediction visibly learns to follow the target.
  const snapshots: { step: number; predictions: SeriesPredictions }[] = [];
  const snapshotSteps = new Set([0, Math.round(steps * 0.05), Math.round(steps * 0.2), steps]);
  const snapshot = (step: number): void => {
    if (task.name === 'series' && snapshotSteps.has(step) && !snapshots.some((s) => s.step === step)) {
      snapshots.push({ step, predictions: (task as SeriesTask).validationPredictions() });
    }
  };
  if (startStep === 0) snapshot(0);

  const save = async (step: number, elapsed: number, best: boolean): Promise<void> => {
    history.flush();
    const bytes = encodeCheckpoint({
      model: task.model, optimizer: task.optimizer, generator: task.generator, step,
      extra: { task: task.saveState(), elapsed, bestLoss: Number.isFinite(bestLoss) ? bestLoss : null, bestStep, divergence: guard.state() } satisfies CheckpointExtra,
    });
    await writeFileAtomic(join(dir, LATEST), bytes);
    if (best) await writeFileAtomic(join(dir, BEST), bytes);
    lastSaved = step;
  };

  const onSignal = (): void => {
    if (stopRequested) process.exit(130);
    stopRequested = true;
    say('stopping after this step and saving (Ctrl-C again quits at once; checkpoints are never half-written)');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  reporter.start({
    task: taskName, out: dir, steps, startStep, parameters: task.model.parameterCount(),
    timeLimit: flags.timeLimit === undefined ? undefined : flags.timeLimit * 60, openEnded: steps === OPEN_ENDED, validateEvery,
  });
  // Validation pauses training; when it takes a large share of the time the user should hear of it once.
  const validationCost = { lastStepAt: 0, lastValidationAt: Date.now(), told: false };
  let result;
  try {
    result = await train(task, {
      steps,
      startStep,
      startElapsed: extra?.elapsed ?? 0,
      bestLoss,
      bestStep,
      patience,
      guard,
      clip: config.training.clip,
      validateEvery,
      shouldStop: () => stopRequested,
      maxSeconds: flags.timeLimit === undefined ? undefined : flags.timeLimit * 60,
      onStep: async (info) => {
        validationCost.lastStepAt = Date.now();
        history.add({ step: info.step, loss: info.loss, valLoss: null, lr: info.lr, time: info.elapsed });
        snapshot(info.step);
        reporter.step(info);
        // A run always has a checkpoint, even one that diverges before its first validation.
        if (lastSaved < 0 && info.step === 1) await save(info.step, info.elapsed, false);
      },
      onValidate: async (info) => {
        const now = Date.now();
        const share = (now - validationCost.lastStepAt) / Math.max(1, now - validationCost.lastValidationAt);
        validationCost.lastValidationAt = now;
        const seconds = (now - validationCost.lastStepAt) / 1000;
        if (!validationCost.told && share > 0.3 && seconds >= 0.5 && info.step < steps) {
          validationCost.told = true;
          say(`validation takes ${Math.round(share * 100)}% of the training time (${seconds.toFixed(1)} s each); a larger --val-every or a smaller --val-split makes it cheaper`);
        }
        if (info.best) {
          bestLoss = info.loss;
          bestStep = info.step;
        }
        history.setValidation(info.step, info.loss);
        // While the loss may be blowing up, the last good checkpoint is kept rather than replaced.
        if (!info.suspect) await save(info.step, info.elapsed, info.best);
        reporter.validation(info);
      },
    });
    if (result.step !== lastSaved) await save(result.step, result.elapsed, false);
  } catch (e) {
    if (e instanceof TrainingDivergedError) throw new Error(divergenceMessage(e, dir, config, { step: bestStep, loss: bestLoss }, lastSaved), { cause: e });
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    history.flush();
    reporter.finish({ step: result?.step ?? startStep, stopped: result?.stopped ?? true, out: dir, elapsed: result?.elapsed ?? 0 });
  }

  const written = await writeTaskOutputs(task, config, dir, readHistory(join(dir, HISTORY_FILE)), snapshots);
  const last = result.lastValidation;
  if (!flags.json) {
    const lines = [
      result.stopped
        ? `stopped at step ${result.step}${steps === OPEN_ENDED ? '' : ` of ${steps}`}; continue with: recurrent train ${taskName} --resume ${dir}`
        : `trained ${result.step} steps in ${duration(result.elapsed)}${result.timeUp ? ' (--time-limit reached)' : ''}` +
          (result.earlyStopped ? ` (stopped early: ${patience} validations in a row without a new best; --patience 0 trains to the end)` : ''),
      bestStep !== null ? `best validation loss ${Number(bestLoss.toPrecision(4))} at step ${bestStep}` : '',
      last ? `last validation: ${Object.entries(last.metrics).filter(([, v]) => v !== null).map(([k, v]) => `${k} ${Number((v as number).toPrecision(4))}`).join(', ')}` : '',
      `run folder: ${dir}`,
      ...written.map((f) => `  ${f}`),
    ];
    console.log(lines.filter((l) => l !== '').join('\n'));
  }
  return { dir, config, step: result.step, stopped: result.stopped, metrics: last?.metrics ?? null, valLoss: last?.loss ?? null, elapsed: result.elapsed };
}
