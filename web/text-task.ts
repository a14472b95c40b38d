/**
 * The page's text task: the CLI's character model (createTextTask from src/tasks) with the page's
 * settings, what the text view shows of it (the last layer's h over validation text), the unit
 * search over those activations (text-units.ts) and sampling (generateText). No training here.
 */
import { createTextTask, generateText, textActivations, type TextTask } from '../src/tasks/index.js';
import { modelSettings, trainingSettings } from './settings.js';
import type { FromWorker, PlaygroundConfig } from './protocol.js';
import { findPlaces, rankUnits, type Activations } from './text-units.js';

/** Characters of validation text the view shows (from a line start). */
export const TEXT_VIEW_CHARS = 800;
/** Validation scores this many batches: a fixed, small cost however long the text. */
const VALIDATION_BATCHES = 4;
/** The best-ranked units that search for other places, and how many of them must be on together. */
const SEARCH_UNITS = 3;

export function buildTextTask(settings: PlaygroundConfig, text: string, source: string): TextTask {
  return createTextTask(
    {
      training: trainingSettings(settings, 0.1),
      model: modelSettings(settings),
      // A CLI run's own embedding, vocabulary and validation cap, so its figures are the CLI's.
      embedding: settings.embedding ?? 0,
      validationBatches: settings.validationBatches ?? VALIDATION_BATCHES,
      ...(settings.vocabulary ? { vocabulary: settings.vocabulary } : {}),
    },
    text,
    source,
  );
}

export interface TextView {
  chars: string[];
  activations: Activations;
}

/** Every unit of the last layer while reading the shown validation text. */
export function textView(task: TextTask): TextView {
  const snippet = task.snippet(TEXT_VIEW_CHARS);
  const { values, units, chars } = textActivations(task.model, task.vocabulary, snippet, task.model.config.hiddenSize);
  return { chars, activations: { values, units, steps: chars.length } };
}

type Matches = Omit<Extract<FromWorker, { type: 'matches' }>, 'type' | 'step'>;

/** The units that match [from, to), and where the best of them fire together elsewhere in the shown text. */
export function matchSpan(view: TextView, from: number, to: number, threshold: number): Matches {
  const units = rankUnits(view.activations, { from, to }, threshold);
  const searched = units.slice(0, SEARCH_UNITS).map((match) => match.unit);
  // A majority of the searched units: all of one or two, two of three.
  const minOn = Math.ceil((searched.length + 1) / 2);
  const places = findPlaces(view.activations, searched, threshold, to - from, { minOn, exclude: { from, to } });
  return { from, to, threshold, units, searched, minOn, places };
}

export interface SampleRequest {
  prime: string;
  length: number;
  temperature: number;
  topK: number;
  seed: number;
}

/** The page's own bound on a sample's length, so one click cannot keep the worker busy for minutes. */
const MAX_SAMPLE = 2000;

export function sampleText(task: TextTask, request: SampleRequest): string {
  if (!Number.isInteger(request.length) || request.length < 1 || request.length > MAX_SAMPLE) {
    throw new Error(`sample length must be an integer in [1, ${MAX_SAMPLE}], received ${request.length}`);
  }
  const unknown = Array.from(new Set(Array.from(request.prime).filter((ch) => !task.vocabulary.has(ch))));
  if (unknown.length > 0) {
    throw new Error(`prime: ${unknown.map((ch) => JSON.stringify(ch)).join(', ')} never occur in the training text, so the model cannot read them`);
  }
  return generateText(task.model, task.vocabulary, { ...request, unknown: 'error' });
}
