import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import { listShippedData, readSeriesFile, resolveDataPath, shippedDataPath } from '../src/data/files.js';
import {
  DataRng,
  checkSeriesOutliers,
  findOutliers,
  ZScore,
  baselineScores,
  inferFrequency,
  mae,
  naiveForecast,
  parseSeriesCsv,
  rmse,
  seasonalNaiveForecast,
  seriesBatchCount,
  seriesBatches,
  sineWave,
  splitSeries,
  windowBatch,
} from '../src/data/index.js';

const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => i);

describe('parseSeriesCsv', () => {
  it('reads the shipped monthly, quarterly and yearly files and infers their frequency', () => {
    const air = readSeriesFile(shippedDataPath('series', 'AirPassengers.csv'));
    assert.equal(air.values.length, 144);
    assert.equal(air.values[0], 112);
    assert.equal(air.values[143], 432);
    assert.equal(air.time[0], 1949);
    assert.equal(air.frequency, 12);
    assert.equal(air.name, 'value');
    assert.equal(readSeriesFile(shippedDataPath('series', 'JohnsonJohnson.csv')).frequency, 4);
    assert.equal(readSeriesFile(shippedDataPath('series', 'Nile.csv')).frequency, 1);
    const sun = readSeriesFile(shippedDataPath('series', 'statsmodels_sunspots.csv'));
    assert.equal(sun.name, 'SUNACTIVITY');
    assert.equal(sun.values.length, 309);
  });

  it('accepts no header, CRLF, a single column, semicolons, dates and named columns', () => {
    const plain = parseSeriesCsv('2000,1\r\n2001,2\r\n2002,4\r\n');
    assert.deepEqual([...plain.values], [1, 2, 4]);
    assert.equal(plain.frequency, 1);
    const single = parseSeriesCsv('value\n5\n6\n7\n');
    assert.deepEqual([...single.values], [5, 6, 7]);
    assert.deepEqual([...single.time], [0, 1, 2]);
    const semi = parseSeriesCsv('t;v\n1;10.5\n2;11\n');
    assert.deepEqual([...semi.values], [10.5, 11]);
    const dates = parseSeriesCsv('month,sales,price\n2020-01,3,9\n2020-02,4,8\n2020-03,5,7\n', 'shop.csv', { valueColumn: 'price' });
    assert.deepEqual([...dates.values], [9, 8, 7]);
    assert.equal(dates.frequency, 12);
    assert.ok(Math.abs(dates.time[1]! - (2020 + 1 / 12)) < 1e-9);
  });

  it('names the file, the line and the bad cell', () => {
    assert.throws(() => parseSeriesCsv('time,value\n1,2\n2,abc\n', 'prices.csv'), /prices\.csv line 3: expected a number in column "value", received "abc"/);
    assert.throws(() => parseSeriesCsv('1949,1\n1950,NA\n', 'x.csv'), /x\.csv line 2.*"NA"/);
    assert.throws(() => parseSeriesCsv('time,value\n1,2\n2\n', 'x.csv'), /x\.csv line 3: expected at least 2 columns, received 1/);
    assert.throws(() => parseSeriesCsv('time,value\n2,1\n1,2\n', 'x.csv'), /x\.csv line 3: times must increase/);
  });

  it('rejects empty input, too few values and unknown columns', () => {
    assert.throws(() => parseSeriesCsv('', 'empty.csv'), /empty\.csv is empty/);
    assert.throws(() => parseSeriesCsv('\n  \n', 'blank.csv'), /blank\.csv is empty/);
    assert.throws(() => parseSeriesCsv('time,value\n', 'head.csv'), /head\.csv has 0 value\(s\); at least 2 are needed/);
    assert.throws(() => parseSeriesCsv('time,value\n1,2\n2,3\n', 'short.csv', { minLength: 10 }), /short\.csv has 2 value\(s\); at least 10/);
    assert.throws(() => parseSeriesCsv('time,value\n1,2\n', 's.csv', { valueColumn: 'price' }), /valueColumn "price" not found in s\.csv \(it has columns "time", "value"\)/);
  });

  it('infers 12, 4 and 1 from decimal-year spacing', () => {
    const monthly = Array.from({ length: 30 }, (_, i) => Number((1990 + i / 12).toFixed(4)));
    assert.equal(inferFrequency(monthly), 12);
    assert.equal(inferFrequency([2000, 2000.25, 2000.5, 2000.75]), 4);
    assert.equal(inferFrequency([1, 2, 3]), 1);
    assert.equal(inferFrequency([0, 0.3, 0.6]), 1);
  });
});

