import type { Rule } from '../rule.ts';
import { arithmeticRules } from './arithmetic.ts';
import { convRules } from './conv.ts';
import { einsumRules } from './einsum.ts';
import { elementwiseRules } from './elementwise.ts';
import { matmulRules } from './matmul.ts';
import { moreRules } from './more.ts';
import { normalizationRules } from './normalization.ts';
import { poolRules } from './pool.ts';
import { recurrentRules } from './recurrent.ts';
import { rearrangeRules } from './rearrange.ts';
import { reduceRules } from './reduce.ts';
import { resizeRules } from './resize.ts';
import { shapeRules } from './shape.ts';

/** The op table: one backward rule per ONNX operator (default domain). */
export const RULES: Readonly<Record<string, Rule>> = {
  ...elementwiseRules,
  ...arithmeticRules,
  ...matmulRules,
  ...convRules,
  ...poolRules,
  ...reduceRules,
  ...normalizationRules,
  ...shapeRules,
  ...recurrentRules,
  ...einsumRules,
  ...moreRules,
  ...resizeRules,
  ...rearrangeRules,
};

/**
 * Ops whose outputs carry no gradient: shapes, comparisons, index computations and step
 * functions (zero derivative almost everywhere). Values flowing through them are treated as
 * constants of the input, as PyTorch does.
 */
export const NO_GRADIENT = new Set([
  'Shape',
  'Size',
  'Constant',
  'ConstantOfShape',
  'EyeLike',
  'Range',
  'RandomNormalLike',
  'RandomUniformLike',
  'Equal',
  'Less',
  'LessOrEqual',
  'Greater',
  'GreaterOrEqual',
  'Not',
  'And',
  'Or',
  'Xor',
  'IsNaN',
  'IsInf',
  'ArgMax',
  'ArgMin',
  'NonZero',
  'Floor',
  'Ceil',
  'Round',
  'Sign',
]);
