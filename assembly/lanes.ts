// Loads and stores of 1 to 4 f32 lanes, so every kernel's loop tail runs the same vector code as its
// body (a row of 17 units computes lane 17 exactly like lane 1) instead of a scalar copy of the math.

/** Loads `count` (1..4) floats from p; the missing lanes are zero. */
@inline export function loadLanes(p: usize, count: i32): v128 {
  if (count >= 4) return v128.load(p);
  let v = v128.load32_zero(p);
  if (count > 1) v = v128.load32_lane(p, v, 1, 4);
  if (count > 2) v = v128.load32_lane(p, v, 2, 8);
  return v;
}

/** Stores the first `count` (1..4) lanes of v at p. */
@inline export function storeLanes(p: usize, v: v128, count: i32): void {
  if (count >= 4) {
    v128.store(p, v);
    return;
  }
  v128.store32_lane(p, v, 0);
  if (count > 1) v128.store32_lane(p, v, 1, 4);
  if (count > 2) v128.store32_lane(p, v, 2, 8);
}