describe('ZScore', () => {
  it('scales the training part to mean 0 and std 1 and inverts exactly', () => {
    const train = Float32Array.from([2, 4, 4, 4, 5, 5, 7, 9]);
    const z = ZScore.fit(train);
    assert.equal(z.mean, 5);
    assert.equal(z.std, 2);
    assert.deepEqual([...z.apply(train)], [-1.5, -0.5, -0.5, -0.5, 0, 0, 1, 2]);
    assert.deepEqual([...z.invert(z.apply(train))], [...train]);
    assert.equal(z.invertValue(z.applyValue(123)), 123);
  });

  it('survives a JSON round trip and rejects malformed JSON', () => {
    const z = ZScore.fit([1, 2, 3]);
    const back = ZScore.fromJSON(JSON.parse(JSON.stringify(z)));
    assert.equal(back.mean, z.mean);
    assert.equal(back.std, z.std);
    assert.throws(() => ZScore.fromJSON({ type: 'zscore', mean: 1 }), /ZScore\.fromJSON: expected/);
    assert.throws(() => ZScore.fromJSON({ type: 'zscore', mean: 1, std: 0 }), /positive finite std/);
  });

  it('keeps a constant series finite', () => {
    const z = ZScore.fit([3, 3, 3]);
    assert.equal(z.std, 1);
    assert.deepEqual([...z.apply([3, 4])], [0, 1]);
    assert.throws(() => ZScore.fit([1, NaN]), /index 1 is NaN/);
  });
});

describe('splitSeries and windows', () => {
  it('splits in time order, with validation context', () => {
    const v = ramp(100);
    const s = splitSeries(v, { validationFraction: 0.2, context: 10 });
    assert.equal(s.splitIndex, 80);
    assert.equal(s.train.length, 80);
    assert.equal(s.train[79], 79);
    assert.equal(s.validation.length, 30);
    assert.equal(s.validation[0], 70);
    assert.throws(() => splitSeries(v, { validationFraction: 1 }), /validationFraction must be in \[0, 1\), received 1/);
  });

  it('lays windows out time-major [seq, batch, 1] with shifted targets', () => {
    const v = ramp(20);
    const b = windowBatch(v, [0, 5, 12], 4);
    assert.equal(b.inputs.length, 12);
    for (let t = 0; t < 4; t++) {
      [0, 5, 12].forEach((start, k) => {
        assert.equal(b.inputs[t * 3 + k], start + t);
        assert.equal(b.targets[t * 3 + k], start + t + 1);
      });
    }
    assert.deepEqual([...b.next], [4, 9, 16]);
    assert.throws(() => windowBatch(v, [16], 4), /starts\[0\] = 16 is out of range; expected an integer in \[0, 15\]/);
  });

  it('visits every window once per epoch, shuffled reproducibly', () => {
    const v = ramp(50);
    const opts = { seqLen: 8, batchSize: 5, rng: new DataRng(3) };
    const batches = [...seriesBatches(v, opts)];
    assert.equal(batches.length, seriesBatchCount(50, opts));
    assert.equal(batches.length, 9); // 42 windows → 8 full batches and one of 2
    assert.equal(batches.at(-1)!.batchSize, 2);
    const starts = batches.flatMap((b) => [...b.starts]);
    assert.deepEqual([...starts].sort((a, b) => a - b), Array.from({ length: 42 }, (_, i) => i));
    assert.notDeepEqual(starts, Array.from({ length: 42 }, (_, i) => i));
    const again = [...seriesBatches(v, { ...opts, rng: new DataRng(3) })].flatMap((b) => [...b.starts]);
    assert.deepEqual(again, starts);
    assert.equal([...seriesBatches(v, { seqLen: 8, batchSize: 5, dropLast: true })].length, 8);
  });

  it('refuses a series shorter than one window, at the call', () => {
    assert.throws(() => seriesBatches(ramp(8), { seqLen: 8, batchSize: 2 }), /a series of 8 value\(s\) is too short for seqLen 8; at least seqLen \+ 1 = 9/);
    assert.throws(() => seriesBatches(ramp(20), { seqLen: 4, batchSize: 0 }), /batchSize must be a positive integer, received 0/);
    assert.throws(() => windowBatch(ramp(2 ** 20), Array.from({ length: 2 ** 10 }, () => 0), 2 ** 18), /more than the limit/);
  });
});

