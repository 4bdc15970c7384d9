import { z } from 'zod';
import { UserError } from '../../util/errors.ts';

/**
 * Parameters every texture generator shares. Concept YAML files give them under `params:`; they
 * are validated here so that a wrong value is reported by name ("register.low: ...").
 */

/** Lowest and highest piano keys (A0, C8). */
export const PIANO_LOW = 21;
export const PIANO_HIGH = 108;

const pianoKey = z.number().int().min(PIANO_LOW).max(PIANO_HIGH);

export const keySchema = z
  .object({
    /** Tonic pitch class, 0 = C ... 11 = B. */
    tonic: z.number().int().min(0).max(11),
    mode: z.enum(['major', 'minor']),
  })
  .strict();
export type Key = z.infer<typeof keySchema>;

/** A roman numeral (I, ii, V7, viio ...; case ignored: chords are diatonic) or a scale degree 1..7. */
export const chordSymbolSchema = z.union([
  z.number().int().min(1).max(7),
  z
    .string()
    .regex(
      /^(vii|iii|ii|iv|vi|v|i)(o|°|\+)?7?$/i,
      'expected a roman numeral such as I, ii, V7 or viio',
    ),
]);
export type ChordSymbol = z.infer<typeof chordSymbolSchema>;

export const registerSchema = z
  .object({ low: pianoKey, high: pianoKey })
  .strict()
  .refine((r) => r.high - r.low >= 12, { message: 'high must be at least an octave above low' });
export type Register = z.infer<typeof registerSchema>;

/** The common parameters, with `register` defaulting per texture. */
export function baseParams(defaultRegister: Register) {
  return z
    .object({
      key: keySchema.default({ tonic: 0, mode: 'major' }),
      /** One chord per bar (chorale: per beat), cycled. */
      progression: z.array(chordSymbolSchema).min(1).default(['I', 'IV', 'V', 'I']),
      register: registerSchema.default(defaultRegister),
      /** Beats per minute. */
      tempo: z.number().min(30).max(240).default(100),
      /** Length in bars ... */
      bars: z.number().int().min(1).max(512).optional(),
      /** ... or in seconds (notes are cut there); default 4 bars. */
      seconds: z.number().positive().max(3600).optional(),
      beatsPerBar: z.number().int().min(2).max(7).default(4),
      /** Base loudness; metric accents and phrasing vary around it. */
      velocity: z.number().int().min(20).max(110).default(70),
      seed: z.number().int().default(0),
      /** Small random variations of rhythm, voicing and velocity. */
      vary: z.boolean().default(false),
    })
    .strict();
}

export type BaseParams = z.infer<ReturnType<typeof baseParams>>;

/** Validate raw parameters; the error names the texture and the parameter at fault. */
export function parseParams<S extends z.ZodType>(
  texture: string,
  schema: S,
  raw: unknown,
): z.infer<S> {
  const result = schema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue.path.length > 0 ? `${formatPath(issue.path)}: ` : '';
  throw new UserError(`pattern ${texture}: ${where}${issue.message}`);
}

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`))
    .join('');
}
