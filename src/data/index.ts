// The pure data layer (safe in the browser). Node file loaders live in ./files.js.
export { DataRng } from './random.js';
export type { DataRngState } from './random.js';
export { MAX_ELEMENTS } from './limits.js';
export { parseSeriesCsv, inferFrequency } from './series-csv.js';
export { findOutliers, checkSeriesOutliers, OUTLIER_LIMIT } from './outliers.js';
export type { Outlier, OutlierReport } from './outliers.js';
export type { Series, ParseSeriesOptions } from './series-csv.js';
export { ZScore } from './normalize.js';
export type { ZScoreJSON } from './normalize.js';
export { splitSeries, windowCount, windowBatch, seriesBatchCount, seriesBatches, stackTimeMajor, sineWave } from './series.js';
export type { SeriesSplit, SplitSeriesOptions, SeriesBatch, SeriesBatchOptions, SineWaveOptions } from './series.js';
export { rmse, mae, smape, mase, forecastScores, naiveForecast, seasonalNaiveForecast, seasonalNaiveHorizon, baselineScores, errorInterval } from './baselines.js';
export type { Score, BaselineScores, ForecastScores } from './baselines.js';
export { fitHoltWinters, holtWintersFilter, holtWintersForecast, holtWintersOneStep, holtWintersPath } from './exponential-smoothing.js';
export type { HoltWintersParams, HoltWintersState, HoltWintersFit, HoltWintersFitOptions, HoltWintersInitial, HoltWintersOneStep, HoltWintersPath } from './exponential-smoothing.js';
export { Vocabulary, decodeText, normalizeText, splitText, LanguageModelBatches, oneHot } from './text.js';
export type { VocabularyJSON, TextSplit, TextBatch, LanguageModelBatchOptions } from './text.js';
export {
  PIANO_RANGE,
  DEFAULT_MAX_STEPS,
  quantizeNotes,
  notesToPianoRoll,
  pianoRollToNotes,
  notesToMelody,
  melodyToNotes,
} from './pianoroll.js';
export type {
  StepNote,
  TickNote,
  PitchRange,
  OutOfRange,
  EncodeOptions,
  DecodeOptions,
  PianoRoll,
  PianoRollLike,
  MelodyOptions,
  Melody,
} from './pianoroll.js';
export { parseMidi, writeMidi, songToPianoRoll, songToMelody, pianoRollToMidi, melodyToMidi } from './midi.js';
export type { MidiSong, MidiTrackInfo, ParseMidiOptions, WriteMidiOptions } from './midi.js';
export {
  sineMixture,
  randomSineMixture,
  randomWindows,
  signalPower,
  addNoise,
  snrDb,
  movingAverage,
  bestMovingAverage,
} from './noise.js';
export type { SineComponent, RandomMixtureOptions, BestMovingAverage } from './noise.js';
export { parseChorales, CHORALE_SPLITS } from './chorales.js';
export type { ChoraleRoll, ChoraleSet, ChoraleSplit } from './chorales.js';
