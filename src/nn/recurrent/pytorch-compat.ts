/**
 * What PyTorch cannot rebuild. Our extensions that PyTorch has no module for must not leave for
 * PyTorch silently: torch.nn.RNN would load a sigmoid RNN's weights without complaint and compute
 * tanh with them.
 */
import type { Module } from '../module.js';
import { RNNCell } from './cells.js';
import { RNN } from './layers.js';

/** Throws, naming the module, when `module` or one of its sub-modules has no PyTorch equivalent. */
export function checkPytorchExportable(module: Module, what: string): void {
  for (const [name, m] of module.namedModules()) {
    if ((m instanceof RNN || m instanceof RNNCell) && m.nonlinearity === 'sigmoid') {
      throw new Error(
        `${what}: ${name || 'the model'} is an ${m instanceof RNN ? 'RNN' : 'RNNCell'} with nonlinearity 'sigmoid', our extension; ` +
          `PyTorch's offers only 'tanh' and 'relu', so it cannot be exported to PyTorch (ONNX export supports it: ONNX's RNN takes Sigmoid)`,
      );
    }
  }
}
