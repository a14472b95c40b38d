// Bad input gets one clear message naming the file, line or option, exit code 1, no stack trace,
// and nothing written to --out.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runCli, type CliRun } from './helpers/cli.js';
import { after, before, test } from 'node:test';
import tonejs from '@tonejs/midi';

const TMP = mkdtempSync(join(tmpdir(), 'recurrent-errors-'));
const RUN = join(TMP, 'series-run');
after(() => rmSync(TMP, { recursive: true, force: true }));


const cli = (args: string[]): Promise<CliRun> => runCli(args);

const file = (name: string, content: string | Uint8Array): string => {
  const path = join(TMP, name);
  writeFileSync(path, content);
  return path;
};

before(async () => {
  mkdirSync(join(TMP, 'out'));
  const run = await cli(['train', 'series', '--data', 'sine', '--steps', '5', '--hidden', '8', '--out', RUN]);
  assert.equal(run.code, 0, run.stderr);
});

interface Case {
  name: string;
  args: () => string[];
  message: RegExp;
  /** A path that must not exist afterwards (defaults to the --out of the case). */
  untouched?: () => string;
}

const out = (name: string): string => join(TMP, 'out', name);

const cases: Case[] = [
  { name: 'an option given twice', args: () => ['train', 'series', '--data', 'AirPassengers', '--steps', '3', '--data=co2'], message: /--data was given twice \(AirPassengers and co2\); it takes one value/ },
  { name: 'a missing file', args: () => ['train', 'series', '--data', join(TMP, 'nope.csv')], message: /--data .*nope\.csv: no such file or folder/ },
  { name: 'an empty CSV', args: () => ['train', 'series', '--data', file('empty.csv', '')], message: /empty\.csv is empty/ },
  { name: 'an empty text', args: () => ['train', 'text', '--data', file('empty.txt', '')], message: /empty\.txt is empty/ },
  {
    name: 'a CSV with a non-numeric cell',
    args: () => ['train', 'series', '--data', file('bad.csv', 'time,value\n1950,1\n1951,2\n1952,n/a\n1953,4\n')],
    message: /bad\.csv line 4: expected a number in column "value", received "n\/a"/,
  },
  {
    name: 'a series with one value of 1e30',
    args: () => ['train', 'series', '--data', file('outlier.csv', `time,value\n${Array.from({ length: 60 }, (_, i) => `${1950 + i},${i === 41 ? '1e30' : 100 + (i % 12)}`).join('\n')}\n`)],
    message: /outlier\.csv holds 1 value\(s\) far from the rest \(median 10\d\.?\d*, robust scale [\d.]+, limit z 30\): line 43: 1e\+30 \(robust z-score \S+\)\. Fix or remove them, or pass --allow-outliers to train on them as they are/,
  },
  {
    name: 'a text shorter than one sequence',
    args: () => ['train', 'text', '--data', file('short.txt', 'Call me Ishmael.'), '--seq-len', '32'],
    message: /short\.txt has 16 characters, shorter than one sequence: --seq-len 32 needs at least 33/,
  },
  {
    name: 'a MIDI file with no notes',
    args: () => {
      const midi = new tonejs.Midi();
      midi.addTrack();
      return ['train', 'music', '--data', file('silent.mid', midi.toArray())];
    },
    message: /silent\.mid has no notes/,
  },
  {
    name: 'a corrupt MIDI file',
    args: () => {
      const bytes = readFileSync(join(ROOT, 'data/music/pianobooster/BoosterMusic-04-FrereJacques.mid'));
      return ['train', 'music', '--data', file('cut.mid', bytes.subarray(0, 300))];
    },
    message: /cut\.mid is a corrupt MIDI file \(truncated/,
  },
  { name: 'a file that is not MIDI', args: () => ['train', 'music', '--data', file('notes.mid', 'C D E F G')], message: /notes\.mid is not a MIDI file/ },
  { name: '--hidden 0', args: () => ['train', 'series', '--hidden', '0'], message: /option '--hidden <n>' argument '0' is invalid\. expected an integer in \[1, 65536\]/ },
  { name: '--lr -1', args: () => ['train', 'series', '--lr', '-1'], message: /option '--lr <rate>' argument '-1' is invalid\. expected a number > 0/ },
  { name: '--val-split 1', args: () => ['train', 'text', '--val-split', '1'], message: /'--val-split <share>' argument '1' is invalid\. expected a number >= 0 and < 1/ },
  { name: 'an unknown cell', args: () => ['train', 'text', '--cell', 'transformer'], message: /'--cell <type>' argument 'transformer' is invalid\. Allowed choices are rnn, lstm, gru, peephole/ },
  { name: 'an unknown task', args: () => ['train', 'weather'], message: /value 'weather' is invalid for argument 'task'\. expected one of series, text, music, denoise/ },
  { name: 'an option of another task', args: () => ['train', 'series', '--snr', '3'], message: /--snr applies to denoise, not to series/ },
  { name: 'a folder where a CSV is expected', args: () => ['train', 'series', '--data', join(ROOT, 'data/series')], message: /is a folder; the series task reads one CSV file/ },
  { name: 'a --model folder of another task', args: () => ['generate', 'text', '--model', RUN, '--out', out('g.txt')], message: /holds a series model; "generate text" needs a text model/ },
  {
    name: 'a --model folder of an incompatible version',
    args: () => {
      const dir = join(TMP, 'future-run');
      cpSync(RUN, dir, { recursive: true });
      const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, version: 99 }));
      return ['eval', 'series', '--model', dir];
    },
    message: /config\.json has format version 99; this version of recurrent reads version 1/,
  },
  {
    name: 'a --model folder that is not a run',
    args: () => {
      mkdirSync(join(TMP, 'plain'), { recursive: true });
      return ['predict', 'series', '--model', join(TMP, 'plain'), '--plot', out('p.svg')];
    },
    message: /plain holds no config\.json; expected a run folder written by "recurrent train"/,
  },
  { name: 'a missing --model', args: () => ['info', '--model', join(TMP, 'gone')], message: /--model .*gone: no such folder/ },
  {
    name: '--out into a folder that does not exist',
    args: () => ['predict', 'series', '--model', RUN, '--plot', join(TMP, 'no-such-dir', 'p.svg')],
    message: /the folder .*no-such-dir does not exist/,
    untouched: () => join(TMP, 'no-such-dir'),
  },
];

