/**
 * Training progress in three forms: a progress bar on a terminal, plain log lines when the output is
 * a file or a pipe, and one JSON object per line with --json (nothing else is printed on stdout then).
 */
import cliProgress from 'cli-progress';
import type { StepInfo, ValidationInfo } from '../tasks/index.js';
import { formatNumber } from './format.js';

export interface StartInfo {
  task: string;
  out: string;
  steps: number;
  startStep: number;
  parameters: number;
  /** --time-limit in seconds: the ETA is then the sooner of the two ends. */
  timeLimit?: number;
  /** True when only the time limit ends the run (no step count was given). */
  openEnded?: boolean;
  /** Steps between validations (--val-every). */
  validateEvery?: number;
}

export interface Reporter {
  start(info: StartInfo): void;
  step(info: StepInfo): void;
  validation(info: ValidationInfo): void;
  /** A note for the person at the terminal (never on stdout in JSON mode). */
  note(text: string): void;
  finish(info: { step: number; stopped: boolean; out: string; elapsed: number }): void;
}

export type ReporterKind = 'json' | 'bar' | 'plain';

export function reporterKind(json: boolean): ReporterKind {
  if (json) return 'json';
  return process.stderr.isTTY ? 'bar' : 'plain';
}

/** Four significant digits: a loss of 0.00003 stays readable instead of printing as 0.0000. */
const num = formatNumber;

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function metricsText(metrics: Record<string, number | null>): string {
  return Object.entries(metrics)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k} ${num(v)}`)
    .join(', ');
}

/** Seconds left at the rate of this session, or until the time limit if that comes first. */
function eta(info: StepInfo, start: StartInfo, sessionStart: number): number {
  const done = info.step - start.startStep;
  const spent = (Date.now() - sessionStart) / 1000;
  const bySteps = start.openEnded ? Infinity : done > 0 ? ((start.steps - info.step) * spent) / done : NaN;
  return start.timeLimit === undefined ? bySteps : Math.min(bySteps, Math.max(0, start.timeLimit - spent));
}

const stepText = (step: number, start: StartInfo): string => (start.openEnded ? `step ${step}` : `step ${step}/${start.steps}`);

export function createReporter(kind: ReporterKind): Reporter {
  let begin: StartInfo = { task: '', out: '', steps: 0, startStep: 0, parameters: 0 };
  let sessionStart = Date.now();
  let lastVal: number | null = null;

  if (kind === 'json') {
    const emit = (event: string, data: object): void => {
      process.stdout.write(JSON.stringify({ event, ...data }) + '\n');
    };
    return {
      start(info) {
        begin = info;
        emit('start', info);
      },
      step(info) {
        emit('step', { step: info.step, loss: info.loss, grad_norm: info.gradNorm, lr: info.lr, tokens_per_s: Math.round(info.tokensPerSecond), elapsed: info.elapsed });
      },
      validation(info) {
        emit('validation', { step: info.step, val_loss: info.loss, ...info.metrics, best: info.best, elapsed: info.elapsed });
      },
      note(text) {
        process.stderr.write(text + '\n');
      },
      finish(info) {
        emit('done', info);
      },
    };
  }

  if (kind === 'bar') {
    let bar = new cliProgress.SingleBar(
      {
        format: 'step {value}/{total} {bar} loss {loss} | val {val} | {tps} tok/s | ETA {etaText}',
        barsize: 24,
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    let lastLoss = NaN;
    let lastTps = 0;
    let lastEta = NaN;
    return {
      start(info) {
        begin = info;
        sessionStart = Date.now();
        if (info.openEnded) {
          bar = new cliProgress.SingleBar({ format: 'step {value} | loss {loss} | val {val} | {tps} tok/s | time left {etaText}', hideCursor: true });
        }
        process.stderr.write(`training ${info.task} (${info.parameters} parameters) into ${info.out}\n`);
        bar.start(info.steps, info.startStep, { loss: '-', val: '-', tps: '-', etaText: '-' });
        started = true;
      },
      step(info) {
        lastLoss = info.loss;
        lastTps = info.tokensPerSecond;
        lastEta = eta(info, begin, sessionStart);
        bar.update(info.step, { loss: num(lastLoss), val: num(lastVal), tps: Math.round(lastTps), etaText: duration(lastEta) });
      },
      validation(info) {
        lastVal = info.loss;
        bar.update(info.step, { loss: num(lastLoss), val: num(lastVal), tps: Math.round(lastTps), etaText: duration(lastEta) });
      },
      note(text) {
        if (started) process.stderr.write('\n');
        process.stderr.write(text + '\n');
      },
      finish() {
        if (started) bar.stop();
        started = false;
      },
    };
  }

  let lastLine = 0;
  return {
    start(info) {
      begin = info;
      sessionStart = Date.now();
      lastLine = Date.now();
      const until = info.openEnded ? `for ${duration(info.timeLimit ?? NaN)}` : `to ${info.steps}`;
      const every = info.validateEvery ? `, validating every ${info.validateEvery} steps (--val-every)` : '';
      console.log(`training ${info.task} (${info.parameters} parameters) from step ${info.startStep} ${until} into ${info.out}${every}`);
    },
    step(info) {
      // Validation lines carry the news; between them, a line every 10 seconds shows the run is alive.
      if (Date.now() - lastLine < 10_000) return;
      lastLine = Date.now();
      console.log(`${stepText(info.step, begin)} loss ${num(info.loss)} ${Math.round(info.tokensPerSecond)} tok/s ETA ${duration(eta(info, begin, sessionStart))}`);
    },
    validation(info) {
      lastLine = Date.now();
      console.log(`${stepText(info.step, begin)} val_loss ${num(info.loss)}${info.best ? ' (best)' : ''} ${metricsText(info.metrics)} [${duration(info.elapsed)}]`);
    },
    note(text) {
      process.stderr.write(text + '\n');
    },
    finish() {},
  };
}
