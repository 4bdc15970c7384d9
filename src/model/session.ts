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
): Promise<ort.InferenceSession> {
  try {
    // onnxruntime's own log would add lines to the one this reports (4: fatal only).
    return await ort.InferenceSession.create(model, {
      logSeverityLevel: 4,
      enableCpuMemArena: false,
    });
  } catch (err) {
    throw new UserError(`${modelPath}: onnxruntime cannot load the model: ${ortMessage(err)}`);
  }
}

/** The useful part of an onnxruntime message, on one line. */
export function ortMessage(err: unknown): string {
  const text = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
  const noOp = /No Op registered for (\S+)/.exec(text);
  if (noOp) return `unknown op ${noOp[1]} (${text.slice(0, 300)})`;
  return text.slice(0, 400);
}
