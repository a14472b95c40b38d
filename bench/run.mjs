// `npm run bench`: the five reference workloads for this library (wasm and js backends) and its peers,
// side by side in one run, one child process per cell, one cell at a time (2 cores: never in parallel).
// Prints a table of figures, ratios and memory; writes bench/results.json and docs/performance.md.
//
//   npm run bench -- [--quick] [--only W1,W4] [--peers none|all|tfjs,brain,onnxruntime,pytorch]
//                    [--passes N] [--no-build] [--out FILE] [--doc | --no-doc]
//
// --passes N runs every cell N times and keeps each cell's fastest pass (every library alike): the
// host is shared, and a slow period that falls on one library's cell in one pass rarely falls on it
// in both. Pass p runs the same order starting p/N of the way round, so a cell's passes lie at least
// half a pass apart in time (earlier runs reversed every other pass instead: the last workload of one
// pass was then the first of the next, and one busy period took both its passes).
//
// A run of everything at the full profile writes bench/results.json and docs/performance.md; a
// partial or quick run writes bench/results-partial.json (ignored by git) unless --out says otherwise.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync, createWriteStream } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { RESULT_PREFIX } from './measure.mjs';
import { BENCH, PYTHON, ROOT, detectPytorch, ensureBuilt, ensureOnnxModel, ensureOpenblas, ensurePeers, pytorchEnv, unpinnedOpenblasEnv } from './prepare.mjs';
import { parseGemm, textReport } from './summary.mjs';
import { OWN_WORKLOADS, WORKLOAD_IDS, WORKLOADS, parseWorkloadList } from './workloads.mjs';

const ALL_PEERS = ['pytorch', 'onnxruntime', 'tfjs', 'brain'];
const USAGE = 'usage: npm run bench -- [--quick] [--only W1,W4] [--peers none|all|tfjs,brain,onnxruntime,pytorch] [--passes N] [--no-build] [--out FILE] [--doc|--no-doc]';

/** The plan's cells in pass `pass` of `passes`: the plan's order, starting pass/passes of the way round. */
function passOrder(count, pass, passes) {
  const start = Math.floor((pass * count) / passes);
  return Array.from({ length: count }, (_, i) => (start + i) % count);
}

