/**
 * Starting a helper worker: from `node:worker_threads` in Node (its start data as workerData, so the
 * helper needs nothing from this thread's event loop), from a blob URL as a Web Worker in browsers
 * (its start data as a message). Both need the shared-memory build (module.ts).
 */
import { helperSource, type HelperStart } from './worker.js';

export interface HelperWorker {
  /** Stops the worker; in Node, resolves once its thread has exited. */
  terminate(): unknown;
  /** Hears that the worker failed or exited, with why: an uncaught error in a worker must not end
   * the process, the pool just loses that helper. */
  onGone(listener: (reason: string) => void): void;
}

type NodeWorkerThreads = typeof import('node:worker_threads');

const inNode = typeof process === 'object' && process.versions?.node !== undefined;

/** Node's worker_threads now, where Node can hand out built-in modules synchronously. */
function workerThreadsNow(): NodeWorkerThreads | undefined {
  if (!inNode) return undefined;
  const getBuiltin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  return getBuiltin?.call(process, 'node:worker_threads') as NodeWorkerThreads | undefined;
}

function spawnInNode(threads: NodeWorkerThreads, start: HelperStart): HelperWorker {
  const worker = new threads.Worker(helperSource(), { eval: true, workerData: start });
  worker.unref(); // an idle helper must not keep the process alive
  return {
    terminate: () => worker.terminate(),
    onGone: (listener) => {
      worker.on('error', (error) => listener(String(error)));
      worker.on('exit', (code) => listener(`it exited with code ${code}`));
    },
  };
}

let blobUrl: string | null = null;

function spawnInBrowser(start: HelperStart): HelperWorker {
  blobUrl ??= URL.createObjectURL(new Blob([helperSource()], { type: 'text/javascript' }));
  const worker = new Worker(blobUrl);
  worker.postMessage(start);
  return {
    terminate: () => worker.terminate(),
    onGone: (listener) => worker.addEventListener('error', (event) => listener(event.message || 'the worker failed')),
  };
}

/** Starts a helper now, or returns null where that cannot be done synchronously (browsers, and
 * Node before process.getBuiltinModule): then use spawnHelper. */
export function spawnHelperNow(start: HelperStart): HelperWorker | null {
  const threads = workerThreadsNow();
  return threads ? spawnInNode(threads, start) : null;
}

export async function spawnHelper(start: HelperStart): Promise<HelperWorker> {
  if (!inNode) return spawnInBrowser(start);
  // A variable specifier keeps browser bundlers from trying to resolve the Node module.
  const specifier = 'node:worker_threads';
  const threads = workerThreadsNow() ?? ((await import(/* @vite-ignore */ specifier)) as NodeWorkerThreads);
  return spawnInNode(threads, start);
}
