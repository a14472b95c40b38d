import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataRng } from '../src/data/index.js';

describe('DataRng', () => {
  it('repeats a stream for a seed and differs between seeds', () => {
    const a = new DataRng(42);
    const b = new DataRng(42);
    const c = new DataRng(43);
    const xs = Array.from({ length: 8 }, () => a.nextUint32());
    assert.deepEqual(Array.from({ length: 8 }, () => b.nextUint32()), xs);
    assert.notDeepEqual(Array.from({ length: 8 }, () => c.nextUint32()), xs);
  });

  it('draws uniforms in range with the right mean, and normals with mean 0 and std 1', () => {
    const rng = new DataRng(1);
    let sum = 0;
    for (let i = 0; i < 20000; i++) {
      const u = rng.uniform(-2, 3);
      assert.ok(u >= -2 && u < 3);
      sum += u;
    }
    assert.ok(Math.abs(sum / 20000 - 0.5) < 0.05);
    let m = 0;
    let s = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      m += z;
      s += z * z;
    }
    assert.ok(Math.abs(m / n) < 0.03);
    assert.ok(Math.abs(Math.sqrt(s / n) - 1) < 0.03);
  });

  it('shuffles into a permutation', () => {
    const p = new DataRng(5).permutation(100);
    assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
    assert.notDeepEqual([...p], Array.from({ length: 100 }, (_, i) => i));
    const words = new DataRng(5).shuffle(['a', 'b', 'c', 'd']);
    assert.deepEqual([...words].sort(), ['a', 'b', 'c', 'd']);
  });

  it('resumes exactly from a saved state, including a pending normal', () => {
    const rng = new DataRng(9);
    rng.normal();
    const saved = JSON.parse(JSON.stringify(rng.getState()));
    const expected = [rng.normal(), rng.normal(), rng.uniform()];
    const other = new DataRng(0);
    other.setState(saved);
    assert.deepEqual([other.normal(), other.normal(), other.uniform()], expected);
  });

  it('names bad arguments', () => {
    assert.throws(() => new DataRng(NaN), /DataRng: seed must be a finite number, received NaN/);
    assert.throws(() => new DataRng(1).int(0), /DataRng\.int: n must be a positive integer, received 0/);
  });
});
