import assert from 'node:assert/strict';
import type { AnyTensor } from '../../src/tensor/index.js';

/**
 * |a − e| ≤ atol·S + rtol·|e| elementwise with S = max(1, max|e|). On failure the message lists the
 * first mismatches and the largest difference (llm.c style), not just "fail".
 */
export function assertClose(actual: AnyTensor, expected: AnyTensor, atol: number, rtol: number, label: string): void {
  assert.deepEqual([...actual.shape], [...expected.shape], `${label}: shape ${JSON.stringify(actual.shape)} vs expected ${JSON.stringify(expected.shape)}`);
  const a = actual.data, e = expected.data;
  let scale = 1;
  for (let i = 0; i < e.length; i++) scale = Math.max(scale, Math.abs(e[i]!));
  const bad: string[] = [];
  let worst = 0;
  for (let i = 0; i < e.length; i++) {
    const diff = Math.abs(a[i]! - e[i]!);
    worst = Math.max(worst, diff);
    if (!(diff <= atol * scale + rtol * Math.abs(e[i]!)) && bad.length < 5) bad.push(`[${i}] got ${a[i]} expected ${e[i]}`);
  }
  assert.ok(bad.length === 0, `${label}: mismatch (largest difference ${worst}): ${bad.join(', ')}`);
}
