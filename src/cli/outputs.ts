/**
 * What a finished (or stopped) training session leaves besides checkpoints: the loss curve and the
 * task's own pictures and samples, drawn with the best checkpoint's weights.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/node.js';
import { writeMidi } from '../data/index.js';
import { generateText, textActivations, type DenoiseTask, type MusicTask, type SeriesPredictions, type SeriesTask, type Task, type TextTask } from '../tasks/index.js';
import { activationPlot, denoisePlot, lossPlot, pickEvenly, predictionPlot, rollPlot, trainingProgressPlot } from './plots.js';
import type { RunConfig } from './run-config.js';
import { BEST, loadWeights, writeText, type HistoryRow } from './run-dir.js';

/** A prime every corpus can start from: a new line if the text has one, else its first character. */
export function defaultPrime(chars: readonly string[]): string {
  return chars.includes('\n') ? '\n' : chars[0]!;
}

export async function writeTaskOutputs(
  task: Task,
  config: RunConfig,
  dir: string,
  history: readonly HistoryRow[],
  snapshots: readonly { step: number; predictions: SeriesPredictions }[],
): Promise<string[]> {
  const written: string[] = [];
  const put = async (name: string, content: string | Uint8Array): Promise<void> => {
    const path = join(dir, name);
    if (typeof content === 'string') await writeText(path, content);
    else await writeFileAtomic(path, content);
    written.push(path);
  };
  const logScale = task.name === 'series' || task.name === 'denoise';
  if (history.length > 0) await put('loss.svg', lossPlot(history, `${task.name}: training and validation loss`, logScale));
  if (existsSync(join(dir, BEST))) await loadWeights(join(dir, BEST), task.model);

  switch (task.name) {
    case 'series': {
      const t = task as SeriesTask;
      // The file's name says more than its value column's header ("value" in the shipped files).
      const file = config.data.path?.split('/').pop()?.replace(/\.csv$/i, '');
      const name = config.data.synthetic === 'sine' ? 'sine wave' : (file ?? t.data.name);
      await put('prediction.svg', predictionPlot(t.validationPredictions(), `${name}: one-step-ahead prediction (blue) and target (red), ${t.hasValidation ? 'validation part' : 'training data'}`));
      if (snapshots.length >= 2) await put('training-progress.svg', trainingProgressPlot(pickEvenly(snapshots, 4), name));
      break;
    }
    case 'text': {
      const t = task as TextTask;
      const sample = generateText(t.model, t.vocabulary, { prime: defaultPrime(t.vocabulary.chars), length: 600, temperature: 0.8, topK: 0, seed: config.training.seed });
      await put('sample.txt', sample + '\n');
      const a = textActivations(t.model, t.vocabulary, t.snippet(48));
      await put('activations.svg', activationPlot(a.values, a.units, a.chars));
      break;
    }
    case 'music': {
      const t = task as MusicTask;
      const first = t.pieces[0]!;
      const spq = t.summary.stepsPerQuarter;
      await put('example.svg', rollPlot(first.notes, `training example: ${first.source.split(/[\\/]/).pop()}`, spq));
      const piece = t.generate({ length: 128, temperature: 1, topK: 0, seed: config.training.seed });
      await put('sample.mid', writeMidi(piece.notes, { stepsPerQuarter: spq, bpm: t.summary.bpm }));
      await put('sample.svg', rollPlot(piece.notes, `generated (${t.summary.encoding})`, spq, piece.primeSteps));
      break;
    }
    case 'denoise': {
      const t = task as DenoiseTask;
      await put('denoise.svg', denoisePlot(t.example(), `denoising ${t.summary.signal} at ${t.summary.snr} dB SNR`));
      break;
    }
  }
  return written;
}
