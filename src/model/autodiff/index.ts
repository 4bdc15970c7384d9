export {
  gradientGraph,
  GRADIENT_OUTPUT,
  WEIGHTS_INPUT,
  type GradientGraph,
  type GradientGraphOptions,
} from './differentiate.ts';
export { NoGradientError, UnsupportedOpError } from './rule.ts';
export { NO_GRADIENT, RULES } from './rules/index.ts';