test('bad input: one message, exit code 1, no stack trace, nothing written', async () => {
  // Two at a time: each case is a process start, and the machine has two cores.
  for (let i = 0; i < cases.length; i += 2) {
    await Promise.all(
      cases.slice(i, i + 2).map(async (c, k) => {
        const target = out(`case-${i + k}`);
        const args = c.args();
        const full = args[0] === 'train' ? [...args, '--out', target] : args;
        const r = await cli(full);
        const where = `${c.name}: ${full.join(' ')}`;
        assert.equal(r.code, 1, `${where}: exit ${r.code}\n${r.stderr}`);
        assert.match(r.stderr, c.message, where);
        assert.match(r.stderr, /^recurrent: error: /, where);
        assert.ok(!/^\s+at /m.test(r.stderr), `${where}: stack trace in\n${r.stderr}`);
        assert.ok(r.stderr.trim().split('\n').length <= 2, `${where}: one message (and at most a help hint) expected:\n${r.stderr}`);
        assert.equal(r.stdout, '', where);
        assert.ok(!existsSync(c.untouched ? c.untouched() : target), `${where}: ${target} was created`);
      }),
    );
  }
});

test('an existing run is never overwritten by accident', async () => {
  const r = await cli(['train', 'series', '--data', 'sine', '--steps', '5', '--out', RUN]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /already holds a run; use --resume .* to continue it, --force to replace it, or another --out/);
  const history = readFileSync(join(RUN, 'history.csv'), 'utf8').trim().split('\n');
  assert.equal(history.length, 6);
  const notRun = join(TMP, 'notes');
  mkdirSync(notRun, { recursive: true });
  writeFileSync(join(notRun, 'keep.txt'), 'mine');
  const r2 = await cli(['train', 'series', '--data', 'sine', '--steps', '5', '--out', notRun, '--force']);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /exists and is not empty, and is not a run folder/);
  assert.equal(readFileSync(join(notRun, 'keep.txt'), 'utf8'), 'mine');
});

test('with --unknown error, a prime with characters the model never saw is refused, naming the character', async () => {
  const data = file('abc.txt', 'abcabcabc '.repeat(200));
  const dir = join(TMP, 'abc-run');
  const trained = await cli(['train', 'text', '--data', data, '--steps', '2', '--hidden', '8', '--seq-len', '16', '--batch', '4', '--out', dir]);
  assert.equal(trained.code, 0, trained.stderr);
  const target = join(TMP, 'z.txt');
  const r = await cli(['generate', 'text', '--model', dir, '--prime', 'abz', '--unknown', 'error', '--out', target]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /character "z" \(U\+007A\) at line 1, column 3 is not in the vocabulary of 4 characters/);
  assert.ok(!existsSync(target));
});

test('--allow-outliers trains on a series the screening refuses', async () => {
  const data = file('wild.csv', `time,value\n${Array.from({ length: 60 }, (_, i) => `${1950 + i},${i === 30 ? '1e6' : 100 + (i % 12)}`).join('\n')}\n`);
  const refused = await cli(['train', 'series', '--data', data, '--steps', '2', '--hidden', '4', '--out', join(TMP, 'wild')]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /wild\.csv holds 1 value\(s\) far from the rest .*line 32: 1000000/);
  const r = await cli(['train', 'series', '--data', data, '--steps', '2', '--hidden', '4', '--out', join(TMP, 'wild'), '--allow-outliers']);
  assert.equal(r.code, 0, r.stderr);
});

test('a damaged checkpoint is named in every message: eval, --resume and info', async () => {
  const dir = join(TMP, 'damaged-run');
  cpSync(RUN, dir, { recursive: true });
  const cut = readFileSync(join(dir, 'latest.safetensors')).subarray(0, 300);
  writeFileSync(join(dir, 'best.safetensors'), cut);
  writeFileSync(join(dir, 'latest.safetensors'), cut);
  const truncated = /the header length is \d+ bytes but the file has only 292 after the length field: truncated/;
  const evaluated = await cli(['eval', 'series', '--model', dir]);
  assert.equal(evaluated.code, 1);
  assert.match(evaluated.stderr, new RegExp(`^recurrent: error: ${dir}/best\\.safetensors: ${truncated.source}`));
  const resumed = await cli(['train', 'series', '--resume', dir, '--steps', '9']);
  assert.equal(resumed.code, 1);
  assert.match(resumed.stderr, new RegExp(`^recurrent: error: ${dir}/latest\\.safetensors: ${truncated.source}`));
  const info = await cli(['info', '--model', dir]);
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, new RegExp(`checkpoints +best\\.safetensors DAMAGED: ${truncated.source}, latest\\.safetensors DAMAGED`));
});