describe('sineWave', () => {
  it('is periodic, bounded and reproducible from the seed', () => {
    const a = sineWave({ length: 200, period: 20, seed: 7 });
    assert.deepEqual(a, sineWave({ length: 200, period: 20, seed: 7 }));
    assert.notDeepEqual(a, sineWave({ length: 200, period: 20, seed: 8 }));
    for (let t = 0; t + 20 < 200; t++) assert.ok(Math.abs(a[t]! - a[t + 20]!) < 1e-4);
    assert.ok(a.every((x) => Math.abs(x) <= 1 + 1e-6));
    assert.equal(sineWave({ length: 4, period: 4, phase: 0 })[1], 1);
    const noisy = sineWave({ length: 200, period: 20, seed: 7, noiseStd: 0.1 });
    assert.ok(rmse(noisy, a) > 0.05 && rmse(noisy, a) < 0.2);
  });
});

describe('baselines', () => {
  it('computes naive and seasonal naive forecasts and their errors', () => {
    const v = [1, 2, 3, 4, 5, 6];
    assert.deepEqual([...naiveForecast(v, 2)], [2, 3, 4, 5]);
    assert.deepEqual([...seasonalNaiveForecast(v, 3)], [1, 2, 3]);
    assert.equal(rmse([1, 2], [1, 4]), Math.sqrt(2));
    assert.equal(mae([1, 2], [1, 4]), 1);
    assert.throws(() => rmse([1], [1, 2]), /rmse: predictions and targets differ in length: 1 vs 2/);
    assert.throws(() => mae([NaN], [1]), /non-finite value at index 0/);
    assert.throws(() => seasonalNaiveForecast(v, 12), /start must be an integer in \[period, length\] = \[12, 6\]/);
  });

  it('finds the seasonal naive forecast exact on a purely seasonal series', () => {
    const v = Float32Array.from({ length: 48 }, (_, i) => [5, 1, 3, 8][i % 4]!);
    const scores = baselineScores(v, 40, 4);
    assert.equal(scores.seasonal?.rmse, 0);
    assert.ok(scores.naive.rmse > 1);
    assert.equal(baselineScores(v, 40, 1).seasonal, undefined);
  });
});

