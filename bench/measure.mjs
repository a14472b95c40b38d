// The timing harness every JavaScript cell uses (bench/pytorch.py mirrors it): warm up, then time
// rounds of units until the budget is spent, and report the median round's rate. Rounds, not single
// calls, so that a 20 µs step is timed over ~0.2 s; the median, because this machine is shared and noisy.
import { readFileSync, writeFileSync } from 'node:fs';

export const PROFILES = {
  // budget: seconds of timed rounds per cell; slowCutoff: a first call longer than this is reported
  // alone (a short sample) rather than repeated, so that peers taking a minute per step stay time-boxed.
  full: { warmup: 4, budget: 10, round: 0.25, slowCutoff: 20, maxRounds: 200 },
  quick: { warmup: 0.5, budget: 2.5, round: 0.1, slowCutoff: 6, maxRounds: 100 },
};

const now = () => performance.now() / 1000;

async function call(unit) {
  const r = unit();
  if (r !== undefined && typeof r.then === 'function') await r;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Times `unit` (one step, or one token, or for libraries that train one sequence at a time one
 * sequence: then `unitsPerStep` converts to equivalent steps). Returns units per second.
 */
export async function measure(unit, profile, { unitsPerStep = 1 } = {}) {
  const p = PROFILES[profile];
  const start = now();
  await call(unit);
  const first = now() - start;
  if (first > p.slowCutoff) {
    return { rate: 1 / first, rounds: [1 / first], units: 1, seconds: first, short: true, note: 'one call, the first (it includes warm-up)', first };
  }
  // Round size from the mean warm-up call after the first (one slow call, a GC pause, must not shrink the rounds).
  let warmUnits = 0;
  const warmStart = now();
  while (now() - start < p.warmup) {
    await call(unit);
    warmUnits++;
  }
  const perUnit = warmUnits ? (now() - warmStart) / warmUnits : first;
  let perRound = Math.max(1, Math.ceil(p.round / Math.max(perUnit, 1e-7)));
  const rounds = [];
  let units = 0;
  const measureStart = now();
  while (rounds.length === 0 || (now() - measureStart < p.budget && rounds.length < p.maxRounds)) {
    const t = now();
    for (let i = 0; i < perRound; i++) await call(unit);
    const seconds = now() - t;
    rounds.push(perRound / seconds);
    units += perRound;
    // Rounds follow the unit's speed once warm (a JIT that settles late makes warm-up calls slow).
    perRound = Math.max(1, Math.min(4 * perRound, Math.round((perRound * p.round) / seconds)));
  }
  const short = rounds.length < 5;
  const what = unitsPerStep > 1 ? `${units} sequences = ${(units / unitsPerStep).toFixed(2)} steps` : `${units} units`;
  return {
    rate: median(rounds), rounds, units, seconds: now() - measureStart, short, first,
    note: short ? `short sample: ${what} in ${rounds.length} round(s)` : undefined,
  };
}

/** RSS and its high-water mark from /proc (Linux); null elsewhere. */
export function procMemory() {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024;
    return { rss: kb('VmRSS'), peakRss: kb('VmHWM') };
  } catch {
    return null;
  }
}

/** Resets the RSS high-water mark (Linux ≥ 4.0: writing 5 to clear_refs), so a later peak belongs to what ran since. */
export function resetPeakRss() {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

export const RESULT_PREFIX = 'BENCH_RESULT ';

/** What a cell prints last: one line the runner picks out of whatever else the libraries log. */
export function emit(result) {
  process.stdout.write(`\n${RESULT_PREFIX}${JSON.stringify(result)}\n`);
}
