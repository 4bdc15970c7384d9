export { fitLogistic, decision, type LinearFit } from './cav.ts';
export { gram, takeRows, combineRows } from './linalg.ts';
export {
  TcavLayer,
  type ActivationSet,
  type TargetSet,
  type ConceptTest,
  type TargetScores,
} from './layer.ts';
export {
  runTcav,
  prepareConcepts,
  correct,
  TCAV_DEFAULTS,
  type TcavOptions,
  type PreparedConcept,
  type ConceptCavs,
} from './run.ts';
export { welchTTest, holm, meanStd, type TTest } from './stats.ts';
