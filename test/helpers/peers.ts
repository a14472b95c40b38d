// The runtimes tests compare against, installed into test/peers/node_modules on first use (npm ci
// from test/peers/package-lock.json). ONNXRUNTIME_NODE_INSTALL=skip: onnxruntime-node ships its CPU
// binary, and its install script would otherwise try to download GPU files. Two test files may ask
// at once; the install runs under a lock directory so only one of them installs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT } from './cli.js';

const PEERS = join(ROOT, 'test', 'peers');
const LOCK = join(PEERS, '.installing');

const installed = (name: string): boolean => existsSync(join(PEERS, 'node_modules', name, 'package.json'));

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function install(name: string): void {
  for (let waited = 0; ; waited += 500) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // Another test process installs; a lock older than 10 minutes was left by a killed one.
      const lock = statSync(LOCK, { throwIfNoEntry: false });
      if (lock && Date.now() - lock.mtimeMs > 600_000) rmSync(LOCK, { recursive: true, force: true });
      if (installed(name)) return;
      if (waited > 900_000) throw new Error(`test peers: gave up waiting for ${LOCK} after 15 minutes`);
      sleep(500);
    }
  }
  try {
    if (installed(name)) return;
    const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
      cwd: PEERS, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
    });
    if (r.status !== 0) throw new Error(`test peers: npm ci in test/peers failed (exit ${r.status}): ${r.stderr.slice(-2000)}`);
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/** Loads a peer package (installing the peers first if needed). */
export function loadPeer<T>(name: string): T {
  if (!installed(name)) install(name);
  return createRequire(join(PEERS, 'package.json'))(name) as T;
}
