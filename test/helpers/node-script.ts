// Runs a script in a fresh Node process, for tests of what happens at import or of what could
// otherwise hang the test process itself: a child that overruns its deadline is killed and
// reported, never waited for.
import { spawn } from 'node:child_process';
import { ROOT } from './cli.js';

export const TSX = ['--import', 'tsx'];

export interface ScriptRun {
  code: number | null;
  /** Set when the child was killed, by the deadline or otherwise. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `node <args>` in the repository (TSX: the arguments that let it import TypeScript sources),
 * killed after `deadlineMs`. `env` replaces the environment's variables it names (undefined removes one). */
export function runNodeScript(args: string[], deadlineMs: number, env: Record<string, string | undefined> = {}): Promise<ScriptRun> {
  const childEnv = { ...process.env };
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[name];
    else childEnv[name] = value;
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: childEnv, timeout: deadlineMs, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** The last line of a run's output as JSON (what the scripts print), failing with the whole output. */
export function lastJsonLine<T>(run: ScriptRun, what: string): T {
  const line = run.stdout.trim().split('\n').pop() ?? '';
  if (run.code !== 0 || !line.startsWith('{')) {
    throw new Error(`${what}: exit code ${run.code}, signal ${run.signal}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
  return JSON.parse(line) as T;
}
