/**
 * importOnnx: an ONNX model as something that runs here. Import decodes and checks everything once
 * (operators and attributes known, every edge produced, no cycle, initializers' sizes consistent);
 * run() then only checks the feeds and evaluates the nodes in the order found.
 */
import { Tensor, formatShape, type AnyTensor } from '../../tensor/index.js';
import { Attributes } from './attributes.js';
import { GLUE_OPERATORS, type Operator } from './glue-ops.js';
import { decodeMessage, int, onnx, type OnnxTypes } from './proto.js';
import { RECURRENT_OPERATORS, forgetPreparedWeights } from './recurrent-ops.js';
import { ELEMENT_TYPE_OF, dataTypeName, readTensorProto, tensorToValue, valueToTensor, type ElementType, type Value } from './values.js';

const OPERATORS: Record<string, Operator> = { ...GLUE_OPERATORS, ...RECURRENT_OPERATORS };

/** Opsets whose operator definitions this importer follows (the attribute-to-input moves of
 * Squeeze, Unsqueeze and Slice and Softmax's axis change are handled). */
const MIN_OPSET = 7;
const MAX_OPSET = 21;

interface PlannedNode {
  op: Operator;
  attrs: Attributes;
  inputs: string[];
  outputs: string[];
  where: string;
}

interface GraphInput {
  name: string;
  type: ElementType | null;
  /** Fixed sizes; null for a symbolic or unknown dimension. */
  dims: (number | null)[] | null;
}


export class OnnxModel {
  /** The graph's inputs a caller feeds, in graph order (initializers excluded). */
  readonly inputNames: string[];
  /** The graph's outputs, in graph order: the keys of what run() returns. */
  readonly outputNames: string[];
  readonly opset: number;
  private disposed = false;

  /** @internal use importOnnx */
  constructor(
    private readonly inputs: GraphInput[],
    outputs: string[],
    private readonly initializers: Map<string, Value>,
    private readonly plan: PlannedNode[],
    opset: number,
  ) {
    this.inputNames = inputs.map((i) => i.name);
    this.outputNames = outputs;
    this.opset = opset;
  }

  /**
   * Runs the graph on `feeds` (one Tensor per input name). Integer inputs (token ids) are given as
   * index tensors (int32, as ONNX's int64 inputs are long tensors in PyTorch) or float tensors of whole
   * numbers. Returns one Tensor per output name; integer and boolean outputs come back as int32.
   */
  run(feeds: Readonly<Record<string, AnyTensor>>): Record<string, AnyTensor> {
    if (this.disposed) throw new Error('OnnxModel.run: the model was disposed (import it again to run it)');
    if (typeof feeds !== 'object' || feeds === null) throw new Error('OnnxModel.run: feeds must be an object of Tensors keyed by input name');
    const values = new Map<string, Value>(this.initializers);
    for (const name of Object.keys(feeds)) {
      if (!this.inputNames.includes(name)) throw new Error(`OnnxModel.run: '${name}' is not an input of this model (inputs: ${this.inputNames.join(', ')})`);
    }
    for (const input of this.inputs) {
      const t = feeds[input.name];
      if (!(t instanceof Tensor)) throw new Error(`OnnxModel.run: input '${input.name}' is missing (a Tensor is needed; inputs: ${this.inputNames.join(', ')})`);
      if (input.dims && (input.dims.length !== t.shape.length || input.dims.some((d, i) => d !== null && d !== t.shape[i]))) {
        const want = input.dims.map((d) => (d === null ? '?' : String(d))).join(', ');
        throw new Error(`OnnxModel.run: input '${input.name}' must be [${want}], got ${formatShape(t.shape)}`);
      }
      values.set(input.name, feedValue(t, input));
    }
    for (const node of this.plan) {
      const args = node.inputs.map((name) => (name === '' ? null : values.get(name)!));
      const results = node.op.run(args, node.attrs, { where: node.where, opset: this.opset });
      node.outputs.forEach((name, i) => {
        if (name === '') return;
        const v = results[i];
        if (!v) throw new Error(`${node.where}: output ${i} ('${name}') is not produced by this operator`);
        values.set(name, v);
      });
    }
    return Object.fromEntries(this.outputNames.map((name) => [name, valueToTensor(values.get(name)!, `OnnxModel.run: output '${name}'`)]));
  }

  /**
   * Frees what the model holds: its initializers (the weights, most of a model's size), the recurrent
   * weights rearranged for the fused kernels, and the plan; run() afterwards is an error. Calling it
   * again does nothing. Optional: a model nothing refers to is collected like any object.
   */
  dispose(): void {
    for (const value of this.initializers.values()) forgetPreparedWeights(value);
    this.initializers.clear();
    this.plan.length = 0;
    this.disposed = true;
  }
}

function feedValue(t: AnyTensor, input: GraphInput): Value {
  const v = tensorToValue(t);
  // A copy: a parameter's data is a view of kernel memory, which a later allocation may detach.
  if (!input.type || input.type === t.dtype) return { ...v, data: v.data.slice() };
  if (input.type === 'float32' || input.type === 'float64') {
    return { type: input.type, shape: v.shape, data: input.type === 'float32' ? Float32Array.from(v.data) : Float64Array.from(v.data) };
  }
  const bad = v.data.find((x: number) => !Number.isInteger(x));
  if (bad !== undefined) throw new Error(`OnnxModel.run: input '${input.name}' is ${input.type}: its values must be integers, found ${bad}`);
  return { type: input.type, shape: v.shape, data: Float64Array.from(v.data) };
}

