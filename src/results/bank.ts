/**
 * The contents of a concept bank's `bank.json`: the contract between `tcav --save-bank` /
 * `explain --save-bank` (src/bank) and `timeline`, and anyone reading a bank from Python.
 * Arrays live in `.npy` files next to it (little-endian, C order), named in the manifest relative
 * to the bank folder. See the docs/banks-timelines.md for a Python example.
 */
import { z } from 'zod';

/**
 * Version 2 adds each layer's `calibration` (what "present" means, src/bank/calibration.ts).
 * Version 1 banks still load; their concepts are not calibrated.
 */
export const BANK_FORMAT = 'concept-lens-bank/2';
export const BANK_FORMATS = ['concept-lens-bank/1', BANK_FORMAT] as const;

/** A figure that may be undefined (NaN in memory, null in JSON). */
const figure = z.number().nullable();
const sideSchema = z
  .object({
    windows: z.number().int().nonnegative(),
    pieces: z.number().int().nonnegative(),
    positives: z.number().int().nonnegative(),
    auc: figure,
    precision: figure,
    recall: figure,
  })
  .strict();
export const calibrationSchema = z
  .object({
    /** The detector (src/detect texture) whose window labels the presence was fitted against. */
    detector: z.string().min(1),
    method: z.literal('platt'),
    /** P(present) = 1 / (1 + exp(-(a * projection + b))). */
    platt: z.object({ a: z.number(), b: z.number() }).strict(),
    /** "Present" when P >= threshold (chosen on training-split pieces). */
    threshold: z.number(),
    training: sideSchema,
    /** Validation and test pieces no concept draws from. */
    heldOut: sideSchema,
    /** Held-out AUC >= 0.9 and precision at "present" >= 0.8. */
    localises: z.boolean(),
    reason: z.string().optional(),
  })
  .strict();

const npyPath = z
  .string()
  .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, 'a relative path inside the bank folder')
  .refine((p) => !p.split('/').includes('..'), 'a relative path inside the bank folder');

export const bankLayerSchema = z
  .object({
    layer: z.string().min(1),
    /** Shape of one activation at the layer (the CAVs' shape), e.g. [64, 25, 6]. */
    shape: z.array(z.number().int().positive()).min(1),
    /** Values per activation: the product of `shape`. */
    size: z.number().int().positive(),
    /** CAVs trained (one per TCAV random run). */
    runs: z.number().int().positive(),
    /** Held-out accuracy of each run's CAV. */
    accuracies: z.array(z.number()),
    meanAccuracy: z.number(),
    /** Mean held-out accuracy >= the run's minimum (0.7): below it presence means little. */
    reliable: z.boolean(),
    /** float32 [runs, size]: every run's unit CAV (a zero row where a fit was degenerate). */
    cavs: npyPath,
    /** float32 [size]: the unit mean of the runs' unit CAVs, the direction presence is read along. */
    direction: npyPath,
    /**
     * float64 [reference count], ascending: projections (dot products) of the reference corpus
     * excerpts' activations on `direction`. A new window's presence is its projection's percentile
     * among these.
     */
    reference: npyPath,
    /** float64 [examples]: projections of the concept's own examples, for calibration. */
    examples: npyPath,
    /** Median presence of the concept's own examples (near 1 for a concept the layer separates). */
    examplesMedianPresence: z.number(),
    /** Absent: not calibrated (see `uncalibrated`). */
    calibration: calibrationSchema.optional(),
    /** Why the concept is not calibrated, in words. */
    uncalibrated: z.string().optional(),
  })
  .strict();

export const bankConceptSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    /** Number of examples the concept's CAVs were trained on. */
    examples: z.number().int().nonnegative(),
    layers: z.array(bankLayerSchema).min(1),
  })
  .strict();

export const bankManifestSchema = z
  .object({
    format: z.enum(BANK_FORMATS),
    tool: z.object({ name: z.literal('concept-lens'), version: z.string() }).strict(),
    createdAt: z.string(),
    /** The model the CAVs belong to: a bank is refused with any other (sha256 and input spec). */
    model: z
      .object({
        path: z.string(),
        sha256: z.string().regex(/^[0-9a-f]{64}$/),
        labels: z.array(z.string()).min(1),
        input: z.record(z.string(), z.unknown()),
      })
      .strict(),
    /** The corpus whose excerpts are the random counterexamples and the presence reference. */
    corpus: z
      .object({
        name: z.string(),
        root: z.string(),
        files: z.number().int().nonnegative(),
        pieces: z.number().int().nonnegative(),
        composers: z.array(z.string()),
      })
      .strict(),
    /** The TCAV settings the CAVs were trained with. */
    tcav: z
      .object({
        seed: z.number(),
        runs: z.number().int().positive(),
        setSize: z.number().int().positive(),
        minCavAccuracy: z.number(),
      })
      .strict(),
    /** The corpus excerpts whose projections are each concept's `reference`, in that order before sorting. */
    reference: z
      .object({
        seed: z.string(),
        count: z.number().int().positive(),
        /** Excerpt ids, `file@startFrame+frames`. */
        excerpts: z.array(z.string()),
      })
      .strict(),
    concepts: z.array(bankConceptSchema).min(1),
  })
  .strict();

export type BankManifest = z.infer<typeof bankManifestSchema>;
export type BankConceptEntry = z.infer<typeof bankConceptSchema>;
export type BankLayerEntry = z.infer<typeof bankLayerSchema>;
