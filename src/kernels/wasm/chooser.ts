/**
 * Whether to share each call with the helper threads or run it alone on the calling thread, chosen
 * by timing both ways in turn (see Chooser). Results are the same bits either way.
 */

/** The first exploit phase (ms): long enough to time every shape of a training step several times. */
const EXPLOIT_FIRST_MS = 1000;
/** The longest exploit phase reached by doubling after confirmations: a change of load is noticed within seconds. */
const EXPLOIT_MAX_MS = 8000;
/** A probe phase (ms): short, because the probed way is the one believed slower. */
const PROBE_MS = 250;
/** A probe's limit while it waits to time every shape the exploit phase ran (a long training step). */
const PROBE_MAX_MS = 3000;
/** Calls a phase needs before it may end, so that short calls are timed often enough to compare. */
const MIN_PHASE_CALLS = 64;
/** ...or this many long calls: a step of whole time loops is a few long calls, and would otherwise probe for many steps. */
const MIN_PHASE_LONG_CALLS = 8;
/** Switch only when the probed way is clearly faster (10%): timings on a shared host are noisy. */
const SWITCH_IF_FASTER = 0.9;
/** A confirmed choice's next exploit phase lasts at least this many probes, so a long probe costs a few percent. */
const EXPLOIT_PER_PROBE = 32;
/** ...but no longer than this (ms): a change of load is still noticed within a minute. */
const EXPLOIT_LONGEST_MS = 60_000;
/** A call this long (ms) is timed even when first of its shape in a phase: waking a helper cannot bias it. */
const LONG_CALL_MS = 1;

/**
 * Helpers pay only when a core is free for them. On a busy machine a helper gets little time, the
 * caller takes almost all chunks anyway, and the helper's spinning between jobs takes CPU time from
 * the caller: sharing then makes training slower, not faster (as slow as half the speed with two
 * other busy processes on two cores). And what sharing gains shows only when it is steady: the
 * helper awake, its caches warm. So the choice is measured in phases: all shareable work goes one
 * way (shared, or alone) for an exploit phase, then the other way for a short probe phase; each job
 * shape's mean time in both is weighted by how often the exploit phase ran it, and the faster way
 * wins, clearly (by 10%), or the current way stays. A confirmed choice earns a longer phase before
 * the next probe: twice the last, and at least 32 times the probe, so that probing costs little
 * however long the steps are. Results are the same either way.
 */
export class Chooser {
  /** Off: always share (tests and benchmarks that must see the shared path). */
  enabled = true;
  private sharing = true;
  private probing = false;
  private phaseStart = 0;
  private phaseEnd = -1;
  private phaseCalls = 0;
  private phaseLongCalls = 0;
  private exploitMs = EXPLOIT_FIRST_MS;
  private current = new Map<string, PhaseTimes>();
  private exploited = new Map<string, PhaseTimes>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Whether to share the next call. */
  share(): boolean {
    if (!this.enabled) return true;
    const now = this.now();
    if (this.phaseEnd < 0) this.phaseEnd = now + this.exploitMs;
    else if (now >= this.phaseEnd && this.enoughCalls() && (!this.probing || this.probeCovers(now))) this.endPhase(now);
    this.phaseCalls++;
    return this.sharing;
  }

  private enoughCalls(): boolean {
    return this.phaseCalls >= MIN_PHASE_CALLS || this.phaseLongCalls >= MIN_PHASE_LONG_CALLS;
  }

  /** Whether the probe has timed every shape the exploit phase ran (a training step may be longer
   * than the probe), or has run long enough. */
  private probeCovers(now: number): boolean {
    if (now >= this.phaseEnd - PROBE_MS + PROBE_MAX_MS) return true;
    for (const [key, e] of this.exploited) if (e.calls > 0 && !(this.current.get(key)?.calls)) return false;
    return true;
  }

  /** A call of shape `key` took `ms`, shared or alone. The first call of a shape in a phase is not
   * counted: it may wake a sleeping helper, or find caches filled by the other way. */
  record(key: string, shared: boolean, ms: number): void {
    if (!this.enabled || shared !== this.sharing) return;
    if (ms >= LONG_CALL_MS) this.phaseLongCalls++;
    const t = this.current.get(key);
    if (!t) {
      this.current.set(key, ms >= LONG_CALL_MS ? { sum: ms, calls: 1 } : { sum: 0, calls: 0 });
      return;
    }
    t.sum += ms;
    t.calls++;
  }

  private endPhase(now: number): void {
    if (!this.probing) {
      this.exploited = this.current;
      this.startPhase(now, !this.sharing, PROBE_MS, true);
      return;
    }
    // The probe is over: the time the exploit phase's mix of calls would take either way.
    let exploitTime = 0;
    let probeTime = 0;
    for (const [key, e] of this.exploited) {
      const p = this.current.get(key);
      if (!p || p.calls === 0 || e.calls === 0) continue;
      exploitTime += e.sum; // = e.calls * (e.sum / e.calls)
      probeTime += e.calls * (p.sum / p.calls);
    }
    const better = probeTime > 0 && probeTime < SWITCH_IF_FASTER * exploitTime;
    const probeMs = now - this.phaseStart;
    if (better) this.exploitMs = EXPLOIT_FIRST_MS;
    else this.exploitMs = Math.max(Math.min(EXPLOIT_MAX_MS, 2 * this.exploitMs), Math.min(EXPLOIT_LONGEST_MS, EXPLOIT_PER_PROBE * probeMs));
    this.startPhase(now, better ? this.sharing : !this.sharing, this.exploitMs, false);
  }

  private startPhase(now: number, sharing: boolean, ms: number, probing: boolean): void {
    this.sharing = sharing;
    this.probing = probing;
    this.phaseStart = now;
    this.phaseEnd = now + ms;
    this.phaseCalls = 0;
    this.phaseLongCalls = 0;
    this.current = new Map();
  }
}

interface PhaseTimes {
  /** Total time (ms) and number of the counted calls of one shape in one phase. */
  sum: number;
  calls: number;
}
