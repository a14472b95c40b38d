/**
 * Loss modules (PyTorch's nn.MSELoss, nn.CrossEntropyLoss, ...): each holds its options and calls
 * the function of the same name in losses.ts, so `criterion.forward(output, target)` reads as
 * `criterion(output, target)` does in PyTorch.
 */
import { knownOptions, type Tensor } from '../tensor/index.js';
import { BCE_KEYS, BCE_WITH_LOGITS_KEYS, binaryCrossEntropy, type BceWithLogitsOptions, type BinaryCrossEntropyOptions } from './binary-losses.js';
import {
  bceWithLogits, crossEntropy, huberLoss, klDiv, l1Loss, mseLoss, nllLoss,
  type ClassLossOptions, type CrossEntropyOptions, type KLReduction, type Reduction,
} from './losses.js';
import { Module } from './module.js';

type Targets = Tensor | Int32Array | readonly number[];

/** A loss whose one option is `reduction` (default 'mean'). */
abstract class ReducingLoss extends Module {
  readonly reduction: Reduction;
  protected constructor(name: string, options: { reduction?: Reduction }) {
    super();
    this.reduction = knownOptions(name, options, ['reduction']).reduction ?? 'mean';
  }
}

export class MSELoss extends ReducingLoss {
  constructor(options: { reduction?: Reduction } = {}) { super('MSELoss', options); }
  forward(input: Tensor, target: Tensor): Tensor { return mseLoss(input, target, this.reduction); }
}

export class L1Loss extends ReducingLoss {
  constructor(options: { reduction?: Reduction } = {}) { super('L1Loss', options); }
  forward(input: Tensor, target: Tensor): Tensor { return l1Loss(input, target, this.reduction); }
}

/** `weight` and `posWeight`, when given, are buffers of those names, as PyTorch's state_dict has them (`weight`, `pos_weight`). */
export class BCEWithLogitsLoss extends Module {
  readonly options: BceWithLogitsOptions;
  constructor(options: BceWithLogitsOptions = {}) {
    super();
    this.options = { ...knownOptions('BCEWithLogitsLoss', options, BCE_WITH_LOGITS_KEYS) };
    if (this.options.weight) this.registerBuffer('weight', this.options.weight);
    if (this.options.posWeight) this.registerBuffer('pos_weight', this.options.posWeight);
  }
  forward(input: Tensor, target: Tensor): Tensor { return bceWithLogits(input, target, this.options); }
}

/** Binary cross-entropy on probabilities; `weight`, when given, is a buffer. */
export class BCELoss extends Module {
  readonly options: BinaryCrossEntropyOptions;
  constructor(options: BinaryCrossEntropyOptions = {}) {
    super();
    this.options = { ...knownOptions('BCELoss', options, BCE_KEYS) };
    if (this.options.weight) this.registerBuffer('weight', this.options.weight);
  }
  forward(input: Tensor, target: Tensor): Tensor { return binaryCrossEntropy(input, target, this.options); }
}

export class HuberLoss extends Module {
  readonly options: { reduction?: Reduction; delta?: number };
  constructor(options: { reduction?: Reduction; delta?: number } = {}) {
    super();
    this.options = { ...knownOptions('HuberLoss', options, ['reduction', 'delta']) };
  }
  forward(input: Tensor, target: Tensor): Tensor { return huberLoss(input, target, this.options); }
}

export class KLDivLoss extends Module {
  readonly options: { reduction?: KLReduction; logTarget?: boolean };
  constructor(options: { reduction?: KLReduction; logTarget?: boolean } = {}) {
    super();
    this.options = { ...knownOptions('KLDivLoss', options, ['reduction', 'logTarget']) };
  }
  forward(input: Tensor, target: Tensor): Tensor { return klDiv(input, target, this.options); }
}

/** Class weights, when given, are a buffer named `weight`, as PyTorch's state_dict has them. */
export class CrossEntropyLoss extends Module {
  readonly options: CrossEntropyOptions;
  constructor(options: CrossEntropyOptions = {}) {
    super();
    this.options = { ...knownOptions('CrossEntropyLoss', options, ['weight', 'ignoreIndex', 'reduction', 'labelSmoothing']) };
    if (this.options.weight) this.registerBuffer('weight', this.options.weight);
  }
  forward(input: Tensor, target: Targets): Tensor { return crossEntropy(input, target, this.options); }
}

export class NLLLoss extends Module {
  readonly options: ClassLossOptions;
  constructor(options: ClassLossOptions = {}) {
    super();
    this.options = { ...knownOptions('NLLLoss', options, ['weight', 'ignoreIndex', 'reduction']) };
    if (this.options.weight) this.registerBuffer('weight', this.options.weight);
  }
  forward(input: Tensor, target: Targets): Tensor { return nllLoss(input, target, this.options); }
}
