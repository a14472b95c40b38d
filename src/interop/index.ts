export { exportOnnx, EXPORT_OPSET, type ExportOnnxOptions } from './onnx/export.js';
export { readOnnxTensor } from './onnx/values.js';
export { importOnnx, OnnxModel } from './onnx/import.js';
