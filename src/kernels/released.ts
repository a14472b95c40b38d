/** What reading a released buffer says, on every backend alike. */
export const RELEASED_MESSAGE =
  "recurrent: this tensor's memory was released (its module or optimizer was disposed, or the graph that owned it was reclaimed); it can no longer be read";
