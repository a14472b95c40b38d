import assert from 'node:assert/strict';
import { crc32 } from '../src/io/crc32.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadFixtureTensors } from './helpers/fixtures.js';
import {
  decodeCheckpoint, encodeCheckpoint, loadSafetensors, readSafetensorsMetadata, restoreCheckpoint, saveSafetensors,
  type StatefulModel,
} from '../src/io/index.js';
import { loadCheckpoint, loadModel, removeStaleTemporaries, saveCheckpoint, saveModel, writeFileAtomic } from '../src/io/node.js';
import { Linear, LSTM, mseLoss } from '../src/nn/index.js';
import '../src/ops/index.js';
import { Adam, CosineAnnealingLR, SGD, type OptimizerMeta, type SchedulerState } from '../src/optim/index.js';
import { Generator, randn, tensor, type Tensor } from '../src/tensor/index.js';

const dir = mkdtempSync(join(tmpdir(), 'recurrent-checkpoint-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A minimal stand-in with nn.Module's state-dict methods: two parameters. */
class TinyModel implements StatefulModel {
  readonly w = tensor([0.3, -1.1, 2.0], undefined, { requiresGrad: true });
  readonly b = tensor([[0.5, 0.25]], undefined, { requiresGrad: true });
  stateDict(): Record<string, Tensor> {
    return { w: this.w, 'inner.b': this.b };
  }
  loadStateDict(dict: Record<string, Tensor>): void {
    const own = this.stateDict();
    const keys = Object.keys(dict).sort().join(',');
    if (keys !== Object.keys(own).sort().join(',')) throw new Error(`TinyModel.loadStateDict: keys ${keys}`);
    for (const [k, t] of Object.entries(own)) t.data.set(dict[k]!.data);
  }
  parameters(): Tensor[] {
    return [this.w, this.b];
  }
}

/** One training step whose gradient depends on the generator, so a wrong RNG restore shows. */
function trainStep(model: TinyModel, opt: Adam, g: Generator): void {
  for (const p of model.parameters()) {
    const grad = new Float32Array(p.size);
    p.data.forEach((x, i) => (grad[i] = 2 * x + Math.cos(x) + 0.1 * g.normal()));
    p.grad = tensor(grad, p.shape);
  }
  opt.step();
}

describe('checkpoint contents', () => {
  test('one safetensors file: model.* and optimizer.* tensors, metadata format/version/step/rng/optimizer/extra', () => {
    const model = new TinyModel();
    const opt = new Adam(model.parameters(), { lr: 0.01 });
    const g = new Generator(3);
    g.normal(); // leaves a cached second normal, stored as a number
    trainStep(model, opt, g);
    const bytes = encodeCheckpoint({ model, optimizer: opt, step: 1, generator: g, extra: { epoch: 2, losses: [1.5, 1.25] } });

    assert.deepEqual(Object.keys(loadSafetensors(bytes)).sort(), [
      'model.inner.b', 'model.w', 'optimizer.0.exp_avg', 'optimizer.0.exp_avg_sq', 'optimizer.1.exp_avg', 'optimizer.1.exp_avg_sq',
    ]);
    const meta = readSafetensorsMetadata(bytes);
    assert.equal(meta.format, 'recurrent-checkpoint');
    assert.equal(meta.version, '1');
    assert.equal(meta.step, '1');
    assert.deepEqual(JSON.parse(meta.rng!), g.getState().map((x) => (Number.isNaN(x) ? null : x)));
    assert.deepEqual(JSON.parse(meta.optimizer!), opt.stateDict().meta);
    assert.deepEqual(JSON.parse(meta.extra!), { epoch: 2, losses: [1.5, 1.25] });

    const decoded = decodeCheckpoint(bytes);
    assert.equal(decoded.step, 1);
    assert.deepEqual(decoded.rng, g.getState());
    assert.deepEqual([...decoded.model.w!.data], [...model.w.data]);
  });

  test('without optimizer, generator or extra', () => {
    const bytes = encodeCheckpoint({ model: new TinyModel(), step: 0 });
    const decoded = decodeCheckpoint(bytes);
    assert.equal(decoded.optimizer, null);
    assert.equal(decoded.rng, null);
    assert.equal(decoded.extra, undefined);
    assert.throws(() => restoreCheckpoint(bytes, { model: new TinyModel(), optimizer: new SGD([tensor([1])], { lr: 1 }) }),
      /restoreCheckpoint: an optimizer was given but the checkpoint holds no optimizer state/);
    assert.throws(() => restoreCheckpoint(bytes, { model: new TinyModel(), generator: new Generator() }),
      /a generator was given but the checkpoint holds no RNG state/);
  });

  test('bad contents are refused when saving', () => {
    const model = new TinyModel();
    assert.throws(() => encodeCheckpoint({ model, step: -1 }), /encodeCheckpoint: step must be an integer >= 0, got -1/);
    assert.throws(() => encodeCheckpoint({ model, step: 1.5 }), /step must be an integer >= 0, got 1.5/);
    assert.throws(() => encodeCheckpoint({ model, step: 0, extra: { big: 1n } }), /extra must be JSON-serialisable/);
    assert.throws(() => encodeCheckpoint({ model, step: 0, extra: () => 1 }), /extra must be JSON-serialisable, got function/);
  });
});

describe('resume', () => {
  test('stop, save, restore into fresh objects, continue: bitwise the same as never stopping', async () => {
    const straight = new TinyModel();
    const optA = new Adam(straight.parameters(), { lr: 0.05 });
    const schedA = new CosineAnnealingLR(optA, { tMax: 10 });
    const gA = new Generator(7);
    for (let s = 0; s < 10; s++) {
      trainStep(straight, optA, gA);
      schedA.step();
    }

    const first = new TinyModel();
    const optB = new Adam(first.parameters(), { lr: 0.05 });
    const schedB = new CosineAnnealingLR(optB, { tMax: 10 });
    const gB = new Generator(7);
    for (let s = 0; s < 4; s++) {
      trainStep(first, optB, gB);
      schedB.step();
    }
    const path = join(dir, 'resume.safetensors');
    await saveCheckpoint(path, { model: first, optimizer: optB, step: 4, generator: gB, extra: { scheduler: schedB.stateDict() } });

    const model = new TinyModel();
    const opt = new Adam(model.parameters(), { lr: 0.05 });
    const sched = new CosineAnnealingLR(opt, { tMax: 10 });
    const g = new Generator(12345);
    const { step, extra } = await loadCheckpoint(path, { model, optimizer: opt, generator: g });
    sched.loadStateDict((extra as { scheduler: SchedulerState }).scheduler);
    assert.equal(step, 4);
    for (let s = step; s < 10; s++) {
      trainStep(model, opt, g);
      sched.step();
    }
    assert.deepEqual([...model.w.data], [...straight.w.data]);
    assert.deepEqual([...model.b.data], [...straight.b.data]);
    assert.deepEqual(g.getState(), gA.getState());
    assert.equal(opt.paramGroups[0]!.lr, optA.paramGroups[0]!.lr);
  });

  test('with nn.Linear, autograd and mseLoss', async () => {
    const run = (model: Linear, opt: Adam, g: Generator, steps: number): void => {
      for (let s = 0; s < steps; s++) {
        const x = tensor(Array.from({ length: 8 }, () => g.normal()), [4, 2]);
        const y = tensor(Array.from({ length: 4 }, () => g.normal()), [4, 1]);
        opt.zeroGrad();
        mseLoss(model.forward(x), y).backward();
        opt.step();
      }
    };
    const straight = new Linear(2, 1, { generator: new Generator(1) });
    const optA = new Adam(straight.parameters(), { lr: 0.1 });
    const gA = new Generator(2);
    run(straight, optA, gA, 6);

    const first = new Linear(2, 1, { generator: new Generator(1) });
    const optB = new Adam(first.parameters(), { lr: 0.1 });
    const gB = new Generator(2);
    run(first, optB, gB, 3);
    const path = join(dir, 'linear.safetensors');
    await saveCheckpoint(path, { model: first, optimizer: optB, step: 3, generator: gB });

    const model = new Linear(2, 1, { generator: new Generator(99) });
    const opt = new Adam(model.parameters(), { lr: 0.1 });
    const g = new Generator(0);
    await loadCheckpoint(path, { model, optimizer: opt, generator: g });
    run(model, opt, g, 3);
    assert.deepEqual([...model.weight.data], [...straight.weight.data]);
    assert.deepEqual([...model.bias!.data], [...straight.bias!.data]);
  });
});

describe('damaged and foreign files', () => {
  const targets = (): { model: TinyModel; optimizer: Adam; generator: Generator } => {
    const model = new TinyModel();
    return { model, optimizer: new Adam(model.parameters()), generator: new Generator() };
  };
  const good = (): Uint8Array => {
    const model = new TinyModel();
    const opt = new Adam(model.parameters());
    trainStep(model, opt, new Generator(1));
    return encodeCheckpoint({ model, optimizer: opt, step: 1, generator: new Generator(1), extra: { a: 1 } });
  };

  test('a plain safetensors file is not a checkpoint', async () => {
    const path = join(dir, 'weights.safetensors');
    await saveModel(path, new TinyModel());
    await assert.rejects(loadCheckpoint(path, targets()),
      /loadCheckpoint: .*weights\.safetensors: not a recurrent checkpoint \(metadata format is missing, expected "recurrent-checkpoint"\)/);
  });

  test('another version', () => {
    const bytes = saveSafetensors({}, { format: 'recurrent-checkpoint', version: '2', step: '0' });
    assert.throws(() => restoreCheckpoint(bytes, targets()), /checkpoint version "2" is not supported \(this library reads version "1"\)/);
  });

  test('bad metadata values', () => {
    // Files rewritten with other tensors: without the checksum of the original data.
    const { data_crc32: _, ...meta } = readSafetensorsMetadata(good());
    const tensors = Object.fromEntries(Object.entries(loadFixtureTensors(good())));
    const withMeta = (patch: Record<string, string>): Uint8Array => saveSafetensors(tensors, { ...meta, ...patch });
    assert.throws(() => decodeCheckpoint(withMeta({ step: '-3' })), /metadata step must be a non-negative integer, got "-3"/);
    assert.throws(() => decodeCheckpoint(withMeta({ step: '1e3' })), /metadata step must be a non-negative integer/);
    assert.throws(() => decodeCheckpoint(withMeta({ rng: '[1,2,3]' })), /metadata rng must be 4 unsigned 32-bit integers and a number or null/);
    assert.throws(() => decodeCheckpoint(withMeta({ rng: '[1,2' })), /metadata rng is not valid JSON/);
    assert.throws(() => decodeCheckpoint(withMeta({ extra: '{oops' })), /metadata extra is not valid JSON/);
    assert.throws(() => decodeCheckpoint(withMeta({ optimizer: '[]' })), /metadata optimizer must be a JSON object/);
    const stray = saveSafetensors({ ...tensors, 'scheduler.x': tensor([1]) }, meta);
    assert.throws(() => decodeCheckpoint(stray), /unexpected tensor 'scheduler\.x' \(checkpoint tensors start with 'model\.' or 'optimizer\.'\)/);
    const adamState = withMeta({ optimizer: JSON.stringify({ ...JSON.parse(meta.optimizer!), optimizer: 'SGD' }) });
    assert.throws(() => restoreCheckpoint(adamState, targets()), /Adam\.loadStateDict: the state was saved by optimizer "SGD", this is Adam/);
  });

  test('truncated and corrupted files are errors that name the file, and the targets stay untouched', async () => {
    const bytes = good();
    const path = join(dir, 'corrupt.safetensors');
    writeFileSync(path, bytes.subarray(0, bytes.length - 5));
    const t = targets();
    const before = [...t.model.w.data];
    await assert.rejects(loadCheckpoint(path, t), /loadCheckpoint: .*corrupt\.safetensors: tensor '.*': data_offsets \[\d+, \d+\] run past the end of the data \(\d+ bytes\): truncated file/);
    const flipped = bytes.slice();
    flipped[8] = 0x78; // the header's opening '{' becomes 'x'
    writeFileSync(path, flipped);
    await assert.rejects(loadCheckpoint(path, t), /corrupt\.safetensors: the header is not valid JSON/);
    const renamed = bytes.slice();
    renamed[12] = 0x7b; // '__metadata__' becomes '__{etadata__', which reads as a tensor entry
    writeFileSync(path, renamed);
    await assert.rejects(loadCheckpoint(path, t), /corrupt\.safetensors: tensor '__\{etadata__': unknown dtype undefined/);
    assert.deepEqual([...t.model.w.data], before);
    assert.deepEqual(t.optimizer.stateDict().state, {});
    await assert.rejects(loadCheckpoint(join(dir, 'missing.safetensors'), t), /loadCheckpoint: cannot read .*missing\.safetensors: ENOENT/);
  });

  test('a flipped byte in the data section fails its CRC-32, naming the file; a file without a checksum still loads', async () => {
    const bytes = good();
    const meta = readSafetensorsMetadata(bytes);
    assert.equal(crc32(new TextEncoder().encode('123456789')), 'cbf43926'); // the standard check value
    assert.match(meta.data_crc32!, /^[0-9a-f]{8}$/);
    const flipped = bytes.slice();
    flipped[flipped.length - 3]! ^= 0x01; // a low bit of a float32: still finite, so only the checksum can tell
    const path = join(dir, 'flipped.safetensors');
    writeFileSync(path, flipped);
    const t = targets();
    const before = [...t.model.w.data];
    await assert.rejects(loadCheckpoint(path, t), /^Error: loadCheckpoint: .*flipped\.safetensors: the data section's CRC-32 is [0-9a-f]{8} but the file records [0-9a-f]{8}: the file is damaged \(changed after it was written\)$/);
    assert.deepEqual([...t.model.w.data], before);
    const { data_crc32: _, ...old } = meta;
    const unsummed = saveSafetensors(loadFixtureTensors(bytes), old);
    assert.equal(restoreCheckpoint(unsummed, targets()).step, 1);
  });
});

describe('restore is all or nothing', () => {
  /** An LSTM (parameters in kernel memory) and Adam, after `steps` training steps from `seed`. */
  const trained = (seed: number, steps: number): { model: LSTM; optimizer: Adam; generator: Generator } => {
    const generator = new Generator(seed);
    const model = new LSTM({ inputSize: 3, hiddenSize: 2, generator });
    const optimizer = new Adam(model.parameters(), { lr: 0.05 });
    for (let s = 0; s < steps; s++) {
      optimizer.zeroGrad();
      const [out] = model.forward(randn([4, 2, 3], { generator }));
      out.mul(out).sum().backward();
      optimizer.step();
    }
    return { model, optimizer, generator };
  };
  /** Every byte the targets hold: parameters, their versions, optimizer buffers and JSON state, RNG. */
  const snapshot = (t: ReturnType<typeof trained>): unknown => {
    const bytes = (x: Tensor): number[] => [...new Uint8Array(x.data.buffer, x.data.byteOffset, x.data.byteLength)];
    const optimizerState = t.optimizer.stateDict();
    return {
      params: Object.entries(t.model.stateDict()).map(([name, p]) => [name, p.version, bytes(p)]),
      buffers: Object.entries(optimizerState.state).map(([name, b]) => [name, bytes(b)]),
      meta: JSON.stringify(optimizerState.meta),
      rng: t.generator.getState(),
    };
  };
  const source = trained(1, 3);
  const bytes = encodeCheckpoint({ model: source.model, optimizer: source.optimizer, step: 3, generator: source.generator });
  const tensors = loadFixtureTensors(bytes);
  // Damage written as a whole new file (by a diverged run, or another writer), so without a checksum.
  const { data_crc32: _, ...metadata } = readSafetensorsMetadata(bytes);
  const optimizerMeta = JSON.parse(metadata.optimizer!) as OptimizerMeta;
  const damaged = (patch: { tensors?: Record<string, Tensor | null>; meta?: Partial<OptimizerMeta> }): Uint8Array => {
    const merged: Record<string, Tensor> = { ...tensors };
    for (const [name, t] of Object.entries(patch.tensors ?? {})) {
      if (t) merged[name] = t;
      else delete merged[name];
    }
    return saveSafetensors(merged, { ...metadata, optimizer: JSON.stringify({ ...optimizerMeta, ...patch.meta }) });
  };

  const withValue = (t: Tensor, index: number, value: number): Tensor => {
    const copy = t.clone();
    copy.data[index] = value;
    return copy;
  };
  const cases: [string, Uint8Array, RegExp][] = [
    ['an optimizer buffer of the wrong shape', damaged({ tensors: { 'optimizer.1.exp_avg': tensor([1, 2, 3, 4, 5]) } }),
      /^restoreCheckpoint: Adam\.loadStateDict: state '1\.exp_avg' has shape \[5\], its parameter has shape \[8, 2\]$/],
    ['a missing optimizer buffer', damaged({ tensors: { 'optimizer.2.exp_avg_sq': null } }),
      /^restoreCheckpoint: Adam\.loadStateDict: parameter 2 has taken steps but the state lacks '2\.exp_avg_sq'$/],
    ['a negative step count', damaged({ meta: { steps: { ...optimizerMeta.steps, 3: -1 } } }),
      /^restoreCheckpoint: Adam\.loadStateDict: the step count of parameter 3 must be an integer >= 0, got -1$/],
    ['another optimizer', damaged({ meta: { optimizer: 'SGD' } }),
      /^restoreCheckpoint: Adam\.loadStateDict: the state was saved by optimizer "SGD", this is Adam$/],
    ['a model tensor of the wrong shape', damaged({ tensors: { 'model.bias_hh_l0': tensor([1, 2]) } }),
      /^restoreCheckpoint: LSTM\.loadStateDict: shape mismatches: bias_hh_l0: expected \[8\], got \[2\]$/],
    ['a NaN in a model tensor (damage in the data section)', damaged({ tensors: { 'model.bias_ih_l0': withValue(tensors['model.bias_ih_l0']!, 3, NaN) } }),
      /^restoreCheckpoint: tensor 'model\.bias_ih_l0' holds NaN at element 3: the file is damaged, or the run had diverged when it was saved$/],
    ['an infinite Adam first moment', damaged({ tensors: { 'optimizer.0.exp_avg': withValue(tensors['optimizer.0.exp_avg']!, 0, -Infinity) } }),
      /^restoreCheckpoint: tensor 'optimizer\.0\.exp_avg' holds -Infinity at element 0: the file is damaged, or the run had diverged when it was saved$/],
    ['a negative Adam second moment', damaged({ tensors: { 'optimizer.1.exp_avg_sq': withValue(tensors['optimizer.1.exp_avg_sq']!, 5, -0.5) } }),
      /^restoreCheckpoint: tensor 'optimizer\.1\.exp_avg_sq' \(an average of squares\) holds -0\.5 at element 5: the file is damaged$/],
  ];
  for (const [what, file, error] of cases) {
    test(`${what}: a clear error, and the model, optimizer and generator keep every byte`, () => {
      const target = trained(2, 2);
      const before = snapshot(target);
      assert.throws(() => restoreCheckpoint(file, target), (e: Error) => error.test(e.message) || assert.fail(`got: ${e.message}`));
      assert.deepEqual(snapshot(target), before);
    });
  }

  test('a good file restores every part and bumps the versions of the parameters it writes', () => {
    const target = trained(2, 2);
    const versions = target.model.parameters().map((p) => p.version);
    restoreCheckpoint(bytes, target);
    assert.deepEqual(snapshot(target), { ...(snapshot(source) as object), params: (snapshot(source) as { params: unknown[][] }).params.map((entry, i) => [entry[0], versions[i]! + 1, entry[2]]) });
  });
});

describe('files', () => {
  test('writeFileAtomic replaces a file and leaves no temporary behind', async () => {
    const path = join(dir, 'atomic.bin');
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    await writeFileAtomic(path, new Uint8Array([4, 5]));
    assert.deepEqual([...readFileSync(path)], [4, 5]);
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('atomic')), ['atomic.bin']);
  });

  test('removeStaleTemporaries removes what killed writers left, and only that', async () => {
    const folder = join(dir, 'stale');
    mkdirSync(folder);
    const dead = spawnSync(process.execPath, ['-e', '']).pid!; // exited by the time spawnSync returns
    const names = {
      dead: `.latest.safetensors.${dead}.0123456789ab.tmp`,
      mine: `.latest.safetensors.${process.pid}.0123456789ab.tmp`,
      parent: `.best.safetensors.${process.ppid}.abcdef012345.tmp`,
      other: '.notes.tmp',
      kept: 'latest.safetensors',
    };
    for (const name of Object.values(names)) writeFileSync(join(folder, name), 'x');
    assert.deepEqual(await removeStaleTemporaries(folder), [names.dead]);
    assert.deepEqual(readdirSync(folder).sort(), [names.mine, names.parent, names.other, names.kept].sort());
  });

  test('a failed write removes its temporary file and keeps the old contents', async () => {
    const sub = join(dir, 'fail');
    mkdirSync(sub);
    const target = join(sub, 'is-a-directory');
    mkdirSync(target);
    writeFileSync(join(target, 'inside'), 'x'); // rename onto a non-empty directory fails
    await assert.rejects(writeFileAtomic(target, new Uint8Array([1])), /writeFileAtomic: could not write .*is-a-directory: /);
    assert.deepEqual(readdirSync(sub), ['is-a-directory']);
    await assert.rejects(writeFileAtomic(join(dir, 'no-such-dir', 'f.bin'), new Uint8Array([1])), /could not write .*f\.bin: ENOENT/);
  });

  test('a checkpoint whose contents cannot be encoded never touches the existing file', async () => {
    const path = join(dir, 'keep.safetensors');
    await saveCheckpoint(path, { model: new TinyModel(), step: 1 });
    const before = readFileSync(path);
    await assert.rejects(saveCheckpoint(path, { model: new TinyModel(), step: 2, extra: { x: 1n } }), /saveCheckpoint: extra must be JSON-serialisable/);
    assert.deepEqual(readFileSync(path), before);
  });

  test('saveModel / loadModel with an nn module, strict by default', async () => {
    const path = join(dir, 'linear-model.safetensors');
    const a = new Linear(3, 2, { generator: new Generator(5) });
    await saveModel(path, a, { note: 'hello' });
    const b = new Linear(3, 2, { generator: new Generator(6) });
    assert.deepEqual(await loadModel(path, b), { note: 'hello' });
    assert.deepEqual([...b.weight.data], [...a.weight.data]);
    assert.deepEqual(Object.keys(loadSafetensors(readFileSync(path))).sort(), ['bias', 'weight']);
    await assert.rejects(loadModel(path, new Linear(3, 2, { bias: false })), /unexpected keys: bias/);
    await assert.rejects(loadModel(path, new Linear(4, 2)), /shape mismatches: weight: expected \[2, 4\], got \[2, 3\]/);
  });
});
