import { UserError } from '../util/errors.ts';
import { INPUT_BOUNDS } from '../util/limits.ts';
import { inputItemDims, type InputSpec } from './spec.ts';

/**
 * Bounds of an input spec, whatever its source (metadata, sidecar, flags): a window of 2e6 frames
 * or 100,000 frames per second would make every piano roll and every model run allocate
 * gigabytes. Checked as soon as the spec is known, before the model runs.
 */
export function checkInputBounds(modelPath: string, spec: InputSpec): void {
  const over = (what: string, value: number, limit: number, flag: string) =>
    new UserError(
      `${modelPath}: input spec ${what} ${value} is over the limit of ${limit} (metadata, sidecar or ${flag})`,
    );
  if (spec.fps > INPUT_BOUNDS.maxFps) throw over('fps', spec.fps, INPUT_BOUNDS.maxFps, '--fps');
  if (spec.windowFrames > INPUT_BOUNDS.maxWindowFrames)
    throw over('windowFrames', spec.windowFrames, INPUT_BOUNDS.maxWindowFrames, '--window-frames');
  const seconds = spec.windowFrames / spec.fps;
  if (seconds > INPUT_BOUNDS.maxWindowSeconds) {
    throw new UserError(
      `${modelPath}: input spec windowFrames / fps = ${seconds.toFixed(0)} s per window, over the limit of ${INPUT_BOUNDS.maxWindowSeconds} s`,
    );
  }
  const values = inputItemDims(spec).reduce((a, b) => a * b, 1);
  if (values > INPUT_BOUNDS.maxItemValues) {
    throw new UserError(
      `${modelPath}: input spec gives ${values} values per input (channels x frames x pitches), over the limit of ${INPUT_BOUNDS.maxItemValues}`,
    );
  }
}
