/** `recurrent info --model DIR`: what a run folder holds, without loading any data. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCheckpoint } from '../io/index.js';
import { getBackendInfo } from '../kernels/index.js';
import type { DenoiseSummary, MusicSummary, SeriesSummary, TextSummary } from '../tasks/index.js';
import { resolveRecordPath } from './data.js';
import { userMessage } from './messages.js';
import { duration } from './progress.js';
import { modelConfigOf, modelOf, type RunConfig } from './run-config.js';
import { BEST, HISTORY_FILE, LATEST, openRun, readHistory } from './run-dir.js';

function architecture(config: RunConfig): string {
  const m = modelConfigOf(config);
  const cell = m.cell === 'peephole' ? 'LSTM with peepholes' : m.cell.toUpperCase();
  const input = m.input.kind === 'dense' ? `${m.input.size} input feature(s)` : m.input.embedding > 0 ? `${m.input.classes} classes → embedding ${m.input.embedding}` : `${m.input.classes} classes one-hot`;
  const layers = `${m.numLayers} layer${m.numLayers > 1 ? 's' : ''} × ${m.hiddenSize} hidden${m.bidirectional ? ', bidirectional' : ''}`;
  return `${input} → ${cell} (${layers}${m.dropout > 0 ? `, dropout ${m.dropout}` : ''}) → linear → ${m.outputSize} output(s)`;
}

/** "train [0, s) / validation [s, t) / test [t, n)", the test part only when the run holds one out. */
function splitText(splitIndex: number, testIndex: number | null | undefined, length: number): string {
  const end = testIndex ?? length;
  return `train [0, ${splitIndex}) / validation [${splitIndex}, ${end})${end < length ? ` / test [${end}, ${length})` : ''}`;
}

function dataText(config: RunConfig): string {
  const d = config.data;
  const where = d.synthetic ?? `${resolveRecordPath(d)}${d.shipped ? ' (shipped)' : ''}`;
  const s = config.summary;
  let detail = '';
  switch (config.task) {
    case 'series': {
      const x = s as SeriesSummary;
      detail = `${x.length} values, frequency ${x.frequency}, ${splitText(x.splitIndex, x.testIndex, x.length)}, z-score mean ${x.normalization.mean.toPrecision(6)} std ${x.normalization.std.toPrecision(6)}, target ${x.target}`;
      break;
    }
    case 'text': {
      const x = s as TextSummary;
      detail = `${x.characters} characters, vocabulary of ${x.vocabulary.chars.length}, ${splitText(x.splitIndex, x.testIndex, x.characters)}`;
      break;
    }
    case 'music': {
      const x = s as MusicSummary;
      detail = `${x.pieces.length} piece(s), ${x.totalSteps} steps of 1/${x.stepsPerQuarter * 4} notes, pitches ${x.low}-${x.high}, ${x.encoding} encoding, ${splitText(x.splitIndex, x.testIndex, x.totalSteps)}`;
      break;
    }
    case 'denoise': {
      const x = s as DenoiseSummary;
      detail = `${x.signal} at ${x.snr} dB SNR, ${x.validationSignals} validation signals${x.splitIndex !== null ? `, ${splitText(x.splitIndex, x.testIndex, x.length!)}` : ''}`;
      break;
    }
  }
  return `${where}; ${detail}`;
}

type CheckpointState = { step: number } | { damaged: string } | null;

/** A checkpoint's step, after the checks a load makes (header, checksum, values); null when absent. */
function checkpointState(path: string): CheckpointState {
  if (!existsSync(path)) return null;
  try {
    return { step: decodeCheckpoint(readFileSync(path)).step };
  } catch (e) {
    return { damaged: userMessage(e) };
  }
}

/** Which kernels and GEMM compute float32 here, e.g. "wasm kernels on 2 threads, GEMM: native (OpenBLAS ...)". */
function computeText(): string {
  const b = getBackendInfo();
  const kernels = `${b.backend}${b.relaxedSimd ? ' (relaxed SIMD)' : ''} kernels on ${b.threads} thread${b.threads === 1 ? '' : 's'}`;
  if (b.gemm === 'native') return `${kernels}; large GEMMs (and float64's) on the system BLAS: ${b.blas}`;
  return `${kernels}; GEMM: ${b.gemm}${b.blas ? ` (native BLAS not used: ${b.blas})` : ''}`;
}

function describeCheckpoint(name: string, state: CheckpointState): string {
  if (state === null) return '';
  return 'step' in state ? `${name} (step ${state.step})` : `${name} DAMAGED: ${state.damaged}`;
}

export function infoCommand(flags: { model?: string; json?: boolean }): void {
  if (flags.model === undefined) {
    console.log(flags.json ? JSON.stringify({ compute: getBackendInfo() }) : `${'compute'.padEnd(12)} ${computeText()}`);
    return;
  }
  const { dir, config } = openRun(flags.model, '--model');
  const parameters = modelOf(config).parameterCount();
  const history = readHistory(join(dir, HISTORY_FILE));
  const validated = history.filter((r) => r.valLoss !== null);
  const best = validated.reduce<(typeof validated)[number] | null>((b, r) => (b === null || r.valLoss! < b.valLoss! ? r : b), null);
  const last = history[history.length - 1] ?? null;
  const states = { best: checkpointState(join(dir, BEST)), latest: checkpointState(join(dir, LATEST)) };
  const stepOf = (s: CheckpointState): number | null => (s !== null && 'step' in s ? s.step : null);
  const checkpoints = { best: stepOf(states.best), latest: stepOf(states.latest) };
  const damaged = Object.fromEntries(Object.entries(states).flatMap(([k, s]) => (s !== null && 'damaged' in s ? [[k, s.damaged]] : [])));
  if (flags.json) {
    console.log(JSON.stringify({
      task: config.task, dir, version: config.version, architecture: architecture(config), parameters, model: config.model,
      training: config.training, options: config.options, data: config.data,
      steps_done: last?.step ?? 0, time: last?.time ?? 0, last_loss: last?.loss ?? null,
      best_val_loss: best?.valLoss ?? null, best_step: best?.step ?? null, checkpoints, damaged, compute: getBackendInfo(),
    }));
    return;
  }
  const t = config.training;
  const lines = [
    ['run', `${dir} (format version ${config.version}, created ${config.created})`],
    ['task', config.task],
    ['model', architecture(config)],
    ['parameters', parameters.toLocaleString('en-US')],
    ['data', dataText(config)],
    ['training', `${t.optimizer} lr ${t.lr}, clip ${t.clip || 'off'}, batch ${t.batch}, seq-len ${t.seqLen}, val-split ${t.valSplit}, test-split ${t.testSplit ?? 0}, seed ${t.seed}, ${t.steps} steps planned, validation every ${t.validateEvery}`],
    ['history', last ? `${last.step} steps in ${duration(last.time)}, last loss ${last.loss.toPrecision(4)}${best ? `, best validation loss ${best.valLoss!.toPrecision(4)} at step ${best.step}` : ''}` : 'no steps yet'],
    ['compute', computeText()],
    ['checkpoints', [describeCheckpoint(BEST, states.best), describeCheckpoint(LATEST, states.latest)].filter(Boolean).join(', ') || 'none'],
  ];
  for (const [k, v] of lines) console.log(`${k!.padEnd(12)} ${v}`);
}
