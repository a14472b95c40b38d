// The library in headless Chromium (Debian's chromium, driven by playwright-core): the main entry
// bundled for browsers (esbuild), the WebAssembly kernels loaded with initWasm(), helper threads as
// Web Workers where the page is cross-origin isolated (COOP/COEP headers) and one thread where it is
// not. The same workload (test/browser/workload.ts) must give the same bits as in Node, on one
// thread and on two: the page loads the build Node runs (relaxed SIMD or plain), Node runs it
// without the system BLAS (which browsers lack), and nothing depends on the thread count.
//
// Needs Chromium: .ci/run installs it. Elsewhere the test is skipped with the reason, unless
// RECURRENT_REQUIRE_BROWSER=1 (CI sets it) makes a missing browser a failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import * as lib from '../src/index.js';
import { runWorkload, type WorkloadResult } from './browser/workload.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));
const required = process.env['RECURRENT_REQUIRE_BROWSER'] === '1';

async function serve(bundle: string): Promise<Server> {
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    // The script is requested with the page's query, so that it gets the page's headers (a
    // cross-origin isolated page may only load resources that allow it).
    const html = `<!doctype html><meta charset="utf-8"><title>recurrent</title><script type="module" src="/bundle.js${url.search}"></script>`;
    // Cross-origin isolation (what SharedArrayBuffer, hence threads, needs) only with ?isolated=1.
    const headers: Record<string, string> = url.searchParams.get('isolated') === '1'
      ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }
      : {};
    if (url.pathname === '/bundle.js') {
      response.writeHead(200, { 'Content-Type': 'text/javascript', ...headers });
      response.end(bundle);
    } else if (url.pathname === '/') {
      response.writeHead(200, { 'Content-Type': 'text/html', ...headers });
      response.end(html);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function inPage(
  browser: Browser, origin: string, isolated: boolean, threads: number, relaxed: boolean,
): Promise<{ result: WorkloadResult; isolated: boolean }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  try {
    await page.goto(`${origin}/?isolated=${isolated ? 1 : 0}&threads=${threads}&relaxed=${relaxed ? 1 : 0}`);
    await page.waitForFunction(() => window.workloadDone !== undefined, undefined, { timeout: 120_000 });
    const done = await page.evaluate(() => window.workloadDone!);
    if (done.error) assert.fail(`in the page: ${done.error}`);
    assert.deepEqual(errors, [], 'page errors');
    return { result: done.result as WorkloadResult, isolated: done.isolated };
  } finally {
    await page.close();
  }
}

function assertSameBits(label: string, got: number[], want: number[]): void {
  assert.equal(got.length, want.length, `${label}: length`);
  for (let i = 0; i < got.length; i++) {
    if (!Object.is(got[i], want[i]) && !(got[i] === want[i])) assert.fail(`${label}: value ${i} is ${got[i]} in the browser, ${want[i]} in Node`);
  }
}

test('Chromium runs the wasm kernels with the bits of Node, on one thread and on Web Worker helpers', { skip: !CHROMIUM && !required ? 'no Chromium here (.ci/run installs it)' : false }, async () => {
  assert.ok(CHROMIUM, 'Chromium is required (RECURRENT_REQUIRE_BROWSER=1) but not installed');
  const built = await build({
    entryPoints: [new URL('./browser/page.ts', import.meta.url).pathname],
    bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent',
  });
  const bundle = built.outputFiles[0]!.text;
  const server = await serve(bundle);
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const nativeBefore = lib.getBackendInfo().gemm === 'native';
  lib.setNativeBlas(false);
  try {
    const node = await runWorkload(lib, 1);
    assert.equal(node.backend, 'wasm');
    assert.ok(node.values.length > 10_000 && node.values.every(Number.isFinite), `${node.values.length} finite values to compare`);
    const nodeTwo = await runWorkload(lib, 2);
    assertSameBits('Node, 2 threads against 1', nodeTwo.values, node.values);

    const isolated = await inPage(browser, origin, true, 2, node.relaxedSimd);
    assert.equal(isolated.result.relaxedSimd, node.relaxedSimd, 'the page runs the build Node runs');
    assert.equal(isolated.isolated, true, 'the page with COOP/COEP is cross-origin isolated');
    assert.equal(isolated.result.backend, 'wasm');
    assert.equal(isolated.result.threads, 2, 'two threads (a Web Worker helper) where shared memory is allowed');
    assertSameBits('Chromium, 2 threads', isolated.result.values, node.values);

    const plain = await inPage(browser, origin, false, 2, node.relaxedSimd);
    assert.equal(plain.isolated, false);
    assert.equal(plain.result.backend, 'wasm');
    assert.equal(plain.result.threads, 1, 'one thread where the page is not cross-origin isolated');
    assertSameBits('Chromium, not isolated', plain.result.values, node.values);
  } finally {
    await browser.close();
    server.close();
    await lib.setThreads(1);
    lib.setNativeBlas(nativeBefore);
  }
});
