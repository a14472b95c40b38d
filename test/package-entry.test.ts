// The built package as a user imports it: `import { nn } from 'recurrent'` (self-reference through the
// exports map, which resolves to dist/) and the shipped examples. `npm ci` builds dist/ (prepare).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = existsSync(`${root}/dist/index.js`);
const skip = built ? false : 'dist/ is missing: run `npm run build` (npm ci does it)';

const run = (args: string[]): string => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 120_000 });

test("import { nn, tensor, loadSafetensors } from 'recurrent' works from the repository", { skip }, () => {
  const out = run(['--input-type=module', '-e', `
    import { nn, tensor, noGrad, loadSafetensors, saveSafetensors, getBackend } from 'recurrent';
    import { saveModel } from 'recurrent/node';
    const lstm = new nn.LSTM({ inputSize: 2, hiddenSize: 3 });
    const [out, [h, c]] = noGrad(() => lstm.forward(tensor([[[1, 2]], [[3, 4]]])));
    const back = loadSafetensors(saveSafetensors(lstm.stateDict()));
    console.log(JSON.stringify({ out: out.shape, h: h.shape, keys: Object.keys(back).length, backend: getBackend(), saveModel: typeof saveModel }));
  `]);
  const r = JSON.parse(out.trim().split('\n').pop()!);
  assert.deepEqual(r.out, [2, 1, 3]);
  assert.deepEqual(r.h, [1, 1, 3]);
  assert.equal(r.keys, 4);
  assert.equal(r.backend, 'wasm');
  assert.equal(r.saveModel, 'function');
});

test('examples/sine-wave.ts trains and its held-out error is small', { skip }, () => {
  const out = run(['--import', 'tsx', 'examples/sine-wave.ts', '150']);
  const mse = Number(/held-out mse ([\d.]+)/.exec(out)?.[1]);
  assert.ok(mse < 0.05, `held-out mse ${mse}\n${out}`);
});

test('examples/truncated-bptt.ts runs over the whole series in chunks and the loss falls', { skip }, () => {
  const out = run(['--import', 'tsx', 'examples/truncated-bptt.ts', '2']);
  const losses = [...out.matchAll(/mean chunk mse ([\d.]+) over (\d+) chunks/g)].map((m) => Number(m[1]));
  assert.equal(losses.length, 2, out);
  assert.ok(losses[1]! < losses[0]!, out);
  assert.ok(Number(/over (\d+) chunks/.exec(out)?.[1]) > 50, out);
});
