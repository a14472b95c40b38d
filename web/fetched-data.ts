/**
 * Shipped data the page does not bundle but copies beside it (same paths as under data/) and fetches
 * when a CLI run needs it: Sense and Sensibility (670 kB), which only runs on the CLI's default text
 * data (both novels) read. The build script copies these files; the worker fetches them.
 */
export const FETCHED_DATA: readonly string[] = ['text/austen-sense.txt'];
