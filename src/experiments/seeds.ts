/**
 * Seeds for the separate random streams of one experiment run (weights, training data, validation,
 * test): FNV-1a over the seed's four bytes and the stream's name gives a 32-bit seed, so streams
 * never overlap by accident and adding a stream changes none of the others.
 */
export function deriveSeed(seed: number, stream: string): number {
  let h = 0x811c9dc5;
  const mix = (byte: number) => {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  };
  for (let i = 0; i < 4; i++) mix((seed >>> (8 * i)) & 0xff);
  for (let i = 0; i < stream.length; i++) mix(stream.charCodeAt(i) & 0xff);
  return h;
}
