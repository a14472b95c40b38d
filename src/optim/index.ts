export { Optimizer, type NonFiniteMode, type StepChecks, type OptimizerStateDict, type OptimizerMeta, type ParamGroup, type ParamGroupInput, type Params, type ParamState } from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { RMSprop, type RMSpropOptions } from './rmsprop.js';
export { LBFGS, type LBFGSOptions } from './lbfgs.js';
export { clipGradNorm, clipGradValue, type ClipGradNormOptions } from './clip.js';
export {
  LRScheduler, StepLR, CosineAnnealingLR,
  type SchedulableOptimizer, type SchedulerState, type SchedulerOption, type StepLROptions, type CosineAnnealingLROptions,
} from './lr-scheduler.js';
export {
  LinearLR, OneCycleLR, ReduceLROnPlateau,
  type LinearLROptions, type OneCycleLROptions, type ReduceLROnPlateauOptions, type PlateauState,
} from './schedules.js';
