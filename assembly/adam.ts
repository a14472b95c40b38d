// Adam / AdamW update in place, PyTorch's rule. The bias corrections are computed once per step by
// the caller (in f64) and passed in: stepSize = lr / (1 - beta1^t), bias2Sqrt = sqrt(1 - beta2^t).

import { loadLanes, storeLanes } from './lanes';

export function adamUpdate(
  n: i32, param: usize, grad: usize, m: usize, v: usize,
  beta1: f32, beta2: f32, eps: f32, weightDecay: f32, decoupled: bool, decay: f32, stepSize: f32, bias2Sqrt: f32,
): void {
  const b1 = f32x4.splat(beta1);
  const b2 = f32x4.splat(beta2);
  const c1 = f32x4.splat(1 - beta1);
  const c2 = f32x4.splat(1 - beta2);
  const wd = f32x4.splat(weightDecay);
  const dec = f32x4.splat(decay);
  const step = f32x4.splat(stepSize);
  const bias = f32x4.splat(bias2Sqrt);
  const ep = f32x4.splat(eps);
  for (let i = 0; i < n; i += 4) {
    const c = n - i;
    const o = <usize>i << 2;
    let g = loadLanes(grad + o, c);
    let p = loadLanes(param + o, c);
    if (decoupled) p = f32x4.mul(p, dec);
    else if (weightDecay != 0) g = f32x4.add(g, f32x4.mul(wd, p));
    const mi = f32x4.add(f32x4.mul(b1, loadLanes(m + o, c)), f32x4.mul(c1, g));
    const vi = f32x4.add(f32x4.mul(b2, loadLanes(v + o, c)), f32x4.mul(f32x4.mul(c2, g), g));
    storeLanes(m + o, mi, c);
    storeLanes(v + o, vi, c);
    const denom = f32x4.add(f32x4.div(f32x4.sqrt(vi), bias), ep);
    storeLanes(param + o, f32x4.sub(p, f32x4.div(f32x4.mul(step, mi), denom)), c);
  }
}
