// Softmax cross-entropy with integer targets, one row of logits at a time.

import { loadLanes, storeLanes } from './lanes';
import { exp4 } from './math';

@inline function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

/** targets is an i32 array; dLogits = 0 (null) skips the gradient. */
export function softmaxCrossEntropy(
  rows: i32, classes: i32, logits: usize, targets: usize, ignoreIndex: i32, loss: usize, dLogits: usize,
): void {
  for (let r = 0; r < rows; r++) {
    const x = logits + <usize>r * classes * 4;
    const d = dLogits + <usize>r * classes * 4;
    const target = load<i32>(targets + (<usize>r << 2));
    if (target == ignoreIndex) {
      store<f32>(at(loss, r), 0);
      if (dLogits) memory.fill(d, 0, <usize>classes * 4);
      continue;
    }
    // Row max, with -Infinity in the lanes past the end.
    let vmax = f32x4.splat(-Infinity);
    for (let j = 0; j < classes; j += 4) {
      const n = classes - j;
      let v = loadLanes(at(x, j), n);
      if (n < 4) v = v128.bitselect(v, f32x4.splat(-Infinity), laneMask(n));
      vmax = f32x4.max(vmax, v);
    }
    const m2 = f32x4.max(vmax, v128.shuffle<f32>(vmax, vmax, 2, 3, 0, 1));
    const rowMax = max<f32>(f32x4.extract_lane(m2, 0), f32x4.extract_lane(m2, 1));
    const vm = f32x4.splat(rowMax);
    let vsum = f32x4.splat(0);
    for (let j = 0; j < classes; j += 4) {
      const n = classes - j;
      let e = exp4(f32x4.sub(loadLanes(at(x, j), n), vm));
      if (n < 4) e = v128.and(e, laneMask(n));
      vsum = f32x4.add(vsum, e);
    }
    const s2 = f32x4.add(vsum, v128.shuffle<f32>(vsum, vsum, 2, 3, 0, 1));
    const sum = <f64>f32x4.extract_lane(s2, 0) + <f64>f32x4.extract_lane(s2, 1);
    const inRange = target >= 0 && target < classes;
    const picked: f64 = inRange ? <f64>load<f32>(at(x, target)) : NaN;
    store<f32>(at(loss, r), <f32>(Math.log(sum) + <f64>rowMax - picked));
    if (dLogits) {
      // softmax = exp(x - max) / sum: recomputing exp(x - max) is more accurate in f32 than exp(x - logSum).
      const inv = f32x4.splat(<f32>(1 / sum));
      for (let j = 0; j < classes; j += 4) {
        const n = classes - j;
        storeLanes(at(d, j), f32x4.mul(exp4(f32x4.sub(loadLanes(at(x, j), n), vm)), inv), n);
      }
      if (inRange) store<f32>(at(d, target), load<f32>(at(d, target)) - 1);
    }
  }
}

/** All-ones in the first n lanes (n < 4), zeros in the rest. */
@inline function laneMask(n: i32): v128 {
  return i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(n));
}