describe('shipped data', () => {
  it('lists and resolves shipped datasets by name, and paths as given', () => {
    assert.ok(listShippedData('series').includes('AirPassengers'));
    assert.deepEqual(listShippedData('music'), ['pianobooster', 'simutrans']);
    assert.equal(resolveDataPath('series', 'airpassengers'), shippedDataPath('series', 'AirPassengers.csv'));
    assert.equal(resolveDataPath('text', 'austen-sense'), shippedDataPath('text', 'austen-sense.txt'));
    const path = shippedDataPath('series', 'Nile.csv');
    assert.equal(resolveDataPath('series', path), path);
    assert.throws(() => resolveDataPath('series', 'nope'), /"nope" is neither an existing path nor a shipped series dataset \(shipped: .*AirPassengers/);
    assert.throws(() => readSeriesFile('/no/such/file.csv'), /readSeriesFile: cannot read \/no\/such\/file\.csv \(no such file\)/);
  });
});

describe('parseSeriesCsv on hostile cells', () => {
  it('a 150,000-character cell that is not a number is refused at once, and quoted short', () => {
    const cell = `${'1'.repeat(150_000)}x`;
    const started = performance.now();
    assert.throws(() => parseSeriesCsv(`t,v\n1,${cell}\n2,3\n`), (error: Error) => {
      // A hang check, not a speed target: the old number pattern, quadratic in the cell's length,
      // took 28 s here; a linear one takes about a millisecond.
      assert.ok(performance.now() - started < 5_000, `took ${(performance.now() - started).toFixed(0)} ms`);
      assert.match(error.message, /expected a number in column "v", received "1{40}…" \(150001 characters\)$/);
      assert.ok(error.message.length < 200, `the message has ${error.message.length} characters`);
      return true;
    });
  });

  it('a value that float32 cannot hold is refused, not turned into Infinity', () => {
    assert.throws(() => parseSeriesCsv('t,v\n1,5\n2,1e39\n'), /line 3: the value "1e39" in column "v" is outside float32's range/);
    // Beyond float64 too: still a number, out of range, and a long one is quoted short.
    assert.throws(() => parseSeriesCsv('t,v\n1,5\n2,-1e400\n'), /line 3: the value "-1e400" in column "v" is outside float32's range/);
    assert.throws(() => parseSeriesCsv(`t,v\n1,5\n2,${'9'.repeat(150_000)}\n`), /line 3: the value "9{40}…" \(150000 characters\) in column "v" is outside float32's range/);
  });

  it('numbers in every form the pattern accepts still parse', () => {
    const s = parseSeriesCsv('t,v\n1,+1.5\n2,-.25\n3,7.\n4,2e3\n5,-3.5E-2\n');
    assert.deepEqual([...s.values], [1.5, -0.25, 7, 2000, -0.035].map(Math.fround));
  });
});

it('wide tables: a year x month table reads row by row as one monthly series; the last row may end early', () => {
  const text = 'YEAR,JAN,FEB,MAR,APR\n1950,1,2,3,4\n1951,5,6,7,8\n1952,9,10,,\n';
  const s = parseSeriesCsv(text, 'nino.csv', { wide: true });
  assert.deepEqual(Array.from(s.values), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(s.frequency, 4);
  assert.deepEqual(Array.from(s.time.subarray(0, 5)), [1950, 1950.25, 1950.5, 1950.75, 1951]);
  assert.throws(() => parseSeriesCsv('Y,A,B\n1950,1,\n1951,3,4\n', 'w.csv', { wide: true }), /w\.csv line 3: season 1 has a value after an empty cell on line 2; only the last row may end early/);
  assert.throws(() => parseSeriesCsv('Y,A,B\n1951,1,2\n1950,3,4\n', 'w.csv', { wide: true }), /line 3: years must increase, but 1950 follows 1951/);
  assert.throws(() => parseSeriesCsv('Y,A,B\n1950,1,x\n', 'w.csv', { wide: true }), /line 2: expected a number .* in season column 2, received "x"/);
  assert.throws(() => parseSeriesCsv(text, 'nino.csv', { wide: true, valueColumn: 'JAN' }), /pass either wide or valueColumn/);
});

it('a table with several value columns and none named is an error that says how to choose, not a silent first column', () => {
  const text = 'YEAR,JAN,FEB,MAR\n1950,1,2,3\n1951,5,6,7\n';
  assert.throws(() => parseSeriesCsv(text, 'nino.csv'), /nino\.csv has 4 columns: "YEAR", "JAN", "FEB", "MAR"; name the value column \(--column NAME or index\), or .*\(--wide\)/);
  assert.deepEqual(Array.from(parseSeriesCsv(text, 'nino.csv', { valueColumn: 'feb' }).values), [2, 6]);
});

test('findOutliers: robust z-scores (median and MAD) find one wild value among many, non-finite values always', () => {
  const values = Array.from({ length: 200 }, (_, i) => 50 + 10 * Math.sin(i / 5));
  assert.deepEqual(findOutliers(values).outliers, []);
  values[17] = 1e30;
  values[90] = 500; // 45 times the spread away from the median
  values[120] = NaN;
  const report = findOutliers(values);
  assert.deepEqual(report.outliers.map((o) => o.index), [120, 17, 90]);
  assert.ok(report.outliers[2]!.score > 30 && report.outliers[2]!.score < 100, `score ${report.outliers[2]!.score}`);
  // The wild values do not move the centre or the scale the others are judged by.
  assert.ok(Math.abs(report.median - 50) < 2 && report.scale > 5 && report.scale < 15, `${report.median} ${report.scale}`);
  // More than half the values equal (MAD 0): the mean absolute deviation still judges the rest.
  assert.deepEqual(findOutliers([...Array(30).fill(0), 1, 2, 1, 1e6]).outliers.map((o) => o.index), [33]);
  assert.deepEqual(findOutliers(Array(10).fill(3)).outliers, []);
});

test('checkSeriesOutliers names the file, the line and the value; a series without outliers passes', () => {
  const text = `time,value\n${Array.from({ length: 40 }, (_, i) => `${2000 + i},${i === 9 ? '-7e25' : 20 + (i % 4)}`).join('\n')}\n`;
  const series = parseSeriesCsv(text, 'readings.csv');
  assert.throws(() => checkSeriesOutliers(series, '--allow-outliers'),
    /^Error: checkSeriesOutliers: readings\.csv holds 1 value\(s\) far from the rest \(median 21\.5, robust scale [\d.]+, limit z 30\): line 11: -7e\+25 \(robust z-score \S+\)\. Fix or remove them, or pass --allow-outliers to train on them as they are$/);
  checkSeriesOutliers(parseSeriesCsv(text.replace('-7e25', '22'), 'readings.csv'), '--allow-outliers');
});
