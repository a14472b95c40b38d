// A port of PyTorch's tutorial "Classifying Names with a Character-Level RNN", with batches of
// sequences of different lengths packed as PyTorch packs them (pack_sequence, enforce_sorted=False)
// instead of one name at a time. The shipped data has no names by language, so the classes are the
// two shipped Jane Austen novels and the sequences their sentences: which book is this sentence from?
// Embedding → GRU over the packed batch → Linear on each sentence's own last hidden state.
// Run: node --import tsx examples/classify-sentences.ts [steps] [hidden]
// Figure (checked by test/examples-pytorch-ports.test.ts with `400 64`): held-out accuracy above 0.6
// on 400 sentences, the last 200 of each book, which training never sees (chance 0.5).
import { readFileSync } from 'node:fs';
import { nn, optim, tensor, noGrad, Generator, type Tensor } from 'recurrent';

const [steps = 600, hidden = 64] = process.argv.slice(2).map(Number);
const books = ['austen-persuasion', 'austen-sense'];
const batchSize = 32;
const heldOut = 200;

// Sentences of 20 to 200 characters, whitespace collapsed, in book order.
const sentencesOf = (name: string): string[] =>
  readFileSync(new URL(`../data/text/${name}.txt`, import.meta.url), 'utf8')
    .replace(/\s+/g, ' ')
    .split(/(?<=[.!?])\s+/)
    .filter((s) => s.length >= 20 && s.length <= 200);
const perBook = books.map(sentencesOf);
const chars = [...new Set(perBook.flat().join(''))].sort();
const charId = new Map(chars.map((c, i) => [c, i]));
// The last sentences of each book are the test set: a held-out stretch, not a shuffle of neighbours.
const train = perBook.flatMap((list, label) => list.slice(0, -heldOut).map((text) => ({ text, label })));
const test = perBook.flatMap((list, label) => list.slice(-heldOut).map((text) => ({ text, label })));

const generator = new Generator(0);
const embedding = new nn.Embedding(chars.length, 16, { generator });
const gru = new nn.GRU({ inputSize: 16, hiddenSize: hidden, generator });
const classifier = new nn.Linear(hidden, books.length, { generator });
const optimizer = new optim.Adam([...embedding.parameters(), ...gru.parameters(), ...classifier.parameters()], { lr: 0.01 });

/** Logits [batch, classes] for a batch of sentences of any lengths. */
function classify(texts: readonly string[]): Tensor {
  const sequences = texts.map((t) => tensor(Array.from(t, (c) => charId.get(c)!), [t.length], { dtype: 'int64' }));
  const packed = nn.utils.rnn.packSequence(sequences, { enforceSorted: false });
  // As in PyTorch: embed the packed data, keep the batch sizes (PackedSequence(embedding(p.data), ...)).
  const [, h] = gru.forward(packed.withData(embedding.forward(packed.data)));
  // h: [1, batch, hidden], each row the state after that sentence's own last character, in input order.
  return classifier.forward(h.reshape([texts.length, hidden]));
}

function accuracy(): number {
  let right = 0;
  noGrad(() => {
    for (let i = 0; i < test.length; i += 100) {
      const chunk = test.slice(i, i + 100);
      const [, predicted] = classify(chunk.map((s) => s.text)).max(1);
      right += predicted.eq(tensor(chunk.map((s) => s.label), [chunk.length], { dtype: 'int64' })).sum().item();
    }
  });
  return right / test.length;
}

console.log(`${train.length} training and ${test.length} held-out sentences, ${chars.length} characters`);
console.log(`step 0  held-out accuracy ${accuracy().toFixed(3)}`);
for (let step = 1; step <= steps; step++) {
  const batch = Array.from({ length: batchSize }, () => train[Math.floor(generator.uniform() * train.length)]!);
  const loss = nn.crossEntropy(classify(batch.map((s) => s.text)), tensor(batch.map((s) => s.label), [batchSize], { dtype: 'int64' }));
  optimizer.zeroGrad();
  loss.backward();
  optimizer.step();
  if (step % 50 === 0 || step === steps) console.log(`step ${step}  loss ${loss.item().toFixed(4)}  held-out accuracy ${accuracy().toFixed(3)}`);
}
