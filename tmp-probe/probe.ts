import { Generator, nn, tensor } from '../src/index.js';
import { kernelsFor } from '../src/kernels/index.js';
const heap = (kernelsFor('float32') as any).heap;
const [T, B, V, H] = [64, 32, 65, 256];
const lstm = new nn.LSTM({ inputSize: V, hiddenSize: H, numLayers: 2, generator: new Generator(1) });
const x = new Float32Array(T*B*V); for (let i=0;i<T*B;i++) x[i*V + (i*7)%V]=1;
const xt = tensor(x, [T,B,V]);
const origAlloc = heap.alloc.bind(heap);
let watch = false;

let top0 = 0;
const t0 = performance.now();
for (let i = 0; i < 60; i++) {
  if (i === 10) { watch = true; top0 = heap.used; }
  lstm.forward(xt);
  if (i>=10 && heap.used !== top0) { console.log('call', i, 'top', heap.used - top0); top0 = heap.used; }
}
console.log('ms per call', (performance.now() - t0) / 60);
