import type { AttackResults } from './attack.ts';

/**
 * The contents of `<out>/results.json`: the contract between the analysis stages (src/tcav,
 * src/discovery), the report (src/report/html) and anyone reading the file.
 * Times are seconds, bars are 1-based and inclusive, paths are relative to the output folder.
 */
import type { HubnessReport } from './similar.ts';

export interface RunInfo {
  tool: 'concept-lens';
  version: string;
  command: 'explain' | 'tcav' | 'discover' | 'attack';
  startedAt: string;
  seconds: number;
  seed: number;
  layers: string[];
  targets: string[];
  /** Every other parameter the run used (random runs, excerpts per composer, method, ...). */
  parameters: Record<string, unknown>;
}

export interface ModelIdentity {
  path: string;
  sha256: string;
  labels: string[];
  input: Record<string, unknown>;
  /** From the model card next to the model, when there is one. */
  card?: { name?: string; testAccuracy?: number; testBalancedAccuracy?: number; data?: string };
}

export interface CorpusIdentity {
  name: string;
  root: string;
  files: number;
  pieces: number;
  composers: string[];
}

/** One (concept, layer, target composer) cell of a TCAV run. */
export interface TcavEntry {
  concept: string;
  description?: string;
  layer: string;
  target: string;
  /** Mean sign-count TCAV score over the random runs. */
  score: number;
  std: number;
  /** Mean magnitude TCAV score (share of positive derivative mass), and its spread. */
  magnitude: number;
  magnitudeStd: number;
  /**
   * Mean directional derivative of the composer's logit along the (unit) CAV, averaged over the
   * composer's excerpts and the runs: how much, and which way, the concept moves the composer.
   * `effectStd` is its spread over the runs.
   */
  effect: number;
  effectStd: number;
  /**
   * Windows of the composer the effect is averaged over (its mean gradient over up to
   * `effectWindows` of them, src/tcav/effects.ts); absent when effects are read on the
   * `targetExcerpts` excerpts (finite-difference heads, or `--effect-windows 0`).
   */
  effectWindows?: number;
  /**
   * The null: the same statistic (mean over runs) for each of `nullConcepts` random concepts of
   * the concept's size (`nullSizes`); their mean and standard deviation.
   */
  randomEffect: number;
  randomEffectStd: number;
  /**
   * Two-sided test that decides significance: is the concept's effect outside the distribution of
   * the random concepts' effects (Student's t prediction test, df = nullConcepts - 1)? See
   * src/tcav/run.ts.
   */
  pValue: number;
  /** Classic TCAV test, for reference: Welch's two-sided t-test of per-run sign-count scores against random CAVs' scores. */
  pValueScores: number;
  /** p-value after correction for the number of tests (concepts x targets x layers). */
  pValueCorrected: number;
  /** True exactly when `outcome` is significant. */
  significant: boolean;
  /**
   * The decided verdict (src/tcav/decide.ts): significant, not significant, or undecided when the
   * cell was still too close to Holm's line at the budget of random concepts.
   */
  outcome?: 'significant' | 'not significant' | 'undecided';
  /** Interval for the p-value an exact null would give (`pValue` estimates it). */
  pValueInterval?: [number, number];
  /** Bound on the chance that more random concepts would reverse a decided cell of the run. */
  resamplingRisk?: number;
  /** Mean balanced held-out accuracy of the concept's CAVs (mean recall of the two sides; chance is 0.5). */
  cavAccuracy: number;
  /** False when the CAV accuracy is too low for the score to mean anything. */
  cavReliable: boolean;
  /** Mean balanced held-out accuracy of the random concepts' CAVs (what chance looks like here). */
  cavAccuracyRandom?: number;
  /** How the CAVs were learnt: logistic regression or FastCAV (closed form). */
  cav?: 'logistic' | 'fast';
  runs: number;
  /** Number of the concept's examples (model windows). */
  examples?: number;
  /** What the concept was contrasted with: random corpus windows, explicit counterexamples, or another concept. */
  counterexamples?: 'random' | 'explicit' | 'relative';
  relativeTo?: string;
  /** Random concepts in the null, and their sizes: [examples] or [examples, counterexamples]. */
  nullConcepts?: number;
  nullSizes?: number[];
  /** Mean and spread of the random concepts' sign-count scores (first CAV of each). */
  randomScore: number;
  randomStd: number;
  /** Per-run sign-count scores, for plots. */
  scores: number[];
  /** Present when the run was repeated over several seeds (`--seeds N`). */
  stability?: CellStability;
}