function inputSpec(info: OnnxTypes.IValueInfoProto, name: string): GraphInput {
  const tensorType = info.type?.tensorType;
  if (info.type && !tensorType) throw new Error(`importOnnx: graph input '${name}' is not a tensor (sequences, maps and optionals are not supported)`);
  const code = tensorType?.elemType ?? 0;
  const type = code === 0 ? null : ELEMENT_TYPE_OF[code];
  if (type === undefined) throw new Error(`importOnnx: graph input '${name}' has element type ${dataTypeName(code)}, which is not supported`);
  const dims = tensorType?.shape ? (tensorType.shape.dim ?? []).map((d) => (d.dimValue !== null && d.dimValue !== undefined && !d.dimParam ? int(d.dimValue, `importOnnx: input '${name}' dimension`) : null)) : null;
  return { name, type, dims: dims && dims.map((d) => (d !== null && d > 0 ? d : null)) };
}

/** Reads a serialised ModelProto. Throws, naming the problem, for anything this library cannot run exactly. */
export function importOnnx(bytes: Uint8Array): OnnxModel {
  const model = decodeMessage(onnx.ModelProto, bytes, 'importOnnx', 'ONNX model (ModelProto)');
  const graph = model.graph;
  if (!graph) throw new Error('importOnnx: the model has no graph');
  const opsetEntry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  const opset = opsetEntry ? int(opsetEntry.version, 'importOnnx: opset version') : 0;
  if (opset < MIN_OPSET || opset > MAX_OPSET) throw new Error(`importOnnx: the model's opset is ${opset}; this importer reads opsets ${MIN_OPSET} to ${MAX_OPSET}`);
  if ((model.functions?.length ?? 0) > 0) throw new Error('importOnnx: model-local functions are not supported');

  const initializers = new Map<string, Value>();
  for (const [i, t] of (graph.initializer ?? []).entries()) {
    const name = t.name ?? '';
    if (!name) throw new Error(`importOnnx: initializer ${i} has no name`);
    if (initializers.has(name)) throw new Error(`importOnnx: initializer '${name}' is defined twice`);
    initializers.set(name, readTensorProto(t, `importOnnx: initializer '${name}'`));
  }
  if ((graph.sparseInitializer?.length ?? 0) > 0) throw new Error('importOnnx: sparse initializers are not supported');

  const inputs = (graph.input ?? []).filter((v) => !initializers.has(v.name ?? '')).map((v, i) => {
    if (!v.name) throw new Error(`importOnnx: graph input ${i} has no name`);
    return inputSpec(v, v.name);
  });
  const available = new Set<string>([...initializers.keys(), ...inputs.map((i) => i.name)]);
  if (available.size !== initializers.size + inputs.length) throw new Error('importOnnx: two graph inputs share a name');

  // Kahn's algorithm over the nodes: a node is ready when all its inputs are available.
  const nodes = graph.node ?? [];
  const producer = new Map<string, number>();
  nodes.forEach((node, i) => {
    for (const name of node.output ?? []) {
      if (name === '') continue;
      if (available.has(name) || producer.has(name)) throw new Error(`importOnnx: value '${name}' is produced twice (node ${i}, ${node.opType})`);
      producer.set(name, i);
    }
  });
  const described = (i: number): string => `node ${i} (${nodes[i]!.opType}${nodes[i]!.name ? ` '${nodes[i]!.name}'` : ''})`;
  const waiting = nodes.map((node, i) => {
    const missing = (node.input ?? []).filter((name) => name !== '' && !available.has(name));
    for (const name of missing) {
      if (!producer.has(name)) throw new Error(`importOnnx: ${described(i)} reads '${name}', which no node, input or initializer provides`);
    }
    return new Set(missing);
  });
  const order: number[] = [];
  const ready = nodes.map((_, i) => i).filter((i) => waiting[i]!.size === 0);
  const consumers = new Map<string, number[]>();
  waiting.forEach((names, i) => names.forEach((name) => consumers.set(name, [...(consumers.get(name) ?? []), i])));
  while (ready.length > 0) {
    const i = ready.shift()!;
    order.push(i);
    for (const name of nodes[i]!.output ?? []) {
      for (const j of consumers.get(name) ?? []) {
        const w = waiting[j]!;
        if (w.delete(name) && w.size === 0) ready.push(j);
      }
    }
  }
  if (order.length !== nodes.length) {
    const stuck = nodes.map((_, i) => i).filter((i) => waiting[i]!.size > 0).slice(0, 5).map(described);
    throw new Error(`importOnnx: the graph has a cycle; these nodes wait on each other: ${stuck.join(', ')}`);
  }

  const plan = order.map((i): PlannedNode => {
    const node = nodes[i]!;
    const where = `importOnnx: ${described(i)}`;
    if (node.domain && node.domain !== 'ai.onnx') throw new Error(`${where}: operator domain '${node.domain}' is not supported`);
    const op = OPERATORS[node.opType ?? ''];
    if (!op) throw new Error(`${where}: operator ${node.opType} is not supported (supported: ${Object.keys(OPERATORS).sort().join(', ')})`);
    const attrs = new Attributes(where, node.attribute ?? []);
    attrs.allowOnly(op.attributes);
    const nodeInputs = [...(node.input ?? [])];
    if (nodeInputs.length > op.maxInputs) throw new Error(`${where}: takes at most ${op.maxInputs} inputs, got ${nodeInputs.length}`);
    return { op, attrs, inputs: nodeInputs, outputs: [...(node.output ?? [])], where };
  });

  const outputs = (graph.output ?? []).map((o, i) => {
    const name = o.name ?? '';
    if (!name || !(available.has(name) || producer.has(name))) throw new Error(`importOnnx: graph output ${i} ('${name}') is not produced by the graph`);
    return name;
  });
  return new OnnxModel(inputs, outputs, initializers, plan, opset);
}
