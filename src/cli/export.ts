/**
 * `recurrent export --model DIR --onnx FILE`: a run folder's model (its best checkpoint, else the
 * latest) as an ONNX file any ONNX runtime runs, with the states as inputs and outputs so it can be
 * stepped. Class inputs (text, mono music) become int64 token ids: a one-hot model gets an identity
 * embedding table in front, which gives the same numbers as its one-hot vectors.
 */
import { exportOnnx, EXPORT_OPSET } from '../interop/index.js';
import { writeFileAtomic } from '../io/node.js';
import { Embedding, type Module } from '../nn/index.js';
import { zeros } from '../tensor/index.js';
import type { SequenceModel } from '../tasks/index.js';
import { modelConfigOf, modelOf, type RunConfig } from './run-config.js';
import { writePytorchPackage } from './pytorch-package.js';
import { inferenceCheckpoint, loadWeights, openRun } from './run-dir.js';

export interface ExportFlags {
  model: string;
  onnx?: string;
  pytorch?: string;
}

/** The run's model with its trained weights, in evaluation mode. */
export async function trainedModel(dir: string): Promise<{ config: RunConfig; model: SequenceModel; checkpoint: string; step: number }> {
  const run = openRun(dir, '--model');
  const model = modelOf(run.config);
  const checkpoint = inferenceCheckpoint(run);
  const { step } = await loadWeights(checkpoint, model);
  model.eval();
  return { config: run.config, model, checkpoint, step };
}

/** The model as a chain exportOnnx takes, and an example input of the right kind. */
export function exportChain(config: RunConfig, model: SequenceModel): { chain: Module[]; example: ReturnType<typeof zeros> } {
  const input = modelConfigOf(config).input;
  if (input.kind === 'dense') return { chain: [model.rnn, model.head], example: zeros([1, 1, input.size]) };
  let embedding = model.embedding;
  if (!embedding) {
    embedding = new Embedding(input.classes, input.classes);
    const table = embedding.weight.data;
    table.fill(0);
    for (let i = 0; i < input.classes; i++) table[i * input.classes + i] = 1;
    embedding.weight.bumpVersion();
  }
  return { chain: [embedding, model.rnn, model.head], example: zeros([1, 1]) };
}

export async function exportCommand(flags: ExportFlags): Promise<void> {
  if (!flags.onnx && !flags.pytorch) throw new Error('nothing to write: give --onnx FILE and/or --pytorch DIR');
  const { config, model, checkpoint, step } = await trainedModel(flags.model);
  if (flags.pytorch) {
    const files = await writePytorchPackage(flags.pytorch, flags.model, config, model, step);
    process.stdout.write(
      `wrote the PyTorch package ${flags.pytorch} (${files.join(', ')}) from ${checkpoint} (step ${step})\n` +
      `  continue training: cd ${flags.pytorch} && torchrun --nproc_per_node 2 train.py --steps 100 --out RUN; then recurrent eval ${config.task} --model RUN\n`,
    );
  }
  if (flags.onnx) {
    const { chain, example } = exportChain(config, model);
    const metadata: Record<string, string> = { task: config.task, checkpoint, step: String(step), config: JSON.stringify(config) };
    const bytes = exportOnnx(chain, example, { dynamicAxes: { input: { 0: 'seq', 1: 'batch' } }, metadata, docString: `recurrent ${config.task} model` });
    await writeFileAtomic(flags.onnx, bytes);
    const ids = chain[0] instanceof Embedding;
    const lstm = model.rnn.layerName === 'LSTM';
    const states = lstm ? 'h0, c0' : 'h0';
    process.stdout.write(
      `wrote ${flags.onnx} (${(bytes.length / 1024).toFixed(1)} KB, ONNX opset ${EXPORT_OPSET}) from ${checkpoint} (step ${step})\n` +
      `  inputs: input [seq, batch${ids ? '] int64 token ids' : `, ${example.shape[2]}] float32`}, ${states} [layers*directions, batch, hidden]\n` +
      `  outputs: output [seq, batch, ${model.config.outputSize}], ${lstm ? 'hn, cn' : 'hn'} (feed them back as the next call's states)\n`,
    );
  }
}
