import type { z } from 'zod';
import type { Note } from '../../midi/types.ts';
import { UserError } from '../../util/errors.ts';
import { alberti, albertiSchema } from './alberti.ts';
import { arpeggio, arpeggioSchema } from './arpeggio.ts';
import { canon, canonSchema } from './canon.ts';
import { chorale, choraleSchema } from './chorale.ts';
import { chromatic, chromaticSchema } from './chromatic.ts';
import { octaves, octavesSchema } from './octaves.ts';
import { parseParams, type BaseParams } from './params.ts';
import { scales, scalesSchema } from './scales.ts';
import { stride, strideSchema } from './stride.ts';
import { tremolo, tremoloSchema } from './tremolo.ts';
import { trill, trillSchema } from './trill.ts';

/**
 * The texture generators by name. Each turns validated parameters into notes (track 0,
 * channel 0), deterministically for a given seed, within its register and the piano's range.
 */

export interface Texture<S extends z.ZodType<BaseParams> = z.ZodType<BaseParams>> {
  name: string;
  schema: S;
  generate: (params: z.infer<S>) => Note[];
  /** Narrowest register (high - low, semitones) the texture fits in with these parameters. */
  minSpan: (params: z.infer<S>) => number;
}

function texture<S extends z.ZodType<BaseParams>>(
  name: string,
  schema: S,
  generate: (params: z.infer<S>) => Note[],
  minSpan: (params: z.infer<S>) => number = () => 12,
): Texture<S> {
  return { name, schema, generate, minSpan };
}

export const TEXTURES = {
  alberti: texture('alberti', albertiSchema, alberti),
  chorale: texture('chorale', choraleSchema, chorale, () => 26),
  arpeggio: texture('arpeggio', arpeggioSchema, arpeggio, (p) => 11 + 12 * p.octaves),
  stride: texture('stride', strideSchema, stride, () => 35),
  canon: texture('canon', canonSchema, canon, (p) => Math.abs(p.interval) + 12),
  scales: texture('scales', scalesSchema, scales),
  trill: texture('trill', trillSchema, trill),
  octaves: texture('octaves', octavesSchema, octaves, () => 24),
  tremolo: texture('tremolo', tremoloSchema, tremolo, (p) => p.interval + 12),
  chromatic: texture('chromatic', chromaticSchema, chromatic),
} as const;

export type TextureName = keyof typeof TEXTURES;
export const TEXTURE_NAMES = Object.keys(TEXTURES) as TextureName[];

export function isTextureName(name: string): name is TextureName {
  return Object.hasOwn(TEXTURES, name);
}

/** Validated parameters of a texture (defaults filled in); UserError naming the bad parameter. */
export function textureParams(name: string, raw: unknown): BaseParams {
  const t = lookup(name);
  const params = parseParams(name, t.schema, raw);
  const span = params.register.high - params.register.low;
  const needed = t.minSpan(params);
  if (span < needed) {
    throw new UserError(
      `pattern ${name}: register: spans ${span} semitones, the texture needs at least ${needed}`,
    );
  }
  if (params.bars !== undefined && params.seconds !== undefined) {
    throw new UserError(`pattern ${name}: give bars or seconds, not both`);
  }
  return params;
}

/** Generate a texture from raw (e.g. YAML) parameters. */
export function generateTexture(name: string, raw: unknown = {}): Note[] {
  const params = textureParams(name, raw);
  return lookup(name).generate(params);
}

function lookup(name: string): Texture {
  if (!isTextureName(name)) {
    throw new UserError(`unknown pattern '${name}' (known: ${TEXTURE_NAMES.join(', ')})`);
  }
  return TEXTURES[name] as unknown as Texture;
}

export type { BaseParams, Key, Register, ChordSymbol } from './params.ts';
export { keyName } from './harmony.ts';
