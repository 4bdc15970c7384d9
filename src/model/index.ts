export { activations, type ActivationBatch, type ActivationOptions } from './activations.ts';
export { ActivationCache, DEFAULT_CACHE_DIR, type CacheStats } from './cache.ts';
export { ComposerClassifier, type ModelIo, type RunResult } from './classifier.ts';
export { evaluate, type Evaluation } from './evaluate.ts';
export { modulePaths, type LayerInfo } from './graph.ts';
export {
  DEFAULT_RELATIVE_STEP,
  HeadModel,
  type DerivativeMethod,
  type DerivativeOptions,
  type HeadOptions,
} from './head.ts';
export { checkRoll, rollLayoutOf, rollsToBatch } from './input.ts';
export {
  inputSpecSchema,
  inputItemDims,
  type InputSpec,
  type ModelDescription,
  type ModelOverrides,
} from './spec.ts';
