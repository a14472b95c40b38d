// Spawns the CLI from source as a user would run it, collecting its output.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `onStdout` sees the output so far after each chunk (e.g. to interrupt the run). */
export function runCli(args: string[], onStdout?: (stdout: string, child: ChildProcess) => void): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      onStdout?.(stdout, child);
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/**
 * A run folder of a tiny text model (2 steps on a repeated sentence), trained by the CLI in a fresh
 * temporary folder `dir` before the file's tests: for tests of the commands that use a trained run.
 */
export async function trainTinyTextRun(dir: string): Promise<string> {
  const corpus = join(dir, 'corpus.txt');
  writeFileSync(corpus, 'the cat sat on the mat. the dog sat on the log.\n'.repeat(40));
  const run = join(dir, 'run');
  const result = await runCli(['train', 'text', '--data', corpus, '--steps', '2', '--hidden', '8', '--seq-len', '16', '--batch', '4', '--out', run]);
  if (result.code !== 0) throw new Error(`training the tiny text run failed: ${result.stderr}`);
  return run;
}
