import { z } from 'zod';
import { isTextureName, TEXTURES } from '../detect/types.ts';
import { CONCEPT_BOUNDS } from '../util/limits.ts';

/**
 * The concept YAML format. A concept is a named set of musical examples; the CAV learnt from them
 * (against counterexamples) is what TCAV tests. Example sources:
 *
 *   - midi: examples/alberti/*.mid      # files or globs, relative to the YAML file
 *     bars: [1, 4]                      # optional: a bar range (1-based, inclusive) ...
 *     seconds: [0, 12.5]                # ... or a time range
 *     pitch: [21, 59]                   # optional: keep only these pitches (MIDI numbers, inclusive)
 *   - corpus: Mozart/Piano_Sonatas/11-3/midi_score.mid   # a corpus file, relative to the corpus root
 *     bars: [1, 8]
 *   - pattern: alberti                  # synthesised by a texture generator
 *     count: 40
 *     seed: 1
 *     params: { register: { low: 36, high: 60 } }
 *   - detect:                           # gathered by a symbolic detector (src/detect) over the
 *       texture: alberti                #   corpus's score files: windows where it sounds, spread
 *       split: train                    #   over pieces (docs/concepts-detect.md)
 *       maxExamples: 40
 *       minPieces: 3
 */
const range = (min: number) =>
  z
    .tuple([z.number().min(min), z.number().min(min)])
    .refine(([a, b]) => b >= a, { message: 'the end of a range must not come before its start' });

/** Examples gathered by a detector: windows of the corpus where the texture sounds. */
export const detectSourceSchema = z
  .object({
    texture: z.string().refine(isTextureName, {
      message: `a texture the detectors know: ${TEXTURES.join(', ')}`,
    }),
    /** Informational, like the concept's own `corpus:`; the corpus is the one given at run time. */
    corpus: z.string().optional(),
    /** Pieces of this side of the piece-level split (src/corpus/split.ts) only; default: all. */
    split: z.enum(['train', 'validation', 'test']).optional(),
    /** Seed of the split (the model card's; default 1). */
    splitSeed: z.number().int().optional(),
    maxExamples: z.number().int().positive().max(CONCEPT_BOUNDS.maxCount).optional(),
    /** Fail unless the examples come from at least this many pieces (default 3). */
    minPieces: z.number().int().positive().optional(),
    /** Share of a window the texture must cover (default 0.5). */
    minShare: z.number().gt(0).max(1).optional(),
  })
  .strict();

export const exampleSchema = z
  .object({
    midi: z.string().min(1).optional(),
    detect: detectSourceSchema.optional(),
    corpus: z.string().min(1).optional(),
    pattern: z.string().min(1).optional(),
    bars: range(1).optional(),
    seconds: range(0).optional(),
    pitch: z
      .tuple([z.number().int().min(0).max(127), z.number().int().min(0).max(127)])
      .refine(([low, high]) => high >= low, {
        message: 'the pitch band is reversed: give the lower pitch first, e.g. [21, 59]',
      })
      .optional(),
    count: z
      .number()
      .int()
      .positive()
      .max(CONCEPT_BOUNDS.maxCount, `at most ${CONCEPT_BOUNDS.maxCount} examples per pattern`)
      .optional(),
    seed: z.number().int().optional(),
    params: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .superRefine((ex, ctx) => {
    const sources = (['midi', 'corpus', 'pattern', 'detect'] as const).filter(
      (k) => ex[k] !== undefined,
    );
    if (sources.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          sources.length === 0
            ? 'an example needs one of midi:, corpus:, pattern: or detect:'
            : `an example takes one source, not ${sources.join(' and ')}`,
      });
      return;
    }
    if (ex.bars && ex.seconds)
      ctx.addIssue({ code: 'custom', message: 'give bars or seconds, not both' });
    if (ex.pattern !== undefined || ex.detect !== undefined) {
      const kind = ex.pattern !== undefined ? 'pattern' : 'detect';
      for (const key of ['bars', 'seconds', 'pitch'] as const) {
        if (ex[key])
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `${key} does not apply to ${kind} examples`,
          });
      }
    }
    if (ex.pattern === undefined) {
      for (const key of ['count', 'seed', 'params'] as const) {
        if (ex[key] !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `${key} applies only to pattern examples`,
          });
        }
      }
    }
  });

export type ExampleSpec = z.infer<typeof exampleSchema>;

export const conceptSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][\w .'-]*$/, 'use letters, digits, spaces, dots, dashes'),
    description: z.string().optional(),
    /** Which corpus the concept's corpus examples come from (e.g. `asap`); informational. */
    corpus: z.string().optional(),
    examples: z.array(exampleSchema).min(1),
    /** Explicit counterexamples; default: random excerpts of the corpus. */
    counterexamples: z.array(exampleSchema).optional(),
    /** Name of another concept to test against instead of random counterexamples. */
    relativeTo: z.string().optional(),
    /** How a range shorter than the model's window fills it: repeat it (default) or leave silence. */
    fill: z.enum(['loop', 'silence']).optional(),
  })
  .strict()
  .refine((c) => !(c.counterexamples && c.relativeTo), {
    message: 'give counterexamples or relativeTo, not both',
  })
  .refine((c) => c.relativeTo !== c.name, {
    path: ['relativeTo'],
    message: 'a concept cannot be tested against itself',
  });

export type ConceptSpec = z.infer<typeof conceptSchema>;
