/**
 * What `concept-lens attack` (and `explain --attack`) write under `attack` in results.json: how
 * many musical note edits it takes to change the model's composer, searched two ways, and how the
 * concept picture moves under the edits. Times are seconds within the file, paths relative to the
 * output folder.
 */
import type { EditKind, NoteEdit } from '../edits/types.ts';
import type { PassageRef } from './results.ts';

/** 'greedy': edits ranked by the input gradient (or by the model, see `ranking`); 'random': random edits. */
export type AttackSearch = 'greedy' | 'random';

export interface AttackEdit {
  kind: EditKind;
  /** For a musician, e.g. "delete E♭5 at bar 12, beat 2½ (3.25 s) (E♭ major); cost 1 note change: one note left out". */
  text: string;
  pitch: number;
  /** The pitch spelled in its local key. */
  pitchName: string;
  /** The local key (src/key), e.g. "E♭ major". */
  key?: string;
  /** Onset of the note edited or added, seconds within the file. */
  time: number;
  /** Bar and beat under the piece's time signatures (beat >= 1 and below numerator + 1), score MIDI only. */
  bar?: { bar: number; beat: number; meter: string };
  /** Musical cost in units of one note changed (src/edits/candidates.ts EDIT_COSTS), and what raises it. */
  cost?: number;
  flags?: ('chromatic' | 'dissonant' | 'long' | 'register')[];
  costText?: string;
  /** The edit itself; note indices refer to the excerpt's notes in the original MIDI file written. */
  edit: NoteEdit;
  /** The note before and after the edit, seconds from the excerpt's start (no `from` for an added note, no `to` for a deleted one). */
  from?: NoteSpan;
  to?: NoteSpan;
}

export interface NoteSpan {
  pitch: number;
  onset: number;
  offset: number;
}

export interface AttackOutcome {
  /** True when the prediction changed within the budget (and still does after a MIDI round trip). */
  success: boolean;
  /** Edits of the adversarial excerpt (success), or edits tried without success (the budget). */
  edits: number;
  /** Composer predicted after the edits. */
  predicted: string;
  /** Logit of the true composer minus the highest other logit, before and after the edits. */
  marginBefore: number;
  marginAfter: number;
  /** The edits, in the order the search made them (successful attacks only). */
  list?: AttackEdit[];
  /**
   * 'small': searched with the musically small edits only; 'any': no small-edit search flipped the
   * excerpt within the budget, so every edit (octaves, dissonances, long notes) was allowed.
   */
  tier?: 'small' | 'any';
  /** Summed musical cost of the edits (successful attacks only). */
  cost?: number;
  /** Successful attacks: the excerpt before and after, as MIDI, and the edits as text. */
  midi?: { original: string; adversarial: string; edits: string };
}

export interface AttackedExcerpt extends PassageRef {
  id: string;
  /** Notes the model sees in the excerpt (the unit of the share-of-notes budget). */
  notes: number;
  outcomes: Partial<Record<AttackSearch, AttackOutcome>>;
  /** Presence of each concept (projection on its CAV) before and after the greedy edits. */
  concepts?: Record<string, { before: number; after: number }>;
}

export interface RobustnessCurve {
  search: AttackSearch;
  /** Share of all attacked-set excerpts still classified correctly after at most `budget` edits. */
  byEdits: { budget: number; robustAccuracy: number; attackSuccess: number }[];
  /**
   * The same against a budget given as a share of the excerpt's notes. The search stops at the
   * largest edit budget: an excerpt counts as robust at share s when it was not flipped within
   * min(s x notes, largest budget) edits, so shares past (largest budget / notes) overstate it.
   */
  byShare: { share: number; robustAccuracy: number }[];
  medianEdits: number | null;
  meanEdits: number | null;
  seconds: number;
}

export interface PairMedian {
  search: AttackSearch;
  from: string;
  to: string;
  count: number;
  medianEdits: number;
}

export interface ConceptShift {
  concept: string;
  /** Mean presence (projection of the layer activation on the concept's unit CAV) before and after. */
  before: number;
  after: number;
  shift: number;
  shiftStd: number;
}

export interface ConceptPush {
  concept: string;
  shift: number;
  /**
   * Presence shift x derivative of (new composer's logit - true composer's logit) along the unit
   * CAV, averaged over the pair's attacks: how much of the flip the concept's movement explains
   * (first order). Positive: the edits moved the concept the way that favours the new composer.
   */
  push: number;
}

export interface ConceptRobustness {
  layer: string;
  /** Attacks (successful greedy ones) the figures are over. */
  attacks: number;
  shifts: ConceptShift[];
  /** Per composer pair (true -> new), the concepts ordered by push. */
  towards: { from: string; to: string; count: number; concepts: ConceptPush[] }[];
  /**
   * TCAV scores (share of excerpts whose true composer's logit rises along the CAV, mean over the
   * CAVs of the runs) on the attacked excerpts before and after the edits.
   */
  tcav: {
    concept: string;
    composer: string;
    excerpts: number;
    original: number;
    adversarial: number;
  }[];
  /** 'exact' when the head's derivatives come from gradients, else finite differences. */
  derivatives: string;
}

export interface AttackResults {
  searches: AttackSearch[];
  budgets: number[];
  shares: number[];
  split: string;
  splitSeed: number;
  seed: number;
  /** Excerpts drawn from the split, and how many the model classified correctly (those are attacked). */
  excerpts: number;
  correct: number;
  cleanAccuracy: number;
  /** How the greedy search ranks candidate edits before the model checks the best few. */
  ranking: 'input-gradients' | 'model-scored';
  /** Why the greedy search had no input gradients, when it had none. */
  rankingNote?: string;
  /** Candidates the model checks per greedy step. */
  candidates: number;
  curves: RobustnessCurve[];
  pairs: PairMedian[];
  attacked: AttackedExcerpt[];
  concepts?: ConceptRobustness;
}
