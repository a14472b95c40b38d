// What esbuild's loaders give the page for non-code imports (scripts/playground.ts sets them up).
declare module '*.csv' {
  const text: string;
  export default text;
}
declare module '*.txt' {
  const text: string;
  export default text;
}
declare module '*.mid' {
  const bytes: Uint8Array;
  export default bytes;
}
declare module '*.css';
