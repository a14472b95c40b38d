/** Per-task defaults: sizes that train in seconds to minutes on two cores and still learn something. */
import type { CellType, TaskName } from '../tasks/index.js';

export interface TaskDefaults {
  /** Shipped data (a path under data/), or a synthetic source name. */
  data: string;
  cell: CellType;
  hidden: number;
  layers: number;
  seqLen: number;
  batch: number;
  steps: number;
  lr: number;
  clip: number;
  valSplit: number;
  /** Held out from the end for test figures; the validation part comes just before it. */
  testSplit: number;
  /** Early stopping: validations in a row without a new best (0: off). */
  patience: number;
}

export const DEFAULTS: Record<TaskName, TaskDefaults> = {
  series: { data: 'series/AirPassengers.csv', cell: 'lstm', hidden: 32, layers: 1, seqLen: 20, batch: 32, steps: 600, lr: 0.01, clip: 5, valSplit: 0.2, testSplit: 0.1, patience: 8 },
  text: { data: 'text', cell: 'lstm', hidden: 128, layers: 1, seqLen: 64, batch: 32, steps: 2000, lr: 0.002, clip: 5, valSplit: 0.05, testSplit: 0.05, patience: 0 },
  music: { data: 'music/pianobooster', cell: 'lstm', hidden: 128, layers: 1, seqLen: 64, batch: 16, steps: 600, lr: 0.003, clip: 5, valSplit: 0.1, testSplit: 0.1, patience: 0 },
  denoise: { data: 'sine-mixture', cell: 'gru', hidden: 32, layers: 1, seqLen: 64, batch: 32, steps: 600, lr: 0.005, clip: 5, valSplit: 0.2, testSplit: 0.1, patience: 0 },
};

/** Names accepted by --data for generated signals instead of a file. */
export const SYNTHETIC: Record<string, TaskName[]> = { sine: ['series'], 'sine-mixture': ['denoise'] };

export const TEXT_EMBEDDING = 32;
/** Text validation scores at most this many batches (32 streams x 64 characters: 32,768 characters). */
export const TEXT_VALIDATION_BATCHES = 16;
/** Music classes are few: one-hot input is the default there. */
export const MUSIC_EMBEDDING = 0;
export const DENOISE_SNR = 5;

/** The defaults table `recurrent train --help` prints (they differ by task, so option lines cannot say). */
export function describeDefaults(): string {
  const rows = (Object.keys(DEFAULTS) as TaskName[]).map((task) => {
    const d = DEFAULTS[task];
    const data = d.data.startsWith('sine') ? `${d.data} (generated)` : d.data === 'text' ? 'every shipped text' : d.data.replace(/^(series|text|music)\//, '').replace(/\.csv$/, '');
    return `  ${task.padEnd(8)} --data ${data}, --cell ${d.cell}, --hidden ${d.hidden}, --layers ${d.layers}, --seq-len ${d.seqLen}, ` +
      `--batch ${d.batch}, --steps ${d.steps}, --lr ${d.lr}, --clip ${d.clip}, --val-split ${d.valSplit}, --test-split ${d.testSplit}, --patience ${d.patience}`;
  });
  return `\nDefaults by task ("recurrent data" lists the shipped data):\n${rows.join('\n')}\n`;
}
