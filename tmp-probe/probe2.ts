import { Generator, nn, tensor } from '../src/index.js';
import { kernelsFor } from '../src/kernels/index.js';
const heap = (kernelsFor('float32') as any).heap;
const [T, B, V, H] = [64, 32, 65, 256];
const lstm = new nn.LSTM({ inputSize: V, hiddenSize: H, numLayers: 2, generator: new Generator(1) });
const x = new Float32Array(T*B*V); for (let i=0;i<T*B;i++) x[i*V + (i*7)%V]=1;
const xt = tensor(x, [T,B,V]);
const s = heap.inUse, st = heap.used; heap.resetPeak();
for (let i = 0; i < 40; i++) { lstm.forward(xt); if (i % 5 == 4) console.log(i, ((heap.inUse - s)/2**20).toFixed(1), ((heap.peak - st)/2**20).toFixed(1)); }
