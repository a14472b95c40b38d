// The fuzz suite, bounded to two seconds per reader (`npm run fuzz` runs 100,000 cases per reader):
// every mutated file gives a result or one of our errors with a message, never a crash, a hang or an
// allocation out of proportion to its size (limits in helpers/fuzz.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fuzzReader, readers } from './helpers/fuzz.js';

for (const reader of readers()) {
  test(`fuzz: ${reader.name}`, () => {
    for (const seed of reader.seeds) reader.read(seed); // the seeds themselves are valid
    const figures = fuzzReader(reader, Infinity, 2024, 2);
    assert.deepEqual(figures.failures.map((f) => `${f.kind} (case ${f.case}): ${f.detail}`), []);
    assert.ok(figures.cases >= 20, `only ${figures.cases} cases ran`);
    assert.ok(figures.errors > 0, 'mutations produced no error at all: the mutator is not reaching the checks');
  });
}
