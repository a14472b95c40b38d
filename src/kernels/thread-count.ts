/**
 * Which thread counts are accepted, from setThreads and from the RECURRENT_THREADS variable.
 */

/** The most threads: a job has at most 4 chunks per thread, and chunk indices have 10 bits. */
export const MAX_THREADS = 128;

/** How a received value is shown in an error: a string as quoted text, since '2' looks like 2. */
function received(value: unknown): string {
  if (typeof value === 'string') return `${JSON.stringify(value)} (a string)`;
  if (typeof value === 'number' || value === null || value === undefined) return String(value);
  return `a value of type ${typeof value}`;
}

/** `threads` if it is a positive integer up to MAX_THREADS; else throws, naming `caller`. */
export function checkThreadCount(caller: string, threads: unknown): number {
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1) {
    throw new RangeError(`${caller}: threads must be a positive integer, got ${received(threads)}`);
  }
  if (threads > MAX_THREADS) throw new RangeError(`${caller}: threads must be at most ${MAX_THREADS}, got ${threads}`);
  return threads;
}

/** RECURRENT_THREADS as a count, or why it is not one. */
export function parseThreadsVariable(text: string): { threads: number } | { error: string } {
  const trimmed = text.trim();
  const threads = /^\d+$/.test(trimmed) ? Number(trimmed) : NaN;
  if (threads >= 1 && threads <= MAX_THREADS) return { threads };
  return { error: `RECURRENT_THREADS must be a whole number from 1 to ${MAX_THREADS}, got ${JSON.stringify(text)}` };
}
