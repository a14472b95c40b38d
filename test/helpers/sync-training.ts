// A plain synchronous training script, as users write them: no await anywhere. It runs one forward
// and backward pass of an LSTM 256 -> 512 over 50 steps of a batch of 64 (the W5 benchmark's shape)
// and prints how many chunks of that work the helper threads computed: the helpers started at
// import must join in without the event loop ever turning.
import { nn, randn } from '../../src/index.js';
import { kernelsFor } from '../../src/kernels/index.js';
import type { WasmKernels } from '../../src/kernels/wasm/index.js';

const lstm = new nn.LSTM({ inputSize: 256, hiddenSize: 512 });
const x = randn([50, 64, 256]);
const [out] = lstm.forward(x);
out.mul(out).sum().backward();
const kernels = kernelsFor('float32') as WasmKernels;
console.log(JSON.stringify({ backend: kernels.name, threads: kernels.threads, helperChunks: kernels.helperChunks }));
