// The command as installed: the package's bin is dist/cli/main.js, compiled by tsconfig.build.json.
// When dist/ exists (a build has been made), this rebuilds it (the TypeScript step only, a few
// seconds) and trains and evaluates through the compiled file. Without dist/ it is skipped: the
// full build also compiles the WebAssembly kernels, which is `npm run build`'s job, not a test's.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'dist/cli/main.js');

function skipReason(): string | false {
  if (!existsSync(join(ROOT, 'dist'))) return 'dist/ is not built (run npm run build)';
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  if (tsc.status !== 0) return `tsc -p tsconfig.build.json failed, so dist/ may be stale: ${(tsc.stdout + tsc.stderr).split('\n')[0]}`;
  return false;
}

const skip = skipReason();

test('the built bin trains, evaluates and reports errors like the source', { skip }, () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; version: string };
  assert.equal(join(ROOT, pkg.bin['recurrent']!), BIN);
  const tmp = mkdtempSync(join(tmpdir(), 'recurrent-bin-'));
  try {
    const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: tmp, encoding: 'utf8' });
    const out = join(tmp, 'sine');
    // From another working directory: the shipped data must be found next to the package, not the cwd.
    const trained = run('train', 'series', '--steps', '30', '--hidden', '8', '--out', out);
    assert.equal(trained.status, 0, trained.stderr);
    assert.ok(existsSync(join(out, 'best.safetensors')));
    const evaluated = run('eval', 'series', '--model', out, '--json');
    assert.equal(evaluated.status, 0, evaluated.stderr);
    const json = JSON.parse(evaluated.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    assert.equal(json.task, 'series');
    assert.equal(typeof json.rmse_seasonal, 'number');
    const bad = run('train', 'series', '--hidden', '0');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--hidden/);
    assert.equal(run('--version').stdout.trim(), JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    if (process.platform !== 'win32') {
      // As npx and a shell run it: through its #! line, which needs the executable bit.
      assert.notEqual(statSync(BIN).mode & 0o111, 0, 'dist/cli/main.js is not executable: run npm run build (it marks the bin)');
      const direct = spawnSync(BIN, ['--version'], { cwd: tmp, encoding: 'utf8' });
      assert.equal(direct.status, 0, String(direct.error ?? direct.stderr));
      assert.equal(direct.stdout.trim(), pkg.version);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
