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
 * Precedence, field by field: caller overrides > sidecar > metadata. The sidecar's `output` key
 * (metadata `concept_lens.output`, flag `--output-kind`) says what the output is when the graph's
 * last op does not show it (src/model/output.ts). Labels must be distinct and non-empty.
 */

export const LABELS_KEY = 'concept_lens.labels';
export const INPUT_KEY = 'concept_lens.input';
export const OUTPUT_KEY = 'concept_lens.output';

/**
 * What the model's output is: `logits` (scores before any softmax), `probabilities` (softmax of
 * logits) or `log-probabilities` (log-softmax of logits). Derivatives and scores are taken of
 * log-probabilities when the model gives probabilities (see src/model/output.ts for why).
 */
export const OUTPUT_KINDS = ['logits', 'probabilities', 'log-probabilities'] as const;
export type OutputKind = (typeof OUTPUT_KINDS)[number];

/** Input channels: notes sounding (frame), starting (onset), and their velocity / 127 (velocity). */
export const CHANNELS = ['frame', 'onset', 'velocity'] as const;

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
    channels: z.array(z.enum(CHANNELS)).min(1),
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
    labels: z.array(z.string()).min(1).optional(),
    input: inputSpecFields.partial().optional(),
    /** What the output is, when the graph does not show it (default: from the graph's last op). */
    output: z.enum(OUTPUT_KINDS).optional(),
  })
  .strict();

/** What a caller may supply for models without (or with wrong) metadata. */
export interface ModelOverrides {
  labels?: string[];
  input?: PartialSpec;
  /** Sidecar YAML path; default `<model without .onnx>.concept-lens.yaml` when that file exists. */
  sidecar?: string;
  /** What the output is (`--output-kind`), over the sidecar and metadata. */
  output?: OutputKind;
}

export interface ModelDescription {
  labels: string[];
  input: InputSpec;
  /** What the output is when a sidecar, metadata or flag says so (else read from the graph). */
  output?: OutputKind;
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
      : { labels: undefined, input: undefined, output: undefined };

  const labels = overrides.labels ?? sidecar.labels ?? fromMeta.labels;
  const labelSource = overrides.labels
    ? '--labels'
    : sidecar.labels
      ? sidecarPath
      : `metadata_props ${LABELS_KEY}`;
  if (labels) checkLabels(modelPath, labels, labelSource);
  const output = overrides.output ?? sidecar.output ?? fromMeta.output;
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
  return { labels: labels!, input: parsed.data, ...(output ? { output } : {}) };
}

/**
 * Class names must be distinct and non-empty: a name given twice would make two outputs one
 * composer (results keyed by name silently drop one), and an empty one cannot be named in a flag.
 */
export function checkLabels(modelPath: string, labels: readonly string[], source: string): void {
  const empty = labels.flatMap((l, i) => (l.trim() === '' ? [i + 1] : []));
  const seen = new Map<string, number>();
  for (const l of labels) seen.set(l, (seen.get(l) ?? 0) + 1);
  const duplicates = [...seen].filter(([l, k]) => k > 1 && l.trim() !== '');
  const problems: string[] = [];
  if (duplicates.length > 0)
    problems.push(
      `${duplicates.map(([l, k]) => `"${l}" (${k} times)`).join(', ')} named more than once`,
    );
  if (empty.length > 0)
    problems.push(`label${empty.length > 1 ? 's' : ''} ${empty.join(', ')} empty`);
  if (problems.length > 0)
    throw new UserError(
      `${modelPath}: the labels from ${source} must be distinct, non-empty class names: ${problems.join('; ')}`,
    );
}

function parseMetadata(
  modelPath: string,
  meta: Record<string, string>,
): { labels?: string[]; input: PartialSpec; output?: OutputKind } {
  const parseJson = (key: string): unknown => {
    try {
      return JSON.parse(meta[key]);
    } catch {
      throw new UserError(`${modelPath}: metadata_props ${key} is not valid JSON`);
    }
  };
  let labels: string[] | undefined;
  if (meta[LABELS_KEY] !== undefined) {
    const r = z.array(z.string()).min(1).safeParse(parseJson(LABELS_KEY));
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
  let output: OutputKind | undefined;
  if (meta[OUTPUT_KEY] !== undefined) {
    const r = z.enum(OUTPUT_KINDS).safeParse(meta[OUTPUT_KEY]);
    if (!r.success)
      throw new UserError(
        `${modelPath}: metadata_props ${OUTPUT_KEY} must be one of ${OUTPUT_KINDS.join(', ')}`,
      );
    output = r.data;
  }
  return { labels, input, output };
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
