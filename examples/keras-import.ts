// Run a Keras 3 model here, then keep training it. Run: node --import tsx examples/keras-import.ts [model.keras]
//
// The default file is a test fixture: Embedding(7, 3) -> Bidirectional(LSTM(4), return_sequences)
// -> Dense(7), saved in Keras 3's .keras layout (test/fixtures/keras/README.md says how it was made).
import { readFileSync } from 'node:fs';
import { loadKerasModel } from 'recurrent/keras';
import { nn, optim, tensor, noGrad, saveSafetensors } from 'recurrent';

const path = process.argv[2] ?? new URL('../test/fixtures/keras/embedding_bidirectional_lstm.keras', import.meta.url).pathname;
const model = await loadKerasModel(new Uint8Array(readFileSync(path)));
console.log(`layers: ${model.layerNames.join(' -> ')}`);
console.log(`parameters (PyTorch names): ${Object.keys(model.stateDict()).join(', ')}`);

// Keras' layout is batch-first: token ids [batch, time].
const ids = tensor([[1, 2, 3, 4, 5], [6, 5, 4, 3, 2]], undefined, { dtype: 'int64' });
const logits = noGrad(() => model.forward(ids));
console.log(`output ${JSON.stringify(logits.shape)}; first step's logits: ${Array.from(logits.data.subarray(0, 7), (v) => v.toFixed(4)).join(' ')}`);

// It is an ordinary Module: train it to predict each next token of the two sequences.
const inputs = tensor([[1, 2, 3, 4], [6, 5, 4, 3]], undefined, { dtype: 'int64' });
const targets = tensor([2, 3, 4, 5, 5, 4, 3, 2], undefined, { dtype: 'int64' });
const opt = new optim.Adam(model.parameters(), { lr: 0.05 });
model.train();
const losses: number[] = [];
for (let step = 0; step < 60; step++) {
  const loss = nn.crossEntropy(model.forward(inputs).reshape([8, 7]), targets);
  opt.zeroGrad();
  loss.backward();
  opt.step();
  losses.push(loss.item());
}
console.log(`cross-entropy ${losses[0]!.toFixed(4)} -> ${losses.at(-1)!.toFixed(4)} after 60 Adam steps`);
// Its weights, with PyTorch's names, load into torch.nn modules (or back into this library).
console.log(`safetensors: ${saveSafetensors(model.stateDict()).length} bytes`);
