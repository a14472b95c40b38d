/**
 * Exclusive lock files: one writer per folder. The lock file names its holder (pid, host, start time,
 * command); it appears complete or not at all (written to a temporary file, then hard-linked into
 * place, which fails when the name exists: the same exclusive create as O_EXCL, but a reader never
 * sees a half-written lock). A lock is taken over only when its holder is provably gone: same host,
 * and that process no longer runs. A lock of another host is never taken over: we cannot see its
 * processes.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { processIsRunning } from './files.js';

export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  started: string;
  /** What holds it, for messages ("recurrent train series"). */
  command: string;
}

/** A lock another live process holds (or one whose holder cannot be checked: another host). */
export class LockHeldError extends Error {
  /** `reason` completes "<folder> is ...": "in use by recurrent train series (pid 12 on host h, ...)". */
  constructor(
    readonly reason: string,
    readonly path: string,
    readonly holder: LockHolder | null,
  ) {
    super(`acquireLock: ${path} is ${reason}`);
    this.name = 'LockHeldError';
  }
}

export interface FileLock {
  readonly path: string;
  readonly holder: LockHolder;
  /** Removes the lock file if it is still ours. Safe to call more than once. */
  release(): void;
}

/** How many times a lost race (the lock vanished or changed between two looks) is retried. */
const ATTEMPTS = 20;

export function describeHolder(h: LockHolder): string {
  return `${h.command} (pid ${h.pid} on host ${h.host}, started ${h.started})`;
}

/**
 * Takes the lock at `path` for this process or throws LockHeldError naming the holder. `command`
 * describes this process in the lock for whoever is refused later.
 */
export function acquireLock(path: string, command: string): FileLock {
  const holder: LockHolder = { pid: process.pid, host: hostname(), started: new Date().toISOString(), command };
  const text = JSON.stringify(holder) + '\n';
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (tryCreate(path, text)) return ownedLock(path, text, holder);
    const current = readHolder(path);
    if (current === 'missing') continue; // released between our two looks: try again at once
    if (current === 'unreadable') {
      throw new LockHeldError(`locked by ${path}, which is not a lock this program wrote; if no run uses the folder, delete it`, path, null);
    }
    if (current.holder.host !== holder.host) {
      throw new LockHeldError(`in use by ${describeHolder(current.holder)}; this host cannot tell whether it still runs: if it does not, delete ${path}`, path, current.holder);
    }
    if (processIsRunning(current.holder.pid)) {
      throw new LockHeldError(`in use by ${describeHolder(current.holder)}; wait for it to end or stop it`, path, current.holder);
    }
    removeStale(path, current.text);
    pause(5 * attempt);
  }
  throw new LockHeldError(`contended: other processes keep taking and releasing ${path}`, path, null);
}

/** A short synchronous wait between attempts, so a racing process can finish what it started. */
function pause(ms: number): void {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function tryCreate(path: string, text: string): boolean {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  writeFileSync(temp, text, { flag: 'wx' });
  try {
    linkSync(temp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    rmSync(temp, { force: true });
  }
}

function readHolder(path: string): { holder: LockHolder; text: string } | 'missing' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw e;
  }
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    if (Number.isSafeInteger(h.pid) && typeof h.host === 'string' && typeof h.started === 'string' && typeof h.command === 'string') {
      return { holder: h as LockHolder, text };
    }
  } catch {
    // falls through
  }
  return 'unreadable';
}

/**
 * Removes a lock whose holder is gone, unless it changed since we read it (another process took it
 * over first). Two processes clearing the same stale lock could otherwise delete each other's new
 * one: the removal is itself guarded by an exclusive file, and the lock is read again under it.
 */
function removeStale(path: string, staleText: string): void {
  const guard = `${path}.takeover`;
  const guardText = JSON.stringify({ pid: process.pid, host: hostname() });
  try {
    writeFileSync(guard, guardText, { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    clearDeadGuard(guard);
    return; // someone else is taking over: look again
  }
  try {
    let now: string | null = null;
    try {
      now = readFileSync(path, 'utf8');
    } catch {
      // gone already
    }
    if (now === staleText) unlinkSync(path);
  } finally {
    rmSync(guard, { force: true });
  }
}

/** A takeover guard left by a process killed in the middle of a takeover. */
function clearDeadGuard(guard: string): void {
  try {
    const g = JSON.parse(readFileSync(guard, 'utf8')) as { pid?: number; host?: string };
    if (g.host === hostname() && typeof g.pid === 'number' && !processIsRunning(g.pid)) rmSync(guard, { force: true });
  } catch {
    // missing (done meanwhile) or half-written (its writer is between two calls): look again
  }
}

function ownedLock(path: string, text: string, holder: LockHolder): FileLock {
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    process.off('exit', release);
    try {
      if (readFileSync(path, 'utf8') === text) unlinkSync(path);
    } catch {
      // already gone (the folder was removed by its owner)
    }
  };
  // A second Ctrl-C exits at once; the lock goes with the process rather than waiting to be judged stale.
  process.on('exit', release);
  return { path, holder, release };
}
