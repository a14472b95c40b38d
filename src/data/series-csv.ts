/**
 * Parsing of time-series CSV text (pure: no file system, so the playground uses it on uploads too).
 * Accepted: `time,value` rows (the shipped files), a single value column, or any delimited table
 * with the columns picked by name or index. Comma, tab and semicolon delimiters; an optional header;
 * times as numbers (decimal years) or ISO dates (`1949-01`, `1949-01-31`).
 */

export interface Series {
  /** Where the text came from (a file path or '<input>'), repeated in every error. */
  source: string;
  /** Header of the value column, or 'value' when the file has no header. */
  name: string;
  /** Decimal years (or the row index when the file has no time column). */
  time: Float64Array;
  values: Float32Array;
  /**
   * Observations per unit of time, inferred from the time column: 12 monthly, 4 quarterly, 1 yearly.
   * It is also the seasonal period used by the seasonal baseline.
   */
  frequency: number;
  /** The line of the file each value was read from (1-based), for messages; absent for generated series. */
  lines?: Uint32Array;
}

export interface ParseSeriesOptions {
  /** Column holding the values: header name or 0-based index. Default: the second column, or the only one. */
  valueColumn?: string | number;
  /** Column holding the times: header name, 0-based index, or null for none. Default: the first column when there are two or more. */
  timeColumn?: string | number | null;
  /** Fewer values than this is an error (default 2). */
  minLength?: number;
  /**
   * Read a wide table as one series: the first column is the year (or any period label that is a
   * number), the other k columns its k seasons in order (a year x month table: k = 12), read row by
   * row. Empty cells may only end the last row (a year not yet complete).
   */
  wide?: boolean;
}

// One way to match each digit run: `\d+\.?\d*` could split a long run of digits in n ways and took
// quadratic time on a long cell that is not a number.
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A cell as an error message quotes it: long cells are cut, so a hostile file cannot flood the terminal. */
function quoted(cell: string): string {
  return cell.length <= 60 ? `"${cell}"` : `"${cell.slice(0, 40)}…" (${cell.length} characters)`;
}
const ISO_DATE = /^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?(?:[T ].*)?$/;

function parseNumber(cell: string): number | undefined {
  return NUMBER.test(cell) ? Number(cell) : undefined;
}

/**
 * A date as a decimal year with months of equal width (month m starts at year + (m-1)/12), so monthly
 * data lands on exactly the grid R's ts() uses and its frequency infers as 12.
 */
function parseDate(cell: string): number | undefined {
  const m = ISO_DATE.exec(cell);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = m[3] === undefined ? 1 : Number(m[3]);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return undefined;
  return year + (month - 1) / 12 + (day - 1) / (12 * daysInMonth);
}

function unquote(cell: string): string {
  const t = cell.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).replace(/""/g, '"').trim() : t;
}

function detectDelimiter(line: string): string | undefined {
  for (const d of [',', '\t', ';']) if (line.includes(d)) return d;
  return undefined;
}

function resolveColumn(
  spec: string | number,
  header: string[] | undefined,
  columns: number,
  role: string,
  source: string,
): number {
  if (typeof spec === 'number') {
    if (!Number.isInteger(spec) || spec < 0 || spec >= columns) {
      throw new Error(`parseSeriesCsv: ${role} ${spec} is out of range for ${source}, which has ${columns} column(s) (0-based index expected)`);
    }
    return spec;
  }
  const names = header ?? [];
  const index = names.findIndex((n) => n.toLowerCase() === spec.toLowerCase());
  if (index < 0) {
    const have = header ? `columns ${names.map((n) => JSON.stringify(n)).join(', ')}` : 'no header line';
    throw new Error(`parseSeriesCsv: ${role} "${spec}" not found in ${source} (it has ${have})`);
  }
  return index;
}

interface Row {
  line: number;
  cells: string[];
}

