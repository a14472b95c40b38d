// `npm run bench:compare -- <git ref> [--only W1,W3] [--blocks N] [--block-ms MS] [--forced]`: this
// tree's build against another commit's, both loaded in ONE process and run in alternating short
// blocks of steps (A B, B A, A B, ...), reporting the median of the per-block speed ratios.
//
// Why: the host is shared, and its speed drifts by 30% or more over minutes, so two runs made one after
// the other cannot tell a 3% change from noise (and neither can `npm run bench`, whose cells run
// minutes apart). Blocks a fraction of a second long, alternated, meet the same host conditions; the
// median ratio over 20 blocks then moves with the code, not with the host.
//
// The other commit is exported into a temporary folder (once per commit), given this tree's
// node_modules and built there. Its bench/adapters/recurrent.mjs must offer setup() and info() as
// this one does. Both builds run the wasm backend on all cores; --forced turns the adaptive thread
// choice off in both (all large enough work shared), to compare what sharing does without its probes.
// A build with the native BLAS addon uses it as RECURRENT_BLAS says (default: where built), and one
// with the relaxed-SIMD build uses it where this Node has relaxed SIMD (Node 20: run
// `node --experimental-wasm-relaxed-simd bench/compare.mjs ...`); RECURRENT_BLAS=off and
// RECURRENT_RELAXED_SIMD=off compare the plain wasm paths.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, ensureBuilt } from './prepare.mjs';
import { WORKLOAD_IDS, WORKLOADS, parseWorkloadList } from './workloads.mjs';

const USAGE = 'usage: npm run bench:compare -- <git ref> [--only W1,W3] [--blocks N] [--block-ms MS] [--forced]';

