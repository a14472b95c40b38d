// npm run fuzz [-- --cases 100000 --seed 1 --minutes M]: the long fuzz run over every reader of outside bytes,
// one child process per reader; prints each reader's figures and writes them into
// docs/reliability.md. Exit 1 if any case failed.
import { cpus, totalmem } from 'node:os';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ReaderFigures } from '../test/helpers/fuzz.js';

// One kernel thread per process: the readers do little arithmetic; the processes are the parallelism.
process.env['RECURRENT_THREADS'] ??= '1';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};

const readerIndex = arg('reader', -1);
if (readerIndex >= 0) {
  const { fuzzReader, readers } = await import('../test/helpers/fuzz.js');
  const figures = fuzzReader(readers()[readerIndex]!, arg('cases', 0), arg('seed', 0), arg('minutes', Infinity) * 60);
  process.send!(figures, () => process.disconnect());
} else {
  const { MAX_INPUT, OUTPUT_MULTIPLE, OUTPUT_SLACK, SLOW_MS, readers } = await import('../test/helpers/fuzz.js');
  const { writeSection } = await import('./reliability-doc.js');
  const cases = arg('cases', 100_000);
  const seed = arg('seed', 1);
  // A time budget for a busy machine: each reader stops at the budget if its cases are not done.
  const minutes = arg('minutes', Infinity);
  const started = performance.now();
  const all = await Promise.all(readers().map((_, index) => new Promise<ReaderFigures>((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--reader', String(index), '--cases', String(cases), '--seed', String(seed), '--minutes', String(minutes)], { execArgv: ['--import', 'tsx'] });
    child.once('message', (figures: ReaderFigures) => {
      console.log(`${figures.reader}: ${figures.cases} cases in ${figures.seconds.toFixed(0)} s, ${figures.results} read, ${figures.errors} refused, ${figures.failures.length} failures`);
      for (const f of figures.failures.slice(0, 5)) console.log(`  ${f.kind} (case ${f.case}): ${f.detail}`);
      resolve(figures);
    });
    child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`the fuzz process of reader ${index} exited with ${code}`))));
  })));
  const took = (performance.now() - started) / 60_000;
  const n = (x: number): string => x.toLocaleString('en-US');
  const rows = all.map((f) =>
    `| ${f.reader} | ${n(f.cases)} | ${n(f.results)} | ${n(f.errors)} | ${f.failures.length} | ${f.slowestMs.toFixed(0)} | ${f.slowOnlyUnderLoad.length} | ${f.largestOutputRatio.toFixed(1)} |`);
  const underLoad = all.flatMap((f) => f.slowOnlyUnderLoad.map((s) => `${f.reader} case ${s.case}: ${s.ms} ms in the run, ${s.replayMs} ms alone (${n(s.bytes)} bytes)`));
  const failures = all.flatMap((f) => f.failures).slice(0, 20);
  await writeSection('fuzz', [
    `Run of ${new Date().toISOString().slice(0, 10)}: seed ${seed}, ${n(cases)} cases per reader${Number.isFinite(minutes) ? ` or ${minutes} minutes, whichever came first` : ''}, one process per reader, ${took.toFixed(0)} minutes; Node ${process.version}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, shared with other jobs (times are upper bounds).`,
    `A failure is an exception other than our own Error with a message, a case over ${SLOW_MS} ms, or a result over ${OUTPUT_MULTIPLE} × the input plus ${OUTPUT_SLACK / 1024} KiB; inputs are at most ${MAX_INPUT / 1e6} MB.`,
    '',
    '| reader | cases | read | refused with a message | failures | slowest case (ms) | over 1 s only under load | largest result / input |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    underLoad.length === 0 ? '' : `Cases over ${SLOW_MS} ms in the run but not when run again alone (best of 3; the machine was busy): ${underLoad.join('; ')}.`,
    '',
    failures.length === 0 ? 'No failures.' : ['Failures (reader, case, kind, detail):', '', ...failures.map((f) => `- ${f.reader}, case ${f.case}, ${f.kind}: ${f.detail}`)].join('\n'),
  ].join('\n'));
  process.exitCode = all.some((f) => f.failures.length > 0) ? 1 : 0;
}
