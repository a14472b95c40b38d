/**
 * The page's music task: the CLI's melody model (createMusicTask from src/tasks, mono encoding) with
 * the page's settings, and a generated continuation of the first piece's opening as the CLI's
 * `generate music` makes it: its notes, its piano roll (src/viz) and its MIDI file (src/data).
 */
import { writeMidi } from '../src/data/index.js';
import { createMusicTask, type MusicTask, type Piece } from '../src/tasks/index.js';
import { pianoRoll } from '../src/viz/index.js';
import { modelSettings, trainingSettings } from './settings.js';
import type { FromWorker, PlaygroundConfig } from './protocol.js';

export function buildMusicTask(settings: PlaygroundConfig, pieces: readonly Piece[]): MusicTask {
  return createMusicTask(
    {
      training: trainingSettings(settings, 0.1),
      model: modelSettings(settings),
      // The page's own models: mono, one-hot, the pieces' own range; a CLI run's: its settings.
      encoding: settings.encoding ?? 'mono',
      embedding: settings.embedding ?? 0,
      ...(settings.windows ? { windows: settings.windows } : {}),
      ...(settings.range ? { range: settings.range } : {}),
    },
    pieces,
  );
}

export interface GenerateRequest {
  length: number;
  temperature: number;
  topK: number;
  seed: number;
}

/** The page's own bound: at most 64 bars of sixteenths, a second or so of work for the worker. */
const MAX_STEPS = 1024;

type Generated = Omit<Extract<FromWorker, { type: 'music' }>, 'type' | 'step'>;

export function generateContinuation(task: MusicTask, request: GenerateRequest): Generated {
  if (!Number.isInteger(request.length) || request.length < 1 || request.length > MAX_STEPS) {
    throw new Error(`music length must be an integer number of steps in [1, ${MAX_STEPS}], received ${request.length}`);
  }
  const { stepsPerQuarter, bpm } = task.summary;
  const piece = task.generate({ length: request.length, temperature: request.temperature, topK: request.topK, seed: request.seed });
  const svg = pianoRoll(piece.notes, {
    title: `${task.pieces[0]!.source}: its opening, then ${request.length} generated steps (temperature ${request.temperature})`,
    stepsPerQuarter, width: 1100, height: 300, marker: { step: piece.primeSteps, label: 'generated' },
  });
  const midi = writeMidi(piece.notes, { stepsPerQuarter, bpm });
  return { notes: piece.notes.map(({ pitch, start, duration, velocity }) => ({ pitch, start, duration, velocity })), primeSteps: piece.primeSteps, totalSteps: piece.totalSteps, stepsPerQuarter, bpm, svg, midi, seed: request.seed };
}
