// npm run fuzz [-- --cases 100000 --seed 1]: the long fuzz run over every reader of outside bytes;
// prints progress and writes its figures into docs/reliability.md. Exit 1 if any case failed.
import { cpus, totalmem } from 'node:os';
import { fuzzReader, MAX_INPUT, OUTPUT_MULTIPLE, OUTPUT_SLACK, readers, SLOW_MS, type ReaderFigures } from '../test/helpers/fuzz.js';
import { writeSection } from './reliability-doc.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const cases = arg('cases', 100_000);
const seed = arg('seed', 1);

const all: ReaderFigures[] = [];
for (const reader of readers()) {
  const figures = fuzzReader(reader, cases, seed);
  all.push(figures);
  console.log(`${figures.reader}: ${figures.cases} cases in ${figures.seconds.toFixed(0)} s, ${figures.results} read, ${figures.errors} refused, ${figures.failures.length} failures`);
  for (const f of figures.failures.slice(0, 5)) console.log(`  ${f.kind} (case ${f.case}): ${f.detail}`);
}

const rows = all.map((f) =>
  `| ${f.reader} | ${f.cases.toLocaleString('en-US')} | ${f.results.toLocaleString('en-US')} | ${f.errors.toLocaleString('en-US')} | ${f.failures.length} | ${f.slowestMs.toFixed(0)} | ${f.largestOutputRatio.toFixed(1)} | ${f.seconds.toFixed(0)} |`);
const failures = all.flatMap((f) => f.failures).slice(0, 20);
await writeSection('fuzz', [
  `Run of ${new Date().toISOString().slice(0, 10)}: seed ${seed}, up to ${cases.toLocaleString('en-US')} cases per reader, Node ${process.version}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB (a machine shared with other jobs: times are upper bounds).`,
  `A failure is an exception other than our own Error with a message, a case over ${SLOW_MS} ms, or a result over ${OUTPUT_MULTIPLE} × the input plus ${OUTPUT_SLACK / 1024} KiB; inputs are at most ${MAX_INPUT / 1e6} MB.`,
  '',
  '| reader | cases | read | refused with a message | failures | slowest case (ms) | largest result / input | seconds |',
  '|---|---|---|---|---|---|---|---|',
  ...rows,
  '',
  failures.length === 0 ? 'No failures.' : ['Failures (reader, case, kind, detail):', '', ...failures.map((f) => `- ${f.reader}, case ${f.case}, ${f.kind}: ${f.detail}`)].join('\n'),
].join('\n'));
process.exitCode = all.some((f) => f.failures.length > 0) ? 1 : 0;
