// A port of pytorch/examples word_language_model (the LSTM model): Embedding → LSTM → Dropout →
// Linear with the decoder's weight tied to the encoder's (Press & Wolf 2016), truncated
// backpropagation through time over bptt-long chunks with the hidden state carried and detached
// (repackage_hidden), plain SGD written as in-place updates under noGrad, gradient clipping and
// lr / 4 whenever validation stops improving. Data: words of a Jane Austen novel (data/text).
// Run: node --import tsx examples/word-language-model.ts [epochs] [trainWords] [size]
// Figure (checked by test/examples-pytorch-ports.test.ts with `3 6000 32`): validation perplexity falls
// at least 2.5-fold from the untrained model's (about the vocabulary size, 1,400) in 3 epochs.
import { readFileSync } from 'node:fs';
import { nn, optim, tensor, noGrad, Generator, type IntTensor, type Tensor } from 'recurrent';

const [epochs = 3, trainWords = 20000, size = 64] = process.argv.slice(2).map(Number);
const bptt = 35, batchSize = 20, evalBatchSize = 10, clip = 0.25;
let lr = 20;

// Corpus: lower-cased words and punctuation, an <eos> per line, as the example's data.py tokenises.
const text = readFileSync(new URL('../data/text/austen-persuasion.txt', import.meta.url), 'utf8');
const words = text.toLowerCase().split('\n').flatMap((line) => [...(line.match(/[a-z']+|[.,;!?]/g) ?? []), '<eos>']);
const dictionary = new Map<string, number>();
const ids = (list: string[]): number[] => list.map((w) => dictionary.get(w) ?? dictionary.set(w, dictionary.size).get(w)!);
const validWords = Math.floor(trainWords / 8);
const trainIds = ids(words.slice(0, trainWords));
const validIds = ids(words.slice(trainWords, trainWords + validWords));
const ntokens = dictionary.size;

/** batchify: the stream cut into `columns` parallel streams, as a [rows, columns] array of ids. */
function batchify(stream: number[], columns: number): { rows: number; data: Int32Array } {
  const rows = Math.floor(stream.length / columns);
  const data = new Int32Array(rows * columns);
  for (let c = 0; c < columns; c++) for (let r = 0; r < rows; r++) data[r * columns + c] = stream[c * rows + r]!;
  return { rows, data };
}
/** get_batch: rows i..i+len as input and i+1..i+len+1 as targets. */
function getBatch(source: { rows: number; data: Int32Array }, columns: number, i: number): [IntTensor, IntTensor, number] {
  const len = Math.min(bptt, source.rows - 1 - i);
  const input = tensor(source.data.subarray(i * columns, (i + len) * columns), [len, columns]);
  const target = tensor(source.data.subarray((i + 1) * columns, (i + 1 + len) * columns), [len * columns]);
  return [input, target, len];
}

class RNNModel extends nn.Module {
  drop: nn.Dropout;
  encoder: nn.Embedding;
  rnn: nn.LSTM;
  decoder: nn.Linear;

  constructor(ntoken: number, ninp: number, nhid: number, nlayers: number, dropout: number, generator: Generator) {
    super();
    this.drop = new nn.Dropout(dropout, { generator });
    this.encoder = new nn.Embedding(ntoken, ninp, { generator });
    this.rnn = new nn.LSTM({ inputSize: ninp, hiddenSize: nhid, numLayers: nlayers, dropout, generator });
    this.decoder = new nn.Linear(nhid, ntoken, { generator });
    if (nhid !== ninp) throw new Error('When using the tied flag, nhid must be equal to emsize');
    this.decoder.weight = this.encoder.weight; // tied: one parameter, two names in the state dict
    // init_weights: U(-0.1, 0.1) for the shared matrix, zero decoder bias.
    noGrad(() => {
      nn.init.uniform_(this.encoder.weight, -0.1, 0.1, generator);
      this.decoder.bias!.zero_();
    });
  }

  forward(input: IntTensor, hidden?: [Tensor, Tensor]): [Tensor, [Tensor, Tensor]] {
    const emb = this.drop.forward(this.encoder.forward(input));
    const [output, next] = this.rnn.forward(emb, hidden);
    const decoded = this.decoder.forward(this.drop.forward(output));
    return [decoded.view([-1, this.decoder.outFeatures]).logSoftmax(1), next];
  }
}

const model = new RNNModel(ntokens, size, size, 2, 0.2, new Generator(1111));
const criterion = new nn.NLLLoss();
const train = batchify(trainIds, batchSize);
const valid = batchify(validIds, evalBatchSize);
/** repackage_hidden: keep the values, cut the graph. */
const repackage = ([h, c]: [Tensor, Tensor]): [Tensor, Tensor] => [h.detach(), c.detach()];

function evaluate(): number {
  model.eval();
  let total = 0;
  let hidden: [Tensor, Tensor] | undefined;
  noGrad(() => {
    for (let i = 0; i < valid.rows - 1; i += bptt) {
      const [input, target, len] = getBatch(valid, evalBatchSize, i);
      const [output, next] = model.forward(input, hidden);
      hidden = next;
      total += len * criterion.forward(output, target).item();
    }
  });
  return total / (valid.rows - 1);
}

console.log(`vocabulary ${ntokens}, ${trainIds.length} training and ${validIds.length} validation words; ${model.parameterCount()} parameters (tied)`);
console.log(`epoch 0  valid ppl ${Math.exp(evaluate()).toFixed(1)}`);
let best = Infinity;
for (let epoch = 1; epoch <= epochs; epoch++) {
  model.train();
  let hidden: [Tensor, Tensor] | undefined;
  for (let i = 0; i < train.rows - 1; i += bptt) {
    const [input, target] = getBatch(train, batchSize, i);
    hidden = hidden && repackage(hidden);
    model.zeroGrad();
    const [output, next] = model.forward(input, hidden);
    hidden = next;
    criterion.forward(output, target).backward();
    optim.clipGradNorm(model.parameters(), clip);
    noGrad(() => {
      for (const p of model.parameters()) p.add_(p.grad!, -lr);
    });
  }
  const val = evaluate();
  console.log(`epoch ${epoch}  lr ${lr}  valid loss ${val.toFixed(3)}  valid ppl ${Math.exp(val).toFixed(1)}`);
  if (val < best) best = val;
  else lr /= 4;
}
