// npm run crash [-- --kills 50 --seed 1]: kills training runs with SIGKILL at random moments, resumes
// them, and checks their history against an uninterrupted run; writes the figures into
// docs/reliability.md. Exit 1 on any problem.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CRASH_RUN, crashAndResume } from '../test/helpers/crash.js';
import { runCli } from '../test/helpers/cli.js';
import { writeSection } from './reliability-doc.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const kills = arg('kills', 50);
const seed = arg('seed', 1);
const steps = 60;
const perRun = 5;

const tmp = mkdtempSync(join(tmpdir(), 'recurrent-crash-'));
const started = performance.now();
try {
  const reference = join(tmp, 'whole');
  const whole = await runCli(['train', 'series', ...CRASH_RUN, '--steps', String(steps), '--out', reference]);
  if (whole.code !== 0) throw new Error(`the uninterrupted run failed: ${whole.stderr}`);
  const total = { runs: 0, kills: 0, duringSave: 0, beforeFirstCheckpoint: 0, checkpointsLoaded: 0, identical: 0, problems: [] as string[] };
  for (let run = 0; total.kills < kills; run++) {
    const f = await crashAndResume(join(tmp, `run-${run}`), reference, steps, perRun, seed * 1000 + run);
    total.runs++;
    total.kills += f.kills;
    total.duringSave += f.duringSave;
    total.beforeFirstCheckpoint += f.beforeFirstCheckpoint;
    total.checkpointsLoaded += f.checkpointsLoaded;
    if (f.identical) total.identical++;
    total.problems.push(...f.problems.map((p) => `run ${run}: ${p}`));
    console.log(`run ${run}: ${f.kills} kills (${f.duringSave} inside a save), history ${f.identical ? 'identical' : 'DIFFERENT'}${f.problems.length ? `; ${f.problems.join('; ')}` : ''}`);
  }
  const minutes = (performance.now() - started) / 60_000;
  await writeSection('crash', [
    `Run of ${new Date().toISOString().slice(0, 10)}: seed ${seed}; ${total.runs} training runs of ${steps} steps (series, \`${CRASH_RUN.join(' ')}\`), each killed with SIGKILL up to ${perRun} times at random moments (after 1 to 8 steps of a session, plus 0 to 39 ms) and resumed until it finished; ${minutes.toFixed(1)} minutes.`,
    '',
    '| kills | inside a save (a temporary file was left) | before the first checkpoint | checkpoints checked after a kill, all loading | runs whose history equals the uninterrupted run | problems |',
    '|---|---|---|---|---|---|',
    `| ${total.kills} | ${total.duringSave} | ${total.beforeFirstCheckpoint} | ${total.checkpointsLoaded} | ${total.identical} of ${total.runs} | ${total.problems.length} |`,
    '',
    total.problems.length === 0 ? 'No problems.' : ['Problems:', '', ...total.problems.slice(0, 20).map((p) => `- ${p}`)].join('\n'),
  ].join('\n'));
  process.exitCode = total.problems.length > 0 ? 1 : 0;
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