/** How a cell's verdict held over seeds: each seed redraws targets, pool, counterexamples and nulls. */
export interface CellStability {
  seeds: number[];
  /** Seeds in which the cell was significant (after correction), by direction. */
  significantUp: number;
  significantDown: number;
  /** Significant in every seed, always in the same direction. */
  stable: boolean;
  /** The effect and corrected p-value in each seed (same order as `seeds`). */
  effects: number[];
  pValuesCorrected: number[];
  /** Seeds in which the cell was undecided (decided verdicts, src/tcav/decide.ts). */
  undecided?: number;
  /** Decided significant in one seed and decided not significant in another. */
  reversed?: boolean;
  /** The outcome in each seed. */
  outcomes?: ('significant' | 'not significant' | 'undecided')[];
}

/** Where a passage lies in its file. */
export interface PassageRef {
  composer: string;
  piece: string;
  file: string;
  /** Seconds within the file. */
  start: number;
  end: number;
  bars?: { start: number; end: number };
}

export interface ExcerptRef extends PassageRef {
  /** The model window the excerpt (or part) was taken from, seconds within the file; the MIDI file holds this window. */
  window?: { start: number; end: number };
  /** The whole excerpt as MIDI, relative to the output folder. */
  midi: string;
  /** Only the notes where the concept is active, when a localisation exists. */
  midiLocalized?: string;
  /** How strongly the excerpt expresses the concept (cluster similarity or NMF coefficient). */
  typicality: number;
  /**
   * Where the concept is active in the excerpt: a rows x cols grid over (time, pitch) of the
   * excerpt, row-major, values in 0..1 (time ascending, pitch ascending).
   */
  localization?: { rows: number; cols: number; values: number[] };
  /** The segment of the window used (whole, first half, bass band, ...). */
  segment?: string;
}

export interface ComposerImportance {
  /** Mean derivative of the composer's logit along the concept (positive: the concept raises it). */
  value: number;
  /** k-means clusters: their sign-count TCAV score for the composer. */
  score?: number;
  std?: number;
  pValue?: number;
  significant?: boolean;
}

export interface DiscoveredConcept {
  id: string;
  layer: string;
  method: 'kmeans' | 'nmf';
  /** Importance per composer: the derivative of its logit along the concept, with its test where there is one. */
  importance: Record<string, ComposerImportance>;
  /** Number of distinct pieces among the concept's members. */
  pieces: number;
  excerpts: ExcerptRef[];
  leastTypical: ExcerptRef[];
}

/** How derivatives were taken at a layer of the run. */
export interface LayerDerivatives {
  name: string;
  /** Shape of one activation at the layer. */
  shape: number[];
  /** 'exact': reverse-mode gradients of the head; 'finite-difference': central differences. */
  derivatives: 'exact' | 'finite-difference';
  /** Why finite differences were used although exact derivatives were asked for. */
  note?: string;
}

export interface RunResults {
  run: RunInfo;
  model: ModelIdentity;
  corpus: CorpusIdentity;
  /** Per layer of the run: how its derivatives were taken. */
  layers?: LayerDerivatives[];
  tcav: TcavEntry[];
  concepts: DiscoveredConcept[];
  discovery?: {
    method: 'kmeans' | 'nmf';
    layer: string;
    /** The layer's axes, e.g. `channel 64 x time 25 x pitch 6` or `time 48 x hidden 32`. */
    axes?: string;
    /** NMF: the localisation grid (rows time, columns pitch), null when the layer has no map. */
    map?: { rows: number; cols: number } | null;
    /** NMF: why concepts at this layer cannot be localised, when they cannot. */
    unlocalised?: string;
    fidelity?: number;
    [key: string]: unknown;
  };
  /** Hubness of the corpus at a layer (src/results/similar.ts), when measured. */
  hubness?: HubnessReport[];
  skipped: { file: string; reason: string }[];
  /** Robustness to musical note edits (`attack`, `explain --attack`); see attack.ts. */
  attack?: AttackResults;
  /** Timelines of given pieces (explain --pieces), relative to the output folder. */
  timeline?: { file: string; pieces: number };
}
