// Training recipes shared by the CLI and the playground: no file system, no terminal, no DOM.
export { SequenceModel, ModelStepper, CELLS, detachState, isLstm, checkModelConfig } from './model.js';
export type { CellType, ModelConfig, ModelInput, RecurrentState, SequenceInput } from './model.js';
export { TASKS, OPTIMIZERS, buildModel, createOptimizer, checkTrainingConfig, chronologicalSplit } from './task.js';
export type { Task, TaskName, TaskOptimizer, TaskState, TrainingConfig, Evaluation, EvaluationPart, OptimizerName, Split } from './task.js';
export { train, trainStep } from './train.js';
export type { TrainLoopOptions, TrainResult, StepInfo, ValidationInfo } from './train.js';
export { sampleClass, sampleBernoulli, checkSampling } from './sampling.js';
export type { SamplingOptions } from './sampling.js';
export { createSeriesTask, sineSeries, seriesModel, evaluateSeries, evaluateHorizon, forecastSeries, SERIES_TARGETS } from './series.js';
export type { SeriesTask, SeriesModel, SeriesOptions, SeriesSummary, SeriesPredictions, SeriesTarget } from './series.js';
export { hybridForecast } from './hybrid-forecast.js';
export type { HybridForecast, HybridForecastOptions } from './hybrid-forecast.js';
export { createTextTask, generateText, evaluateText, textActivations, encodeText } from './text.js';
export type { TextTask, TextOptions, TextSummary, GenerateTextOptions, UnknownCharacters } from './text.js';
export { createMusicTask, generateMusic, evaluateMusic, MUSIC_ENCODINGS } from './music.js';
export type { MusicTask, MusicOptions, MusicSummary, MusicEncoding, Piece, GenerateMusicOptions, GeneratedPiece } from './music.js';
export { createDenoiseTask, evaluateDenoise } from './denoise.js';
export type { DenoiseTask, DenoiseOptions, DenoiseSummary, DenoiseExample } from './denoise.js';
