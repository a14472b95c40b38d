// Builds the native GEMM provider (native/blas.c, a Node-API binding over the system BLAS) with
// node-gyp as npm ships it and Node's own headers, never downloading anything. Runs from
// `npm run build` (and so from `npm ci`). Where a C compiler, Node's headers or a CBLAS (Debian:
// libopenblas-dev) is missing, it prints one line saying so and succeeds: the WebAssembly GEMM then
// runs every product, as it does in browsers. RECURRENT_BLAS=off skips the build too.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const nativeDir = join(root, 'native');
const addon = join(nativeDir, 'build', 'Release', 'recurrent_blas.node');

function skip(reason) {
  // A stale addon from an earlier build must not outlive a build that did not make one.
  rmSync(join(nativeDir, 'build'), { recursive: true, force: true });
  console.log(`build-native: native BLAS not built (${reason}); the WebAssembly GEMM runs every product`);
  process.exit(0);
}

if ((process.env.RECURRENT_BLAS ?? '').trim().toLowerCase() === 'off') skip('RECURRENT_BLAS=off');

/** Node's headers: the configured nodedir, else the prefix this node runs from (Debian: /usr). */
function nodeHeaders() {
  const candidates = [process.env.npm_config_nodedir, resolve(dirname(process.execPath), '..')].filter(Boolean);
  return candidates.find((dir) => existsSync(join(dir, 'include', 'node', 'node_api.h'))) ?? null;
}

/** node-gyp as npm ships it: npm names it for scripts; else beside this node's npm. */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ].filter(Boolean);
  return candidates.find((path) => existsSync(path)) ?? null;
}

const compiler = process.env.CC ?? 'cc';
if (spawnSync(compiler, ['--version'], { stdio: 'ignore' }).status !== 0) skip(`no C compiler (${compiler})`);
const headers = nodeHeaders();
if (!headers) skip(`no Node headers (include/node/node_api.h) beside ${process.execPath}`);
const gyp = nodeGyp();
if (!gyp) skip("node-gyp not found (it ships with npm)");

const run = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${headers}`, `--directory=${nativeDir}`], {
  cwd: root,
  encoding: 'utf8',
  // No download, ever: headers come from --nodedir; a missing piece fails the build, which is skipped.
  env: { ...process.env, npm_config_offline: 'true', npm_config_nodedir: headers },
});
if (run.status !== 0 || !existsSync(addon)) {
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`;
  if (/cblas\.h|Accelerate\.h/.test(output) && /No such file|not found/.test(output)) skip('no CBLAS header: install libopenblas-dev');
  if (/cannot find -l|library not found/.test(output)) skip('no BLAS library to link: install libopenblas-dev');
  const lines = output.split('\n');
  const firstError = lines.find((line) => /error:/i.test(line)) ?? lines.find((line) => /gyp ERR! stack/.test(line)) ?? `node-gyp exited with ${run.status}`;
  skip(firstError.trim().slice(0, 200));
}
console.log(`build-native: ${addon.slice(root.length)}`);