function parseArgs(argv) {
  const opts = { profile: 'full', workloads: WORKLOAD_IDS, peers: ALL_PEERS, passes: 1, build: true, out: null, doc: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    if (arg === '--quick') opts.profile = 'quick';
    else if (arg === '--only') opts.workloads = parseWorkloadList(value());
    else if (arg === '--peers') {
      const v = value();
      opts.peers = v === 'none' ? [] : v === 'all' ? ALL_PEERS : v.split(',').map((s) => s.trim());
      const unknown = opts.peers.filter((p) => !ALL_PEERS.includes(p));
      if (unknown.length) throw new Error(`--peers: unknown peer(s) ${unknown.join(', ')} (known: ${ALL_PEERS.join(', ')}, or none, all)`);
    } else if (arg === '--passes') {
      opts.passes = Number(value());
      if (!Number.isInteger(opts.passes) || opts.passes < 1 || opts.passes > 10) throw new Error(`--passes must be an integer from 1 to 10\n${USAGE}`);
    } else if (arg === '--no-build') opts.build = false;
    else if (arg === '--out') opts.out = value();
    else if (arg === '--doc') opts.doc = true;
    else if (arg === '--no-doc') opts.doc = false;
    else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown option ${arg}\n${USAGE}`);
  }
  opts.complete = opts.profile === 'full' && opts.workloads.filter((id) => WORKLOADS[id]).length === WORKLOAD_IDS.length && opts.peers.length === ALL_PEERS.length;
  opts.out ??= join(BENCH, opts.complete ? 'results.json' : 'results-partial.json');
  opts.doc ??= opts.complete;
  return opts;
}

const LOGS = join(BENCH, 'logs');

/** Runs one cell's process; its result is the last BENCH_RESULT line, its other output goes to bench/logs/. */
function runChild(name, command, args, env, timeoutSeconds) {
  mkdirSync(LOGS, { recursive: true });
  const logPath = join(LOGS, `${name.replace(/[^\w.-]+/g, '_')}.log`);
  const logFile = createWriteStream(logPath);
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderrTail = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      logFile.write(d);
    });
    child.stderr.on('data', (d) => {
      stderrTail = (stderrTail + d).slice(-2000);
      logFile.write(d);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutSeconds * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      logFile.end();
      const line = stdout.split('\n').reverse().find((l) => l.startsWith(RESULT_PREFIX));
      if (line) return resolve(JSON.parse(line.slice(RESULT_PREFIX.length)));
      const why = timedOut ? `timed out after ${timeoutSeconds} s` : `exit ${code}`;
      resolve({ ok: false, error: `${why}: ${stderrTail.trim().split('\n').slice(-3).join(' | ') || 'no output'} (log: ${relative(ROOT, logPath)})` });
    });
  });
}

/**
 * How a cell of ours runs: `native` with the system BLAS (RECURRENT_BLAS=on: a missing addon fails
 * the cell; the build this Node loads by default), every wasm variant wasm only (RECURRENT_BLAS=off,
 * what browsers get) and with the
 * plain-SIMD build unless it is `wasm-relaxed`, `js` on the TypeScript kernels.
 */
function recurrentSetting(variant, available) {
  if (variant === 'js') return { env: { RECURRENT_BACKEND: 'js' } };
  if (variant === 'native') return { env: { RECURRENT_BLAS: 'on' } };
  if (variant === 'wasm-relaxed') return { env: { RECURRENT_BLAS: 'off' }, nodeArgs: available.relaxedSimdArgs };
  return { env: { RECURRENT_BLAS: 'off', RECURRENT_RELAXED_SIMD: 'off' } };
}

/** The Node arguments that give this Node relaxed SIMD ([] where it has it by default), or null. */
function relaxedSimdArgs() {
  const probe = "import('./dist/kernels/wasm/module.js').then((m) => process.exit(m.relaxedSimdSupported() ? 0 : 1), () => process.exit(2))";
  for (const args of [[], ['--experimental-wasm-relaxed-simd']]) {
    if (spawnSync(process.execPath, [...args, '-e', probe], { cwd: ROOT }).status === 0) return args;
  }
  return null;
}

function planCells(opts, available) {
  const cells = [];
  for (const id of opts.workloads) {
    const variants = available.threads ? ['wasm', 'wasm-1t', 'js'] : ['wasm', 'js'];
    // Generation without the stepper API, and through it with int8-quantized weights.
    if (id === 'W4') variants.splice(1, 0, 'wasm-forward', 'wasm-int8');
    // The README's synchronous training loop: the threads as the import starts them, never set.
    if (id === 'W5' && available.threads) variants.splice(1, 0, 'wasm-import');
    // The relaxed-SIMD build, where this Node has relaxed SIMD (Node 20 behind a flag).
    if (available.relaxedSimd) variants.splice(1, 0, 'wasm-relaxed');
    // The system BLAS under the wasm kernels, where the addon was built.
    if (available.native) variants.unshift('native');
    for (const variant of variants) cells.push({ lib: 'recurrent', variant, workload: id, ...recurrentSetting(variant, available) });
    if (available.pytorch) for (const t of [1, 2]) cells.push({ lib: 'pytorch', variant: `${t}t`, workload: id, threads: t });
    if (available.onnxruntime && id === 'W4') for (const variant of ['node-1t', 'node-2t', 'web']) cells.push({ lib: 'onnxruntime', variant, workload: id });
    // TF.js and brain.js have no packed sequences (W6).
    if (available.tfjs && id !== 'W6') for (const variant of ['wasm', 'cpu']) cells.push({ lib: 'tfjs', variant, workload: id });
    if (available.brain && id !== 'W6') cells.push({ lib: 'brain', variant: 'js', workload: id });
  }
  return cells;
}

function runCell(cell, profile) {
  const timeout = profile === 'quick' ? 120 : 300;
  const name = `${cell.workload}-${cell.lib}-${cell.variant}`;
  if (cell.lib === 'pytorch') {
    return runChild(name, PYTHON, [join(BENCH, 'pytorch.py'), cell.workload, String(cell.threads), profile], pytorchEnv(cell.threads), timeout);
  }
  const env = unpinnedOpenblasEnv(cell.env);
  if (cell.lib !== 'recurrent') delete env.RECURRENT_BACKEND;
  return runChild(name, process.execPath, [...(cell.nodeArgs ?? []), join(BENCH, 'cell.mjs'), cell.lib, cell.variant, cell.workload, profile], env, timeout);
}

function describe(r) {
  if (!r.ok) return `failed: ${r.error}`;
  const w = WORKLOADS[r.workload];
  const shown = r.rate * w.perStep;
  const extra = w.perStep > 1 ? ` (${r.rate.toPrecision(3)} steps/s)` : '';
  return `${shown.toPrecision(4)} ${w.unit}${extra}${r.short ? ' [short sample]' : ''}`;
}

function machineInfo() {
  const cpus = os.cpus();
  const git = (...args) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() || null;
  return {
    machine: {
      cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
      os: `${os.type()} ${os.release()}`, node: process.version, loadAverageAtStart: os.loadavg(),
    },
    library: {
      version: JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version,
      commit: git('rev-parse', '--short', 'HEAD'),
      uncommittedChanges: Boolean(git('status', '--porcelain', '--', 'src', 'assembly')),
    },
  };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const started = new Date();
  const dist = ensureBuilt({ build: opts.build });
  if (dist.stale) console.error('warning: dist/ is older than src/ or assembly/; figures are for the dist/ that exists');
  // This library's own rows (checkpointing) first, by their script; the rest only if named too.
  const checkpoint = opts.workloads.includes('C1') ? await runChild('C1-recurrent', process.execPath, [join(BENCH, 'checkpoint.mjs')], process.env, 1800) : null;
  opts.workloads = opts.workloads.filter((id) => !OWN_WORKLOADS[id]);
  if (checkpoint) {
    for (const r of checkpoint.rows ?? []) console.error(r.ok ? `C1 ${r.row}: T=${r.T} every=${r.every ?? '-'}: step ${(r.stepMs / 1000).toFixed(2)} s, heap peak ${(r.heapPeak / 2 ** 20).toFixed(1)} MiB, linear memory ${(r.memoryBytes / 2 ** 20).toFixed(1)} MiB` : `C1 ${r.row}: failed: ${r.error}`);
    if (!checkpoint.ok && !checkpoint.rows) console.error(`C1: failed: ${checkpoint.error}`);
    if (checkpoint.timeRatio) console.error(`C1: checkpointed / plain step time ${checkpoint.timeRatio.toFixed(2)}x`);
  }
  if (opts.workloads.length === 0) {
    const tmp = `${opts.out}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ schema: 1, date: started.toISOString(), ...machineInfo(), dist, checkpoint }, null, 1)}\n`);
    renameSync(tmp, opts.out);
    console.log(`wrote ${relative(ROOT, opts.out)}`);
    return;
  }

  const unavailable = {};
  const wantJsPeers = opts.peers.some((p) => ['tfjs', 'brain', 'onnxruntime'].includes(p));
  const missing = wantJsPeers ? ensurePeers() : [];
  const available = {};
  for (const p of opts.peers) available[p] = true;
  if (missing.some((m) => m.startsWith('@tensorflow/'))) unavailable.tfjs = `not installed: ${missing.join(', ')}`;
  if (missing.includes('brain.js')) unavailable.brain = 'brain.js not installed';
  if (missing.some((m) => m.startsWith('onnxruntime'))) unavailable.onnxruntime = `not installed: ${missing.filter((m) => m.startsWith('onnx')).join(', ')}`;
  // PyTorch's cells count only over OpenBLAS, the anchor the targets assume.
  const openblas = opts.peers.includes('pytorch') ? ensureOpenblas() : { available: false, reason: 'not needed' };
  const pytorch = !opts.peers.includes('pytorch') ? { available: false, reason: 'not asked (--peers)' }
    : openblas.available ? detectPytorch() : { available: false, reason: `not over OpenBLAS: ${openblas.reason}` };
  if (opts.peers.includes('pytorch') && !pytorch.available) unavailable.pytorch = `not available: ${pytorch.reason}`;
  if (available.onnxruntime && opts.workloads.includes('W4') && !unavailable.onnxruntime) {
    const model = ensureOnnxModel(pytorch);
    if (!model.available) unavailable.onnxruntime = model.reason;
  }
  for (const p of Object.keys(unavailable)) available[p] = false;
  for (const [p, why] of Object.entries(unavailable)) console.error(`${p}: ${why}`);

  // With a threaded build, our default (all cores) is shown beside one thread.
  available.threads = await import('./adapters/recurrent.mjs').then((a) => Boolean(a.threadControl()), () => false);
  available.native = existsSync(join(ROOT, 'native', 'build', 'Release', 'recurrent_blas.node'));
  available.relaxedSimdArgs = relaxedSimdArgs();
  available.relaxedSimd = available.relaxedSimdArgs !== null;
  if (!available.native) console.error('recurrent/native: the native BLAS addon is not built (npm run build:native says why)');
  const plan = planCells(opts, available);
  const memoryCells = opts.workloads.includes('W1') ? ['wasm', 'js'] : [];
  const total = opts.passes * plan.length + memoryCells.length + 1;
  const passes = opts.passes > 1 ? ` x ${opts.passes} passes` : '';
  console.error(`bench: ${plan.length} cells${passes} + ${memoryCells.length} memory + GEMM, profile ${opts.profile}, one process each, in sequence`);

  const runs = plan.map(() => []);
  let n = 0;
  for (let pass = 0; pass < opts.passes; pass++) {
    const order = passOrder(plan.length, pass, opts.passes);
    for (const i of order) {
      const cell = plan[i];
      const load = os.loadavg()[0];
      const t0 = performance.now();
      const r = await runCell(cell, opts.profile);
      const result = { ...r, lib: cell.lib, variant: cell.variant, workload: cell.workload, loadAverage: load, wallSeconds: (performance.now() - t0) / 1000 };
      runs[i].push(result);
      console.error(`[${++n}/${total}] ${cell.workload} ${cell.lib}/${cell.variant}: ${describe(result)} (${result.wallSeconds.toFixed(0)} s)`);
    }
  }
  // Each cell's fastest pass; the others stay in `passes` (rate, load) for whoever reads the JSON.
  const cells = runs.map((tries) => {
    const ok = tries.filter((t) => t.ok);
    const best = ok.length ? ok.reduce((a, b) => (b.rate > a.rate ? b : a)) : tries[tries.length - 1];
    return tries.length > 1 ? { ...best, passes: tries.map((t) => ({ ok: t.ok, rate: t.rate ?? null, loadAverage: t.loadAverage })) } : best;
  });

  const memory = [];
  for (const variant of memoryCells) {
    const env = { ...process.env, RECURRENT_BACKEND: variant === 'js' ? 'js' : '' };
    const r = await runChild(`memory-${variant}`, process.execPath, ['--expose-gc', join(BENCH, 'memory.mjs'), variant], env, 300);
    memory.push({ ...r, variant });
    console.error(`[${++n}/${total}] W1 memory ${variant}: ${r.ok ? `step growth ${(r.stepGrowth / 2 ** 20).toFixed(1)} MB = ${r.stepRatio.toFixed(2)}× need` : `failed: ${r.error}`}`);
  }

  const gemm = await runGemm(opts.profile);
  console.error(`[${++n}/${total}] GEMM: ${gemm.ok ? `peak ${gemm.peakGflops?.toFixed(1)} GFLOPS` : `failed: ${gemm.error}`}`);

  const results = {
    schema: 1, date: started.toISOString(), finished: new Date().toISOString(), profile: opts.profile, passes: opts.passes,
    passOrder: 'rotated',
    complete: opts.complete, workloads: opts.workloads, peers: opts.peers, unavailable,
    ...machineInfo(), dist, pytorch, cells, memory, gemm, ...(checkpoint ? { checkpoint } : {}),
  };
  const tmp = `${opts.out}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(results, null, 1)}\n`);
  renameSync(tmp, opts.out);
  console.log(textReport(results));
  console.log(`\nwrote ${relative(ROOT, opts.out)}`);
  if (opts.doc) {
    const { writeReport } = await import('./report.mjs');
    console.log(`wrote ${relative(ROOT, writeReport(results))}`);
  }
}

/** bench/gemm.mjs (another engineer's microbenchmark) as one more cell; its table is kept as printed. */
async function runGemm(profile) {
  mkdirSync(LOGS, { recursive: true });
  // With relaxed SIMD where this Node can have it, so that the relaxed build's FMA rows are measured.
  const args = [...(relaxedSimdArgs() ?? []), join(BENCH, 'gemm.mjs'), ...(profile === 'quick' ? ['--quick'] : [])];
  const out = await new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  writeFileSync(join(LOGS, 'gemm.log'), out.stdout + out.stderr);
  if (out.code !== 0) return { ok: false, error: `exit ${out.code}: ${out.stderr.trim().split('\n').slice(-2).join(' | ')}` };
  return { ok: true, output: out.stdout, ...parseGemm(out.stdout) };
}

main().catch((error) => {
  console.error(String(error?.message ?? error));
  process.exit(1);
});
