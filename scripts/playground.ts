/**
 * Builds the browser playground (web/) with esbuild into a static folder any host can serve, and
 * serves it on localhost with the headers that make the page cross-origin isolated (shared memory,
 * hence two kernel threads).
 *
 *   npm run playground                       build into build/playground and serve it
 *   npm run playground -- --build-only       build only (add --out DIR to choose the folder)
 *   npm run playground -- --port 8080 --no-isolation
 */
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { FETCHED_DATA } from '../web/fetched-data.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DEFAULT_OUT = join(ROOT, 'build', 'playground');

/** Bundles the page and the worker (with the kernels' WebAssembly inlined) and copies the HTML. */
export async function buildPlayground(outDir = DEFAULT_OUT): Promise<string> {
  const out = resolve(outDir);
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  await build({
    entryPoints: [join(ROOT, 'web', 'main.ts'), join(ROOT, 'web', 'worker.ts')],
    outdir: out,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    loader: { '.csv': 'text', '.txt': 'text', '.mid': 'binary' },
    logLevel: 'warning',
  });
  await copyFile(join(ROOT, 'web', 'index.html'), join(out, 'index.html'));
  // Data the worker fetches only when a run needs it, at its path under data/.
  for (const path of FETCHED_DATA) {
    await mkdir(dirname(join(out, path)), { recursive: true });
    await copyFile(join(ROOT, 'data', path), join(out, path));
  }
  return out;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
};

export interface ServeOptions {
  port?: number;
  host?: string;
  /** Send COOP/COEP (default true); false shows how the page runs single-threaded without them. */
  isolated?: boolean;
}

/** Serves the files of `dir` (and nothing outside it). */
export async function servePlayground(dir: string, options: ServeOptions = {}): Promise<Server> {
  const root = resolve(dir);
  const isolation: Record<string, string> = options.isolated === false
    ? {}
    : { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cross-Origin-Resource-Policy': 'same-origin' };
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(root + sep) || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404).end();
      return;
    }
    readFile(file).then(
      (body) => {
        response.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store', ...isolation });
        response.end(request.method === 'HEAD' ? undefined : body);
      },
      () => response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found'),
    );
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolveListen);
  });
  return server;
}

export function serverUrl(server: Server): string {
  const { address, port } = server.address() as AddressInfo;
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}/`;
}

function parseArgs(argv: string[]): { buildOnly: boolean; out: string; port: number; isolated: boolean } {
  const args = { buildOnly: false, out: DEFAULT_OUT, port: 8080, isolated: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--build-only') args.buildOnly = true;
    else if (arg === '--no-isolation') args.isolated = false;
    else if (arg === '--out') args.out = value();
    else if (arg === '--port') {
      const text = value();
      const port = Number(text);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be an integer in [0, 65535], received '${text}'`);
      args.port = port;
    } else throw new Error(`unknown option '${arg}' (expected --build-only, --out DIR, --port N, --no-isolation)`);
  }
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const out = await buildPlayground(args.out);
  console.log(`built the playground into ${out}`);
  if (args.buildOnly) return;
  const server = await servePlayground(out, { port: args.port, isolated: args.isolated });
  console.log(`playground: ${serverUrl(server)}${args.isolated ? '' : ' (not cross-origin isolated: one thread)'}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(`playground: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
