import { existsSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from '../util/errors.ts';
import { parseYamlFile } from '../util/yaml.ts';
import { LAYOUTS, layoutItemDims } from './axes.ts';
import { checkInputBounds } from './bounds.ts';
import type { Dim } from './onnx.ts';

/**
 * What a classifier expects as input and which classes it outputs. Self-describing models carry
 * both in ONNX metadata_props (`concept_lens.labels`, `concept_lens.input`, JSON); foreign models
 * get them from a sidecar YAML (`<model>.concept-lens.yaml`) or from the caller (CLI flags).
 * Precedence, field by field: caller overrides > sidecar > metadata.
 */

export const LABELS_KEY = 'concept_lens.labels';
export const INPUT_KEY = 'concept_lens.input';

const inputSpecFields = z
  .object({
    /** Piano-roll frames per second. */
    fps: z.number().positive(),
    /** Frames per model input (T). */
    windowFrames: z.number().int().positive(),
    /** Lowest and highest MIDI pitch (inclusive) of the pitch axis (P). */
    lowPitch: z.number().int().min(0).max(127),
    highPitch: z.number().int().min(0).max(127),
    /** Input channels (C), in order. */
    channels: z.array(z.enum(['frame', 'onset'])).min(1),
    values: z.enum(['binary', 'velocity']),
    /** Tensor layout: N batch, C channels, T time frames, P pitches (no C: one channel). */
    layout: z.enum(LAYOUTS),
  })
  .strict();

export const inputSpecSchema = inputSpecFields
  .refine((s) => s.highPitch >= s.lowPitch, {
    message: 'highPitch must be >= lowPitch',
  })
  .refine((s) => s.layout.includes('C') || s.channels.length === 1, {
    message: 'a layout without a channel axis (NTP, NPT) takes exactly one channel',
    path: ['channels'],
  });

export type InputSpec = z.infer<typeof inputSpecSchema>;
type PartialSpec = Partial<InputSpec>;

export const sidecarSchema = z
  .object({
    labels: z.array(z.string().min(1)).min(1).optional(),
    input: inputSpecFields.partial().optional(),
  })
  .strict();

/** What a caller may supply for models without (or with wrong) metadata. */
export interface ModelOverrides {
  labels?: string[];
  input?: PartialSpec;
  /** Sidecar YAML path; default `<model without .onnx>.concept-lens.yaml` when that file exists. */
  sidecar?: string;
}

export interface ModelDescription {
  labels: string[];
  input: InputSpec;
}

/** CLI flag for each field, named in error messages. */
const FLAGS: Record<keyof InputSpec | 'labels', string> = {
  labels: '--labels',
  fps: '--fps',
  windowFrames: '--window-frames',
  lowPitch: '--low-pitch',
  highPitch: '--high-pitch',
  channels: '--channels',
  values: '--values',
  layout: '--layout',
};

export function defaultSidecarPath(modelPath: string): string {
  return `${modelPath.replace(/\.onnx$/i, '')}.concept-lens.yaml`;
}

/** Resolve labels and input spec from metadata, sidecar and overrides; UserError naming what is missing. */
export function resolveDescription(
  modelPath: string,
  meta: Record<string, string>,
  overrides: ModelOverrides = {},
): ModelDescription {
  const fromMeta = parseMetadata(modelPath, meta);
  const sidecarPath = overrides.sidecar ?? defaultSidecarPath(modelPath);
  const sidecar =
    overrides.sidecar || existsSync(sidecarPath)
      ? parseYamlFile(sidecarPath, sidecarSchema)
      : { labels: undefined, input: undefined };

  const labels = overrides.labels ?? sidecar.labels ?? fromMeta.labels;
  const merged: PartialSpec = {
    ...fromMeta.input,
    ...stripUndefined(sidecar.input ?? {}),
    ...stripUndefined(overrides.input ?? {}),
  };
  const missing = (Object.keys(FLAGS) as (keyof typeof FLAGS)[]).filter((k) =>
    k === 'labels' ? !labels || labels.length === 0 : merged[k] === undefined,
  );
  if (missing.length > 0) {
    throw new UserError(
      `${modelPath}: missing ${missing.join(', ')}. Provide them as ONNX metadata_props ` +
        `(${LABELS_KEY}, ${INPUT_KEY}), in a sidecar ${sidecarPath} (keys labels, input.<field>), ` +
        `or with ${missing.map((k) => FLAGS[k]).join(' ')}`,
    );
  }
  const parsed = inputSpecSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(
      `${modelPath}: input spec ${issue.path.join('.') || ''}: ${issue.message}`.replace(
        ' : ',
        ': ',
      ),
    );
  }
  checkInputBounds(modelPath, parsed.data);
  return { labels: labels!, input: parsed.data };
}

function parseMetadata(
  modelPath: string,
  meta: Record<string, string>,
): { labels?: string[]; input: PartialSpec } {
  const parseJson = (key: string): unknown => {
    try {
      return JSON.parse(meta[key]);
    } catch {
      throw new UserError(`${modelPath}: metadata_props ${key} is not valid JSON`);
    }
  };
  let labels: string[] | undefined;
  if (meta[LABELS_KEY] !== undefined) {
    const r = z.array(z.string().min(1)).min(1).safeParse(parseJson(LABELS_KEY));
    if (!r.success)
      throw new UserError(
        `${modelPath}: metadata_props ${LABELS_KEY} must be a JSON array of class names`,
      );
    labels = r.data;
  }
  let input: PartialSpec = {};
  if (meta[INPUT_KEY] !== undefined) {
    const r = sidecarSchema.shape.input.safeParse(parseJson(INPUT_KEY));
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new UserError(
        `${modelPath}: metadata_props ${INPUT_KEY}: ${issue.path.join('.')}: ${issue.message}`,
      );
    }
    input = r.data ?? {};
  }
  return { labels, input };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function pitchCount(spec: InputSpec): number {
  return spec.highPitch - spec.lowPitch + 1;
}

/** Per-item input dims in the spec's layout: [C, T, P] for NCTP, [T, P, C] for NTPC, ... */
export function inputItemDims(spec: InputSpec): number[] {
  return layoutItemDims(spec.layout, spec.channels.length, spec.windowFrames, pitchCount(spec));
}

/** Check the spec against the model's declared input dims where those are static. */
export function checkInputShape(modelPath: string, spec: InputSpec, declared: Dim[]): void {
  if (declared.length === 0) return; // the model declares no shape: nothing to check
  if (declared.length !== spec.layout.length) {
    throw new UserError(
      `${modelPath}: input has ${declared.length} dimensions, but layout ${spec.layout} has ${spec.layout.length}`,
    );
  }
  const expected = inputItemDims(spec);
  const names: Record<string, string> = { C: 'channels', T: 'windowFrames', P: 'pitches' };
  const axes = [...spec.layout.slice(1)].map((l) => names[l]);
  for (let i = 0; i < axes.length; i++) {
    const d = declared[i + 1];
    if (typeof d === 'number' && d !== expected[i]) {
      throw new UserError(
        `${modelPath}: input spec gives ${axes[i]} = ${expected[i]} (layout ${spec.layout}) but the model's input ` +
          `dimension ${i + 1} is ${d}`,
      );
    }
  }
}
