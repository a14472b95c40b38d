/**
 * `recurrent/keras`: Keras 3 models and weights. A separate entry point because its HDF5 reader
 * (h5wasm, the HDF5 C library in WebAssembly) is a few megabytes that programs and pages without
 * Keras files should not bundle.
 */
export { loadKerasModel, loadKerasWeights, KerasModel } from './interop/keras/index.js';
