// The browser side of test/browser.test.ts: runs the workload on the page's main thread and leaves
// the result (or the error) where the test reads it.
import * as lib from '../../src/index.js';
import { runWorkload } from './workload.js';

declare global {
  interface Window {
    workloadDone?: { result?: unknown; error?: string; isolated: boolean };
  }
}

const query = new URLSearchParams(location.search);
const threads = Number(query.get('threads') ?? '1');
// relaxed=0: the plain build, to compare with a Node that lacks relaxed SIMD.
runWorkload(lib, threads, query.get('relaxed') !== '0').then(
  (result) => (window.workloadDone = { result, isolated: crossOriginIsolated }),
  (error: unknown) => (window.workloadDone = { error: String((error as Error)?.stack ?? error), isolated: crossOriginIsolated }),
);
