export { RNN, LSTM, GRU, type RecurrentOptions, type RNNOptions, type LSTMOptions, type GRUOptions } from './layers.js';
export { RecurrentStepper, type StepperOptions } from './stepper.js';
export { RNNCell, LSTMCell, GRUCell, type CellOptions } from './cells.js';
export { recurrentDirection, gateCount, type CellKind, type DirectionWeights } from './fused.js';
export * as reference from './reference.js';
export { setPendingGraphLimit, getPendingGraphLimit } from './saved-graphs.js';
export { gateTrace, traceDirection, type GateSignal, type LayerGateTrace, type DirectionSteps, type TraceOptions } from './gate-trace.js';
export { RNN_NONLINEARITIES, type RnnNonlinearity } from './reference.js';
export { checkPytorchExportable } from './pytorch-compat.js';
