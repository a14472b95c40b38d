/** Error messages as the user sees them. */

/**
 * Library errors start with the function that raised them ("parseSeriesCsv: data.csv line 4: ...");
 * a user needs the rest, which names the file, option or value.
 */
export function userMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/^(?:(?:[a-z]+[A-Z][A-Za-z]*|[A-Z][A-Za-z]*\.[a-z][A-Za-z]*)(?:\([^)]*\))?: )+/, '');
}
