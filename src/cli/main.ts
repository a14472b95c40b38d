#!/usr/bin/env node
/**
 * The `recurrent` command. Parsing and error reporting live here; each command is a function in its
 * own module, and the training itself is the shared recipe code in src/tasks.
 *
 * Exit codes: 0 success, 1 bad input or a failed run (one line on stderr, no stack trace unless
 * RECURRENT_DEBUG=1), 130 training stopped by Ctrl-C (after saving).
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { CELLS, MUSIC_ENCODINGS, MUSIC_WINDOWS, OPTIMIZERS, SERIES_TARGETS, TASKS, type TaskName } from '../tasks/index.js';
import { choice, integer, number, track } from './args.js';
import { demoCommand } from './demo.js';
import { describeDefaults } from './defaults.js';
import { shippedDataTable } from './data.js';
import { forecastCommand } from './forecast.js';
import { exportCommand } from './export.js';
import { EXPERIMENTS, experimentCommand, type ExperimentName } from './experiment.js';
import { TIMING_TASKS } from '../experiments/timing.js';
import { evalCommand, generateCommand, predictCommand } from './inference.js';
import { infoCommand } from './info.js';
import { inspectGatesCommand, MAX_STEPS } from './inspect.js';
import { userMessage } from './messages.js';
import { trainCommand, type TrainFlags } from './train.js';

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

async function guarded(action: () => Promise<number | void> | number | void): Promise<void> {
  try {
    const code = await action();
    if (typeof code === 'number') process.exitCode = code;
  } catch (err) {
    process.stderr.write(`recurrent: error: ${userMessage(err)}\n`);
    if (process.env['RECURRENT_DEBUG'] === '1' && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    process.exitCode = 1;
  }
}

// `recurrent generate text | head` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const program = new Command('recurrent')
  .description('Recurrent neural networks (RNN, LSTM, GRU) with PyTorch semantics: train, generate, predict and evaluate on series, text, music and noisy signals.')
  .version(packageVersion())
  .showHelpAfterError('(add --help for the options)')
  .configureOutput({ outputError: (text, write) => write(`recurrent: ${text}`) });

program
  .command('train')
  .description('train a model on one of the tasks and write a run folder (config.json, history.csv, checkpoints, plots)')
  .argument('<task>', `one of ${TASKS.join(', ')}`, choice(TASKS))
  .option('--data <path|name>', 'a file or folder, or the name of shipped data (see "recurrent data"); "sine" (series) and "sine-mixture" (denoise) are generated. Default: see below')
  .addOption(new Option('--cell <type>', 'recurrent cell; peephole is an LSTM with peephole connections').choices(CELLS))
  .option('--hidden <n>', 'hidden units per layer', integer(1, 65536))
  .option('--layers <n>', 'stacked recurrent layers', integer(1, 64))
  .option('--dropout <p>', 'dropout between layers and before the output layer (default 0)', number({ min: 0, below: 1 }))
  .option('--seq-len <n>', 'time steps per training sequence (the truncation length of BPTT)', integer(1, 1_000_000))
  .option('--batch <n>', 'sequences per step', integer(1, 65536))
  .option('--steps <n>', 'total training steps (counting steps already taken when resuming)', integer(1))
  .option('--epochs <n>', 'train for this many passes over the training data instead of --steps', integer(1, 1_000_000))
  .option('--time-limit <minutes>', 'stop (after a last validation and save) once this session has trained this long', number({ above: 0 }))
  .option('--lr <rate>', 'learning rate', number({ above: 0, max: 10 }))
  .addOption(new Option('--optimizer <name>', 'optimizer (default adam)').choices(OPTIMIZERS))
  .option('--clip <norm>', 'clip the total gradient norm to this; 0 turns clipping off (default 5)', number({ min: 0 }))
  .option('--seed <n>', 'seed of the initial weights, dropout, data order and noise (default 0)', integer(0, 2 ** 32 - 1))
  .option('--val-split <share>', 'share of the data held out for validation (choosing the best checkpoint), taken just before the test part', number({ min: 0, below: 1 }))
  .option('--test-split <share>', 'share of the data held out for test figures, taken from its chronological end; never used in training or checkpoint choice', number({ min: 0, below: 1 }))
  .option('--patience <n>', 'stop early after n validations in a row without a new best (0: never; default per task, see below)', integer(0, 1_000_000))
  .option('--val-every <n>', 'validate (and save checkpoints) every n steps (default: 20 times per run)', integer(1))
  .option('--out <dir>', 'run folder to write (default runs/<task>, runs/<task>-2, ...)')
  .option('--resume <dir>', 'continue the run in this folder from its latest checkpoint, exactly as if never stopped')
  .option('--force', 'replace the run already in --out')
  .option('--json', 'progress as one JSON object per line on stdout')
  .option('--embedding <n>', 'text and music (mono): embedding size; 0 feeds one-hot vectors (default: text 32, music 0)', integer(0, 65536))
  .addOption(new Option('--encoding <kind>', 'music: mono (melody, softmax) or poly (piano roll, sigmoid); default mono').choices(MUSIC_ENCODINGS))
  .addOption(new Option('--windows <kind>', 'music: training windows anywhere in the pieces laid end to end (stream, default) or inside one piece each, shorter at a piece\'s end, batched with their lengths (pieces)').choices(MUSIC_WINDOWS))
  .option('--track <track>', 'music: MIDI track index, "most" (the non-drum track with the most notes; default) or "merge"', track)
  .addOption(new Option('--target <kind>', 'series: predict the next value (level) or its change from the last one (delta); default level for sine, delta otherwise').choices(SERIES_TARGETS))
  .option('--column <name|index>', 'series CSV: the column holding the values (header name or 0-based index)')
  .option('--wide', 'series CSV: a table of one row per year and one column per season, read row by row as one series')
  .option('--snr <db>', 'denoise: signal-to-noise ratio of the noisy inputs in dB (default 5)', number({ min: -30, max: 60 }))
  .option('--bidirectional', 'read the sequence both ways (default for denoise)')
  .option('--no-bidirectional', 'read the sequence forward only')
  .option('--checkpoint-every <k>', 'gradient checkpointing: keep every k-th recurrent state and recompute the rest during backward, for a long --seq-len in bounded memory (about one more forward per step; the same results)', integer(1, 1_000_000))
  .option('--allow-outliers', 'series and denoise: train on a series even though some values are extreme outliers (robust z-score over 30), which are refused by default')
  .addHelpText('after', describeDefaults())
  .action((task: TaskName, flags: TrainFlags) =>
    guarded(async () => {
      const outcome = await trainCommand(task, flags);
      return outcome.stopped ? 130 : 0;
    }),
  );

program
  .command('generate')
  .description('sample new text or music from a trained model')
  .argument('<kind>', 'text or music', choice(['text', 'music'] as const))
  .requiredOption('--model <dir>', 'run folder written by "recurrent train"')
  .option('--prime <text|file.mid>', 'text: the text to continue (default a new line); music: a MIDI file whose opening is continued (default the first training piece)')
  .option('--length <n>', 'characters (text, default 500) or time steps (music, default 128) to generate', integer(1, 10_000_000))
  .option('--temperature <t>', 'below 1: safer, above 1: wilder; 0 always takes the most likely', number({ min: 0, max: 100 }), 0.8)
  .option('--top-k <k>', 'sample only among the k most likely (0: all)', integer(0), 0)
  .option('--top-p <p>', 'sample only among the most likely whose probabilities add up to p (1: all)', number({ above: 0, max: 1 }))
  .option('--max-silence <steps>', 'music (mono): after this many silent steps in a row, draw a note (default two bars; 0: no limit)', integer(0))
  .option('--seed <n>', 'seed of the sampling', integer(0, 2 ** 32 - 1), 0)
  .addOption(new Option('--unknown <how>', 'text: characters outside the model\'s vocabulary are read as a space (replace, the default; the count is reported) or refused (error)').choices(['replace', 'error']))
  .option('--out <file>', 'write here (text: .txt, default stdout; music: .mid, default <model>/generated-<seed>.mid, with an .svg piano roll beside it)')
  .addOption(new Option('--quantize <type>', 'generate on int8-quantized recurrent weights: faster, close to the float model but not equal (see the README)').choices(['int8']))
  .action((kind: 'text' | 'music', flags) => guarded(() => generateCommand(kind, flags)));

program
  .command('predict')
  .description('forecast a series past its end with a trained run by feeding predictions back, with intervals from the model\'s own multi-step errors')
  .argument('<task>', 'series', choice(['series'] as const))
  .requiredOption('--model <dir>', 'run folder of a series model')
  .option('--horizon <n>', 'steps to forecast', integer(1, 1_000_000), 24)
  .option('--data <file>', 'forecast from the end of this series instead of the training data')
  .option('--coverage <p>', 'central coverage of the interval, from the model\'s own multi-step errors on the series (in sample, so a lower bound)', number({ above: 0, below: 1 }), 0.8)
  .option('--column <name|index>', 'series CSV: the column holding the values (header name or 0-based index)')
  .option('--wide', 'series CSV: a table of one row per year and one column per season, read row by row as one series')
  .option('--plot <file.svg>', 'draw the data and the forecast')
  .option('--json', 'print one JSON object instead of CSV lines')
  .action((_task: string, flags) => guarded(() => predictCommand(flags)));

program
  .command('forecast')
  .description('forecast a series several steps ahead with Holt-Winters plus a GRU correction, with intervals; --test scores it on held-out values')
  .requiredOption('--data <path|name>', 'a "time,value" CSV file, or the name of a shipped series (see "recurrent data")')
  .option('--horizon <n>', 'steps to forecast', integer(1, 10_000), 24)
  .option('--period <n>', 'values per season (default: from the time column, 12 for monthly data)', integer(2, 10_000))
  .option('--column <name|index>', 'series CSV: the column holding the values (header name or 0-based index)')
  .option('--wide', 'series CSV: a table of one row per year and one column per season, read row by row as one series')
  .option('--test', 'hold out the last --horizon values, forecast them and score the forecast, Holt-Winters and the seasonal naive forecast on them')
  .option('--coverage <p>', 'central coverage of the interval', number({ above: 0, below: 1 }), 0.8)
  .option('--seeds <n>', 'GRU models averaged', integer(1, 100), 3)
  .option('--seed <n>', 'seed of the first model', integer(0, 2 ** 32 - 1), 0)
  .option('--plot <file.svg>', 'draw the data, the forecast and its interval')
  .option('--json', 'print one JSON object: forecast, lower, upper, holtWinters (and test scores with --test)')
  .action((flags) => guarded(() => forecastCommand(flags)));

program
  .command('data')
  .description('list the data shipped with recurrent (pass a name to --data without its path)')
  .option('--json', 'print one JSON array')
  .action((flags: { json?: boolean }) =>
    guarded(() => {
      const entries = shippedDataTable();
      if (flags.json) {
        console.log(JSON.stringify(entries));
        return;
      }
      for (const e of entries) console.log(`${e.task.padEnd(7)} ${e.name.padEnd(22)} ${e.size.padStart(9)}  ${e.path}`);
      console.log('provenance and licences: data/README.md');
    }),
  );

program
  .command('eval')
  .description("score a trained model: on its own validation split (as recorded in config.json) or on other data")
  .argument('<task>', `one of ${TASKS.join(', ')}`, choice(TASKS))
  .requiredOption('--model <dir>', 'run folder written by "recurrent train"')
  .option('--data <path>', 'evaluate on this file or folder instead of the run\'s validation split')
  .option('--column <name|index>', 'series CSV: the column holding the values (header name or 0-based index)')
  .option('--wide', 'series CSV: a table of one row per year and one column per season, read row by row as one series')
  .addOption(new Option('--unknown <how>', 'text: characters outside the model\'s vocabulary are read as a space (replace, the default; the count is reported) or refused (error)').choices(['replace', 'error']))
  .option('--horizon <n>', 'series: also forecast n steps into the scored part by feeding predictions back, and score them (RMSE, MAE, sMAPE, MASE) beside Holt-Winters and the seasonal naive forecast', integer(1, 100_000))
  .addOption(new Option('--split <part>', 'without --data: the held-out part to score (default test when the run has one)').choices(['test', 'validation']))
  .option('--seed <n>', 'denoise with --data: seed of the noise (default the run\'s seed)', integer(0, 2 ** 32 - 1))
  .option('--json', 'print one flat JSON object as the last line of stdout')
  .action((task: TaskName, flags) => guarded(() => evalCommand(task, flags)));

program
  .command('inspect')
  .description('look inside a trained model: "inspect gates" draws every gate and state of every layer over time for one input, as SVG heatmaps under the input')
  .argument('<what>', 'gates', choice(['gates'] as const))
  .requiredOption('--model <dir>', 'run folder written by "recurrent train" (any task and cell)')
  .option('--input <text|file|values>', 'text: the text to read; series and denoise: a CSV file or comma-separated values (in the data\'s own units); music: a .mid file. Default: 100 steps of the run\'s validation data')
  .option('--steps <n>', `time steps to draw from the start of the input (at most ${MAX_STEPS})`, integer(1, MAX_STEPS))
  .option('--units <n>', 'hidden units drawn per layer; with more, those whose state varies most over the input', integer(1, 4096), 32)
  .option('--column <name|index>', 'series CSV: the column holding the values (header name or 0-based index)')
  .option('--wide', 'series CSV: a table of one row per year and one column per season, read row by row as one series')
  .option('--out <file.svg>', 'where to write the heatmaps (default <model>/gates.svg)')
  .action((_what: string, flags) => guarded(() => inspectGatesCommand(flags)));

program
  .command('info')
  .description('show what computes (kernels, GEMM, threads) and, with --model, a run: architecture, parameter count, data and training history')
  .option('--model <dir>', 'run folder written by "recurrent train"')
  .option('--json', 'print one JSON object')
  .action((flags) => guarded(() => infoCommand(flags)));

program
  .command('export')
  .description('write a run\'s model for other runtimes: an ONNX file (--onnx) and/or a PyTorch package that continues training with torchrun (--pytorch)')
  .requiredOption('--model <dir>', 'run folder written by "recurrent train" (its best checkpoint, else the latest)')
  .option('--onnx <file>', 'ONNX file to write (opset 14; states as inputs and outputs)')
  .option('--pytorch <dir>', 'folder to write a self-contained PyTorch package into (model.py, weights, train.py)')
  .action((flags) => guarded(() => exportCommand(flags)));

program
  .command('experiment')
  .description('reproduce a claim about gated units: adding (the adding problem), gradflow (gradients through time), activation (tanh vs sigmoid vs relu RNN), timing (timed spikes or spike intervals, LSTM with and without peepholes), music (tanh RNN vs GRU vs LSTM on Bach chorales); prints a table and writes a plot')
  .argument('<name>', `one of ${EXPERIMENTS.join(', ')}`, choice(EXPERIMENTS))
  .option('--cells <list>', 'cells, comma-separated, among rnn (tanh), rnn-relu, rnn-sigmoid, lstm, gru, peephole (default: adding rnn,lstm,gru,peephole; gradflow rnn,lstm,gru; activation rnn,rnn-sigmoid,rnn-relu; timing lstm,peephole, the only two it takes)')
  .option('--lengths <list>', 'adding: sequence lengths T, comma-separated (default 50,100,200,400)')
  .option('--task <name>', 'timing: spikes (generate a spike every period after one trigger; the default) or intervals (tell two spikes period and period + 1 steps apart)', choice(TIMING_TASKS))
  .option('--periods <list>', 'timing: steps between the spikes to produce, or with --task intervals the shorter interval K, comma-separated (default 10,20)')
  .option('--cycles <n>', 'timing: spikes per sequence after the trigger (default 4)', integer(1, 1000))
  .option('--length <n>', 'gradflow: length of the measured sequence (default 1000); activation: sequence length (default 50)', integer(2, 100_000))
  .option('--tasks <list>', 'activation: adding, sine or both (default both)')
  .option('--steps <n>', 'adding, activation, timing: training steps per run (adding and timing stop a run early once solved)', integer(1))
  .option('--train-steps <n>', 'gradflow: adding-problem steps before the second measurement (0: initialisation only; default 2000, fewer once solved)', integer(0))
  .option('--train-length <n>', 'gradflow: sequence length of that training (default 100)', integer(2, 100_000))
  .option('--seeds <n>', 'adding, activation, timing: seeds per cell (default 3)', integer(1, 1000))
  .option('--seed <n>', 'first seed (default 0)', integer(0, 2 ** 32 - 1))
  .option('--batch <n>', 'sequences per training step (gradflow: in the measured batch)', integer(1, 65536))
  .option('--lr <rate>', 'Adam learning rate', number({ above: 0, max: 10 }))
  .option('--parameters <n>', 'parameters per model, about (each cell\'s hidden size is chosen to match; default 4500, timing 1200)', integer(10, 10_000_000))
  .option('--epochs <n>', 'music: passes over the training chorales, at most (default 20)', integer(1, 100_000))
  .option('--patience <n>', 'music: stop after this many epochs without a better validation NLL (default 4)', integer(1, 100_000))
  .option('--data <file>', 'music: a chorales file in the format of tools/convert_jsb_chorales.py (default: the shipped JSB chorales)')
  .option('--plot <file.svg>', 'where to write the plot (default runs/experiments/<name>.svg)')
  .option('--json', 'print one JSON object with every run instead of the table')
  .action((name: ExperimentName, flags) => guarded(() => experimentCommand(name, flags)));

program
  .command('demo')
  .description('train the sine predictor and a small character model on the shipped text (about two minutes), write plots and samples')
  .option('--out <dir>', 'where to write the two runs', 'runs/demo')
  .option('--text-steps <n>', 'training steps of the character model', integer(1), 1500)
  .action((flags) => guarded(() => demoCommand(flags)));

/**
 * Commander keeps the last of a repeated option; for options that take one value that silently drops
 * the first (`--data a.csv --data b.csv` trained on b alone), so a repeat is an error instead.
 */
function repeatedOption(argv: readonly string[]): string | null {
  const command = program.commands.find((c) => c.name() === argv[2]);
  if (!command) return null;
  const valued = new Set(command.options.filter((o) => o.required || o.optional).map((o) => o.long));
  const seen = new Map<string, string>();
  for (let i = 3; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') break;
    const name = token.split('=')[0]!;
    if (!valued.has(name)) continue;
    const value = token.includes('=') ? token.slice(name.length + 1) : (argv[i + 1] ?? '');
    const earlier = seen.get(name);
    if (earlier !== undefined) return `${name} was given twice (${earlier} and ${value}); it takes one value`;
    seen.set(name, value);
  }
  return null;
}

const repeated = repeatedOption(process.argv);
if (repeated !== null) {
  process.stderr.write(`recurrent: error: ${repeated}\n`);
  process.exitCode = 1;
} else {
  await program.parseAsync(process.argv);
}
