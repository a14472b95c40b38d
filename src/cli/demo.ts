/**
 * `recurrent demo`: the first thing to run on a fresh clone. Trains the classic sine predictor (a
 * 1-layer RNN on sequences of 20 steps) and a small character model on the shipped Austen novels,
 * about two minutes in all on two cores, and says where the plots and samples are.
 */
import { join } from 'node:path';
import { forecastSeries, seriesModel, sineSeries, type SeriesSummary, type TextSummary } from '../tasks/index.js';
import { forecastPlot } from './plots.js';
import { modelOf } from './run-config.js';
import { BEST, loadWeights, writeText } from './run-dir.js';
import { trainCommand } from './train.js';

export async function demoCommand(flags: { out: string; textSteps: number }): Promise<number> {
  const sineDir = join(flags.out, 'sine');
  const textDir = join(flags.out, 'text');
  console.log('1/2  series: a 1-layer RNN learns to predict the next value of a sine wave');
  const sine = await trainCommand('series', { data: 'sine', cell: 'rnn', hidden: 32, seqLen: 20, steps: 300, valEvery: 25, out: sineDir, force: true });
  if (sine.stopped) return 130;
  // Feeding predictions back: a forecast well past the data shows whether the model caught the wave.
  const model = modelOf(sine.config);
  await loadWeights(join(sineDir, BEST), model);
  const series = sineSeries();
  const summary = sine.config.summary as SeriesSummary;
  const horizon = 100;
  const values = forecastSeries(seriesModel(model, summary, sine.config.training.seqLen), series, horizon);
  const tail = { time: series.time.slice(-150), values: series.values.slice(-150) };
  const time = Float64Array.from(values, (_, i) => series.time[series.time.length - 1]! + i + 1);
  await writeText(join(sineDir, 'forecast.svg'), forecastPlot(tail, { time, values }, `sine wave: ${horizon} steps forecast by feeding predictions back`));

  console.log('\n2/2  text: a character-level LSTM reads Jane Austen');
  const text = await trainCommand('text', { hidden: 128, seqLen: 64, batch: 32, steps: flags.textSteps, valEvery: Math.max(1, Math.ceil(flags.textSteps / 4)), out: textDir, force: true });
  if (text.stopped) return 130;
  const vocabulary = (text.config.summary as TextSummary).vocabulary.chars.length;

  console.log(
    [
      '',
      'demo finished. Open these files:',
      `  ${join(sineDir, 'training-progress.svg')}  prediction (blue) learning to track the target (red)`,
      `  ${join(sineDir, 'forecast.svg')}           the wave continued from the model's own predictions`,
      `  ${join(textDir, 'sample.txt')}             text sampled from the character model`,
      `  ${join(textDir, 'loss.svg')}               its training and validation loss`,
      `validation bits per character: ${text.metrics?.bpc?.toFixed(3) ?? 'n/a'} (a uniform guess over the ${vocabulary} characters would score ${Math.log2(vocabulary).toFixed(2)})`,
      `next: recurrent generate text --model ${textDir} --temperature 0.7 --length 400`,
    ].join('\n'),
  );
  return 0;
}