function parseArgs(argv) {
  const opts = { ref: null, only: WORKLOAD_IDS, blocks: 20, blockMs: 400, forced: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    if (arg === '--only') opts.only = parseWorkloadList(value());
    else if (arg === '--blocks') {
      opts.blocks = Number(value());
      if (!Number.isInteger(opts.blocks) || opts.blocks < 4 || opts.blocks > 1000) throw new Error(`--blocks must be an integer from 4 to 1000\n${USAGE}`);
    } else if (arg === '--block-ms') {
      opts.blockMs = Number(value());
      if (!(opts.blockMs >= 10 && opts.blockMs <= 60_000)) throw new Error(`--block-ms must be from 10 to 60000\n${USAGE}`);
    } else if (arg === '--forced') opts.forced = true;
    else if (arg === '--help' || arg === '-h') throw new Error(USAGE);
    else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}\n${USAGE}`);
    else if (opts.ref === null) opts.ref = arg;
    else throw new Error(`one git ref only, got ${opts.ref} and ${arg}\n${USAGE}`);
  }
  if (opts.ref === null) throw new Error(`which commit to compare against?\n${USAGE}`);
  return opts;
}

function git(args) {
  const r = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout.trim();
}

/** The build of commit `sha` in a temporary folder, made on first use; returns its root. */
function builtCommit(sha) {
  const dir = join(os.tmpdir(), `recurrent-compare-${sha.slice(0, 12)}`);
  const done = join(dir, '.compare-built');
  if (existsSync(done)) {
    // The build may come from another checkout whose node_modules is gone since (a removed worktree).
    const modules = join(dir, 'node_modules');
    if (!existsSync(modules)) {
      rmSync(modules, { force: true });
      symlinkSync(join(ROOT, 'node_modules'), modules, 'dir');
    }
    return dir;
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const exported = spawnSync('sh', ['-c', `git archive --format=tar ${sha} | tar -x -C "${dir}"`], { cwd: ROOT, stdio: 'inherit' });
  if (exported.status !== 0) throw new Error(`could not export ${sha} into ${dir}`);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  console.error(`bench:compare: building ${sha.slice(0, 12)} in ${dir}`);
  const built = spawnSync('npm', ['run', 'build'], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
  if (built.status !== 0) throw new Error(`npm run build failed for ${sha.slice(0, 12)} (in ${dir})`);
  writeFileSync(done, `${sha}\n`);
  return dir;
}

/** One build's W-workload step functions, on the wasm backend with all cores. */
async function loadSide(root, label, forced) {
  const adapterPath = join(root, 'bench', 'adapters', 'recurrent.mjs');
  if (!existsSync(adapterPath)) throw new Error(`${label}: ${adapterPath} is missing (a commit older than the benchmark adapters?)`);
  const adapter = await import(pathToFileURL(adapterPath).href);
  if (typeof adapter.setup !== 'function' || typeof adapter.info !== 'function') {
    throw new Error(`${label}: its bench/adapters/recurrent.mjs has no setup() and info() to call`);
  }
  const info = await adapter.info('wasm');
  if (forced) {
    const kernels = await import(pathToFileURL(join(root, 'dist', 'kernels', 'index.js')).href);
    kernels.kernelsFor('float32').adaptiveThreads = false;
  }
  return { label, adapter, info };
}

/** How long each side runs before the blocks that count (ms). */
const WARM_MS = 3000;

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Milliseconds that `count` calls of `step` take. */
async function timeCalls(step, count) {
  const start = performance.now();
  for (let i = 0; i < count; i++) await step();
  return performance.now() - start;
}

/**
 * Alternating blocks of the same number of calls on both sides; per block, the speed of `ours` over
 * `base` (base's time / ours'). Returns rates (calls/s) and ratios, one per block.
 */
async function compareSteps(base, ours, { blocks, blockMs, warmMs = WARM_MS }) {
  // Warm up both in alternation until each has run warmMs (the JIT tiers up over thousands of calls
  // of a small step; the thread chooser starts with a probe), then size a block from the slower
  // side's pace in the last warm-up round.
  let perCall = 0;
  for (let spent = 0, count = 1; spent < warmMs; count *= 2) {
    const ms = [await timeCalls(base, count), await timeCalls(ours, count)];
    spent += Math.min(...ms);
    perCall = Math.max(...ms) / count;
  }
  const calls = Math.max(1, Math.round(blockMs / Math.max(perCall, 1e-3)));
  const rates = { base: [], ours: [] };
  const ratios = [];
  for (let b = 0; b < blocks; b++) {
    const order = b % 2 === 0 ? ['base', 'ours'] : ['ours', 'base'];
    const ms = {};
    for (const side of order) ms[side] = await timeCalls(side === 'base' ? base : ours, calls);
    rates.base.push((calls * 1000) / ms.base);
    rates.ours.push((calls * 1000) / ms.ours);
    ratios.push(ms.base / ms.ours);
  }
  return { calls, rates, ratios };
}

function summarize(id, result) {
  const w = WORKLOADS[id];
  const per = w.perStep ?? 1;
  const faster = result.ratios.filter((r) => r > 1).length;
  const ratio = median(result.ratios);
  return {
    id,
    base: median(result.rates.base) * per,
    ours: median(result.rates.ours) * per,
    unit: w.unit,
    ratio,
    min: Math.min(...result.ratios),
    max: Math.max(...result.ratios),
    faster,
    blocks: result.ratios.length,
  };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const sha = git(['rev-parse', '--verify', `${opts.ref}^{commit}`]);
  const head = git(['rev-parse', 'HEAD']);
  const dirty = git(['status', '--porcelain', '--', 'src', 'assembly']) !== '';
  ensureBuilt();
  const baseRoot = builtCommit(sha);
  const base = await loadSide(baseRoot, opts.ref, opts.forced);
  const ours = await loadSide(ROOT, 'this tree', opts.forced);
  console.log(`bench:compare: this tree (${head.slice(0, 12)}${dirty ? ' + uncommitted changes' : ''}, ${ours.info.threads ?? '?'} threads) against ${opts.ref} (${sha.slice(0, 12)}, ${base.info.threads ?? '?'} threads)`);
  console.log(`${opts.blocks} alternating blocks of ~${opts.blockMs} ms per workload, one process${opts.forced ? ', sharing forced on (adaptive threads off)' : ''}\n`);
  console.log(`${'workload'.padEnd(10)}${'base'.padEnd(18)}${'this tree'.padEnd(18)}${'speed ratio (median)'.padEnd(22)}${'range'.padEnd(16)}this tree faster`);
  for (const id of opts.only) {
    // A workload newer than the base commit (W6 before packed sequences) has nothing to compare with.
    const baseStep = await base.adapter.setup(id, 'wasm').catch((error) => {
      console.log(`${id.padEnd(10)}not measured: ${opts.ref} cannot run it (${error instanceof Error ? error.message : error})`);
      return null;
    });
    if (!baseStep) continue;
    const result = await compareSteps(baseStep, await ours.adapter.setup(id, 'wasm'), opts);
    const s = summarize(id, result);
    const fmt = (v) => `${v >= 1000 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(4)} ${s.unit}`.padEnd(18);
    console.log(
      `${id.padEnd(10)}${fmt(s.base)}${fmt(s.ours)}${`${s.ratio.toFixed(3)}x`.padEnd(22)}${`${s.min.toFixed(3)}-${s.max.toFixed(3)}`.padEnd(16)}${s.faster} of ${s.blocks} blocks`,
    );
  }
  // Done: end now rather than wait on either build's helper threads.
  process.exit(0);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
