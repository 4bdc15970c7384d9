import ort from 'onnxruntime-node';
import { UserError } from '../util/errors.ts';

/**
 * onnxruntime calls with their errors turned into one line naming the model: an op onnxruntime
 * does not know, a graph that does not type-check or a shape it cannot run are problems of the
 * user's model, not bugs (exit 2, not a stack trace).
 */
export async function createSession(
  model: Uint8Array,
  modelPath: string,
  /** onnxruntime's memory arena (see WIDE_LAYER_VALUES); off for models with wide layers. */
  arena = true,
): Promise<ort.InferenceSession> {
  try {
    // onnxruntime's own log would add lines to the one this reports (4: fatal only).
    return await ort.InferenceSession.create(model, {
      logSeverityLevel: 4,
      enableCpuMemArena: arena,
    });
  } catch (err) {
    throw new UserError(`${modelPath}: onnxruntime cannot load the model: ${ortMessage(err)}`);
  }
}

/**
 * A model with a layer wider than this runs its sessions without onnxruntime's memory arena: the
 * arena keeps each session's largest run allocated for the life of the process, and at such layers
 * the sessions of the classifier and its heads then hold about 1 GB between them (measured on a VGG
 * with a 281,600-value layer: 1066 MB resident after activations and gradients with arenas, 439 MB
 * without; docs/your-model.md). Without the arena every run allocates its buffers (more system
 * time), so models of the usual widths (the shipped ResNets: at most 140,800) keep it.
 */
export const WIDE_LAYER_VALUES = 200_000;

/** The useful part of an onnxruntime message, on one line. */
export function ortMessage(err: unknown): string {
  const text = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
  const noOp = /No Op registered for (\S+)/.exec(text);
  if (noOp) return `unknown op ${noOp[1]} (${text.slice(0, 300)})`;
  return text.slice(0, 400);
}