/** Parses CSV text into a Series; errors name the source, the line and the offending cell. */
export function parseSeriesCsv(text: string, source = '<input>', options: ParseSeriesOptions = {}): Series {
  const minLength = options.minLength ?? 2;
  const rows: Row[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  let delimiter: string | undefined;
  let delimiterKnown = false;
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] ?? '').trim();
    if (raw === '' || raw.startsWith('#')) continue;
    if (!delimiterKnown) {
      delimiter = detectDelimiter(raw);
      delimiterKnown = true;
    }
    rows.push({ line: i + 1, cells: delimiter === undefined ? [unquote(raw)] : raw.split(delimiter).map(unquote) });
  }
  const first = rows[0];
  if (!first) {
    throw new Error(`parseSeriesCsv: ${source} is empty (expected lines of "time,value")`);
  }
  const columns = first.cells.length;
  const defaultValue = columns >= 2 ? 1 : 0;
  // A header is a first row with no number or date in it; "1949,abc" is a bad data row instead.
  const isHeader = first.cells.every((c) => parseNumber(c) === undefined && parseDate(c) === undefined);
  const header = isHeader ? first.cells : undefined;
  if (options.wide) {
    if (options.valueColumn !== undefined || options.timeColumn !== undefined) {
      throw new Error(`parseSeriesCsv: ${source}: a wide table has no value or time column to pick; pass either wide or valueColumn/timeColumn`);
    }
    return parseWide(header ? rows.slice(1) : rows, columns, lines, source, minLength);
  }
  if (options.valueColumn === undefined && columns > 2) {
    const names = header ? `: ${header.map((n) => quoted(n)).join(', ')}` : '';
    throw new Error(
      `parseSeriesCsv: ${source} has ${columns} columns${names}; name the value column (--column NAME or index), ` +
        `or read a table of one row per year and one column per season as one series (--wide)`,
    );
  }
  const valueCol = resolveColumn(options.valueColumn ?? defaultValue, header, columns, 'valueColumn', source);
  const timeSpec = options.timeColumn === undefined ? (columns >= 2 ? 0 : null) : options.timeColumn;
  const timeCol = timeSpec === null ? -1 : resolveColumn(timeSpec, header, columns, 'timeColumn', source);
  const dataRows = header ? rows.slice(1) : rows;
  const valueName = header?.[valueCol] || 'value';

  const time = new Float64Array(dataRows.length);
  const values = new Float32Array(dataRows.length);
  const valueLines = new Uint32Array(dataRows.length);
  for (let r = 0; r < dataRows.length; r++) {
    const { line, cells } = dataRows[r]!;
    valueLines[r] = line;
    const where = `parseSeriesCsv: ${source} line ${line}`;
    const needed = Math.max(valueCol, timeCol) + 1;
    if (cells.length < needed) {
      throw new Error(`${where}: expected at least ${needed} columns, received ${cells.length} (${quoted(lines[line - 1]?.trim() ?? '')})`);
    }
    const valueCell = cells[valueCol]!;
    const value = parseNumber(valueCell);
    // A number too large for float64 ("1e400", or 400 digits) parses to Infinity: out of range below, not "not a number".
    if (value === undefined) {
      throw new Error(`${where}: expected a number in column ${quoted(valueName)}, received ${quoted(valueCell)}`);
    }
    if (!Number.isFinite(Math.fround(value))) {
      throw new Error(`${where}: the value ${quoted(valueCell)} in column ${quoted(valueName)} is outside float32's range (about ±3.4e38)`);
    }
    values[r] = value;
    if (timeCol < 0) {
      time[r] = r;
      continue;
    }
    const timeCell = cells[timeCol]!;
    const t = parseNumber(timeCell) ?? parseDate(timeCell);
    if (t === undefined || !Number.isFinite(t)) {
      throw new Error(`${where}: expected a time (a number such as 1949.25 or a date such as 1949-04) in column ${timeCol}, received ${quoted(timeCell)}`);
    }
    if (r > 0 && !(t > time[r - 1]!)) {
      throw new Error(`${where}: times must increase, but ${timeCell} follows ${time[r - 1]}`);
    }
    time[r] = t;
  }
  if (values.length < minLength) {
    throw new Error(`parseSeriesCsv: ${source} has ${values.length} value(s); at least ${minLength} are needed`);
  }
  return { source, name: valueName, time, values, frequency: timeCol < 0 ? 1 : inferFrequency(time), lines: valueLines };
}

/** A year x season table read row by row (see ParseSeriesOptions.wide). */
function parseWide(dataRows: readonly Row[], columns: number, lines: readonly string[], source: string, minLength: number): Series {
  const seasons = columns - 1;
  if (seasons < 2) {
    throw new Error(`parseSeriesCsv: ${source}: a wide table needs a label column and at least 2 season columns, received ${columns} column(s)`);
  }
  const time: number[] = [];
  const values: number[] = [];
  const valueLines: number[] = [];
  let ended: number | undefined;
  let previous: string | undefined;
  for (let r = 0; r < dataRows.length; r++) {
    const { line, cells } = dataRows[r]!;
    const where = `parseSeriesCsv: ${source} line ${line}`;
    if (cells.length > columns) throw new Error(`${where}: expected ${columns} columns like the first row, received ${cells.length} (${quoted(lines[line - 1]?.trim() ?? '')})`);
    const label = parseNumber(cells[0]!);
    if (label === undefined) throw new Error(`${where}: expected a year (a number) in the first column, received ${quoted(cells[0]!)}`);
    if (previous !== undefined && !(label > Number(previous))) throw new Error(`${where}: years must increase, but ${cells[0]} follows ${previous}`);
    previous = cells[0]!;
    for (let j = 1; j <= seasons; j++) {
      const cell = cells[j] ?? '';
      if (cell === '') {
        ended ??= line;
        continue;
      }
      if (ended !== undefined) {
        throw new Error(`${where}: season ${j} has a value after an empty cell on line ${ended}; only the last row may end early`);
      }
      const value = parseNumber(cell);
      if (value === undefined || !Number.isFinite(Math.fround(value))) {
        throw new Error(`${where}: expected a number (within float32's range) in season column ${j}, received ${quoted(cell)}`);
      }
      time.push(label + (j - 1) / seasons);
      values.push(value);
      valueLines.push(line);
    }
  }
  if (values.length < minLength) {
    throw new Error(`parseSeriesCsv: ${source} has ${values.length} value(s); at least ${minLength} are needed`);
  }
  return { source, name: 'value', time: Float64Array.from(time), values: Float32Array.from(values), frequency: seasons, lines: Uint32Array.from(valueLines) };
}

/**
 * Observations per unit of time from the typical (median) spacing of the times: 1/12 of a year gives
 * 12. Irregular or coarser-than-yearly spacing gives 1 (no seasonality assumed).
 */
export function inferFrequency(time: ArrayLike<number>): number {
  if (time.length < 2) return 1;
  const gaps: number[] = [];
  for (let i = 1; i < time.length; i++) gaps.push(time[i]! - time[i - 1]!);
  gaps.sort((a, b) => a - b);
  const median = gaps[Math.floor(gaps.length / 2)]!;
  if (!(median > 0) || median >= 1) return 1;
  const perUnit = 1 / median;
  const rounded = Math.round(perUnit);
  // Decimal years are usually printed with 4 decimals (1949.0833), hence a tolerance, not equality.
  return Math.abs(perUnit - rounded) / rounded < 0.02 ? rounded : 1;
}
