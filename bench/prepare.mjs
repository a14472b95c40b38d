// What a bench run needs before its first cell: the library built into dist/ (what ships), the peer
// libraries installed from bench/package.json (850 MB, so never by the project's own npm ci), the
// W4 ONNX model, and a Python with PyTorch. Each step says what it did or why a peer is unavailable.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH = dirname(fileURLToPath(import.meta.url));
export const ROOT = dirname(BENCH);
export const PYTHON = '/usr/bin/python3';
export const OPENBLAS_DIR = '/usr/lib/x86_64-linux-gnu/openblas-pthread';
const ONNX_MODEL = join(BENCH, 'models', 'w4.onnx');

const log = (msg) => process.stderr.write(`${msg}\n`);

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds dist/ when it is missing or older than src/ or assembly/; keeps an old dist/ if the build fails. */
export function ensureBuilt({ build = true } = {}) {
  const entry = join(ROOT, 'dist', 'index.js');
  const sources = Math.max(...['src', 'assembly'].map((d) => (existsSync(join(ROOT, d)) ? newestMtime(join(ROOT, d)) : 0)));
  const stale = !existsSync(entry) || statSync(entry).mtimeMs < sources;
  let buildFailed = false;
  if (stale && build) {
    log(existsSync(entry) ? 'dist/ is older than the sources: npm run build' : 'dist/ is missing: npm run build');
    const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0 && !existsSync(entry)) throw new Error('npm run build failed and there is no dist/ to measure');
    if (r.status !== 0) log('warning: npm run build failed; measuring the dist/ already there');
    buildFailed = r.status !== 0;
  }
  const nowStale = !existsSync(entry) || statSync(entry).mtimeMs < sources;
  return { builtAt: new Date(statSync(entry).mtimeMs).toISOString(), stale: nowStale, buildFailed };
}

const PEERS = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', 'onnxruntime-node', 'onnxruntime-web', 'brain.js'];

// Looked up on disk: some peers' exports maps hide their package.json from require.resolve.
const peersResolve = () => PEERS.filter((name) => !existsSync(join(BENCH, 'node_modules', name, 'package.json')));

/** Installs the peers on first use: npm ci from bench/package-lock.json (onnxruntime-node's own
 * downloads skipped: it ships its CPU binaries). Returns the names still missing. */
export function ensurePeers() {
  let missing = peersResolve();
  if (missing.length === 0) return [];
  log(`installing the peer libraries into bench/node_modules (about 850 MB; missing: ${missing.join(', ')})`);
  const command = existsSync(join(BENCH, 'package-lock.json')) ? 'ci' : 'install';
  const r = spawnSync('npm', [command, '--no-audit', '--no-fund'], {
    cwd: BENCH, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
  if (r.status !== 0) log(`warning: npm ${command} in bench/ failed (exit ${r.status})`);
  missing = peersResolve();
  return missing;
}

/**
 * OpenBLAS's pthread build (Debian's libopenblas0-pthread), which PyTorch's cells run over
 * (pytorchEnv) and our native cells link: installed with apt-get when it is missing and this runs as
 * root, so that the anchor is never left to whatever BLAS the machine happens to have.
 */
export function ensureOpenblas() {
  if (existsSync(OPENBLAS_DIR)) return { available: true };
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return { available: false, reason: `${OPENBLAS_DIR} is missing; install libopenblas0-pthread (apt-get, as root)` };
  }
  log('installing libopenblas0-pthread with apt-get, so that PyTorch runs over OpenBLAS');
  const r = spawnSync('apt-get', ['install', '-y', '-qq', 'libopenblas0-pthread'], {
    stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (r.status === 0 && existsSync(OPENBLAS_DIR)) return { available: true, installed: true };
  return { available: false, reason: `apt-get install libopenblas0-pthread failed (exit ${r.status ?? r.error})` };
}

/** Python with PyTorch, or why not. */
export function detectPytorch() {
  if (!existsSync(PYTHON)) return { available: false, reason: `${PYTHON} not found` };
  const r = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', env: pytorchEnv(1) });
  if (r.status !== 0) return { available: false, reason: `${PYTHON} has no torch (${(r.stderr || '').trim().split('\n').pop()})` };
  return { available: true, version: r.stdout.trim(), openblas: existsSync(OPENBLAS_DIR) ? OPENBLAS_DIR : null };
}

/**
 * The environment without the machine's OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, which pin an older
 * kernel that is slower here: every cell that runs OpenBLAS (PyTorch's, and our native-BLAS cells)
 * gets the kernel OpenBLAS picks for this CPU, so both sides of a comparison run the same one.
 */
export function unpinnedOpenblasEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

/**
 * PyTorch's environment: OpenBLAS's pthread build first on the library path, its threads and OpenMP's
 * both set to the cell's count, OpenMP's idle threads passive (not spinning on the other core), the
 * machine's kernel pin dropped (unpinnedOpenblasEnv); pytorch.py reports which kernel OpenBLAS picks.
 */
export function pytorchEnv(threads) {
  const env = unpinnedOpenblasEnv({ OMP_WAIT_POLICY: 'PASSIVE', OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) });
  if (existsSync(OPENBLAS_DIR)) env.LD_LIBRARY_PATH = [OPENBLAS_DIR, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  return env;
}

/** The ONNX model of W4: committed, or made by tools/make_w4_onnx.py when PyTorch is here. */
export function ensureOnnxModel(pytorch) {
  if (existsSync(ONNX_MODEL)) return { available: true, path: 'bench/models/w4.onnx' };
  if (!pytorch.available) return { available: false, reason: `bench/models/w4.onnx is missing and making it needs PyTorch (${pytorch.reason})` };
  log('making bench/models/w4.onnx with tools/make_w4_onnx.py');
  const r = spawnSync(PYTHON, [join(ROOT, 'tools', 'make_w4_onnx.py'), ONNX_MODEL], { stdio: ['ignore', 'inherit', 'inherit'] });
  return r.status === 0 && existsSync(ONNX_MODEL)
    ? { available: true, path: 'bench/models/w4.onnx', made: true }
    : { available: false, reason: 'tools/make_w4_onnx.py failed' };
}
