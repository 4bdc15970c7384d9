/**
 * The contents of `<out>/similar.json` (`concept-lens similar`) and the hubness figures that
 * `explain` adds to results.json: nearest passages in a model's activation space, hubness of the
 * corpus there, and the hub attack that measures Mutual Proximity as a defence.
 * Times are seconds, bars 1-based and inclusive, paths relative to the output folder.
 */
import type { CorpusIdentity, ModelIdentity, PassageRef, RunInfo } from './results.ts';

export type ScalingName = 'none' | 'mp-empirical' | 'mp-gaussian';

/** The k-occurrence N_k of a corpus's windows (Radovanovic et al., JMLR 2010). */
export interface KOccurrenceSummary {
  k: number;
  /** Windows the k-nearest lists were taken over. */
  n: number;
  /** Skewness of N_k (population moments); hubness shows as a long right tail. */
  skewness: number;
  /** Share of windows with N_k > 2k (hubs) and with N_k = 0 (anti-hubs). */
  hubShare: number;
  antiHubShare: number;
  max: number;
  /** counts[v] = windows with N_k = v, v = 0..max. */
  counts: number[];
}

export interface HubnessReport {
  layer: string;
  pooling: string;
  metric: string;
  windows: number;
  /** One entry per scaling, each with the k-occurrence summary for every k measured. */
  scalings: { scaling: ScalingName; occurrence: KOccurrenceSummary[] }[];
  /** How the windows were chosen (all of the corpus, or a sample). */
  note?: string;
}

export interface SimilarHit extends PassageRef {
  rank: number;
  /** Distance in the layer's (pooled) activation space. */
  distance: number;
  /** The distance the ranking used: the same, or 1 - Mutual Proximity. */
  scaled: number;
  /** The passage as MIDI, relative to the output folder. */
  midi: string;
}

export interface SimilarQuery {
  kind: 'midi' | 'excerpt' | 'concept';
  /** What was given: a MIDI path, a discovered excerpt, a concept YAML. */
  source: string;
  /** For people: "Chopin, Etudes op. 10 no. 3, bars 1-8". */
  label: string;
  /** Windows (or concept examples) whose mean is the query. */
  windows: number;
  /** The query's notes as MIDI (its first window), relative to the output folder. */
  midi?: string;
  /** When the query comes from a corpus file: that file (its windows are left out of the hits). */
  corpusFile?: string;
  bars?: [number, number];
  seconds?: [number, number];
}

export interface IndexInfo {
  layer: string;
  pooling: string;
  metric: string;
  windows: number;
  dims: number;
  /** Nearest neighbours and distance quantiles kept per window for Mutual Proximity. */
  near: number;
  levels: number;
  /** True when this run built the index (false: read from the cache). */
  built: boolean;
  /** Seconds to build it (when built) or to read it. */
  seconds: number;
}

export interface SimilarResults {
  run: Omit<RunInfo, 'command'> & { command: 'similar' };
  model: ModelIdentity;
  corpus: CorpusIdentity;
  index: IndexInfo;
  scaling: ScalingName;
  k: number;
  query?: SimilarQuery;
  hits: SimilarHit[];
  /** Which windows could not be hits (the query's own file). */
  excluded?: string;
  /** Seconds the search took once the index was ready. */
  querySeconds?: number;
  hubness?: HubnessReport;
  hubAttack?: HubAttackReport;
  skipped: { file: string; reason: string }[];
}

/** A note deleted from or added to an attacked window (times in seconds from the window's start). */
export interface HubAttackEdit {
  kind: 'delete' | 'add';
  /** In words, for a musician: "delete E♭5 at bar 12, beat 2.5 (0:03.3)". */
  text: string;
  pitch: number;
  onset: number;
  offset: number;
  velocity: number;
}

export interface HubAttackWindow extends PassageRef {
  notes: number;
  /** Edits allowed. */
  budget: number;
  /** Queries counted for this window (those not from its own file). */
  queries: number;
  /** Success rate of the unchanged window under each scaling. */
  before: Partial<Record<ScalingName, number>>;
  /** The unchanged window as MIDI. */
  midi: string;
  attacks: {
    /** The scaling that guided the search. */
    scaling: ScalingName;
    edits: HubAttackEdit[];
    /** Success rate of the attacked window under each scaling (its own: adaptive; others: transfer). */
    after: Partial<Record<ScalingName, number>>;
    midi: string;
  }[];
}

/**
 * The hub attack (src/retrieval/hub-attack.ts): success rate = share of queries whose k nearest
 * hold the attacked window, averaged over the attacked windows.
 */
export interface HubAttackReport {
  layer: string;
  pooling: string;
  metric: string;
  k: number;
  queries: number;
  /** Edits allowed, as a share of each window's notes. */
  budget: number;
  candidatesPerStep: number;
  /** Which note edits the attack may make. */
  edits: string;
  summary: {
    scaling: ScalingName;
    /** Mean success rate of the windows unchanged, attacked with this scaling in view, and attacked without (transfer). */
    before: number;
    after: number;
    transferred: number;
    /** Share of the attacked windows that are hubs (N_k over all queries > 2k), before and after. */
    hubShareBefore: number;
    hubShare: number;
    editsUsed: number;
    /**
     * How far the windows are from being hits: the mean, over the queries they miss, of
     * log(their distance / the query's k-th distance), before and after the attack.
     */
    gapBefore: number;
    gapAfter: number;
  }[];
  windows: HubAttackWindow[];
}
