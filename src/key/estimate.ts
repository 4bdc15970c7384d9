/**
 * Key finding from the notes (Krumhansl-Schmuckler): a duration-weighted pitch-class histogram is
 * correlated (Pearson) with the 24 rotations of a major and a minor key profile (src/key/profiles.ts);
 * the key is the best-correlated rotation. Durations weigh the histogram because a held note is
 * heard longer (Krumhansl 1990 weights by duration too).
 *
 * Pieces modulate, so edits and spellings use a local key: the piece is cut into segments (its bars
 * when the file has a meter, else fixed spans of seconds), each segment's key scores are the
 * correlations of the histogram of a few segments around it, and a Viterbi pass picks one key per
 * segment maximising the summed correlation minus a fixed cost per change of key, so a passing
 * chromatic bar does not count as a modulation. The window and the cost are fixed a priori (see
 * LOCAL_DEFAULTS), not tuned on a benchmark.
 *
 * Rules over the notes only: nothing here looks at a model.
 */
import { barToSeconds, secondsToBar } from '../midi/timemap.ts';
import type { Note, TimeMap } from '../midi/types.ts';
import { PROFILES, type ProfileName } from './profiles.ts';
import type { Key, Mode } from './spell.ts';

/** Seconds of each pitch class 0..11 sounding between `from` and `to` (default: the whole list). */
export function pitchClassHistogram(
  notes: readonly Note[],
  from = -Infinity,
  to = Infinity,
): Float64Array {
  const h = new Float64Array(12);
  for (const n of notes) {
    const d = Math.min(n.offset, to) - Math.max(n.onset, from);
    if (d > 0) h[((n.pitch % 12) + 12) % 12] += d;
  }
  return h;
}

/** Correlation of the histogram with each of the 24 keys: index tonic (major) and 12 + tonic (minor). */
export function keyCorrelations(
  histogram: ArrayLike<number>,
  profiles: ProfileName = 'krumhansl',
): Float64Array {
  const out = new Float64Array(24);
  const p = PROFILES[profiles];
  for (let m = 0; m < 2; m++) {
    const profile = m === 0 ? p.major : p.minor;
    for (let tonic = 0; tonic < 12; tonic++) {
      const rotated = Array.from({ length: 12 }, (_, pc) => profile[(pc - tonic + 12) % 12]);
      out[m * 12 + tonic] = pearson(histogram, rotated);
    }
  }
  return out;
}

export function keyOfIndex(i: number): Key {
  return { tonic: i % 12, mode: (i < 12 ? 'major' : 'minor') as Mode };
}

export function keyIndex(key: Key): number {
  return (key.mode === 'major' ? 0 : 12) + key.tonic;
}

export interface KeyEstimate {
  key: Key;
  /** Correlation of the histogram with the key's profile (-1..1). */
  correlation: number;
  /** The next best key and its correlation: a small gap means an uncertain answer. */
  runnerUp: { key: Key; correlation: number };
}

/** The key of a note list as a whole (null when it has no sounding notes). */
export function estimateKey(
  notes: readonly Note[],
  profiles: ProfileName = 'krumhansl',
): KeyEstimate | null {
  const h = pitchClassHistogram(notes);
  if (h.every((x) => x === 0)) return null;
  return bestKeys(keyCorrelations(h, profiles));
}

function bestKeys(c: ArrayLike<number>): KeyEstimate {
  let best = 0;
  for (let i = 1; i < 24; i++) if (c[i] > c[best]) best = i;
  let second = best === 0 ? 1 : 0;
  for (let i = 0; i < 24; i++) if (i !== best && c[i] > c[second]) second = i;
  return {
    key: keyOfIndex(best),
    correlation: c[best],
    runnerUp: { key: keyOfIndex(second), correlation: c[second] },
  };
}

export interface LocalKeyOptions {
  profiles?: ProfileName;
  /** Segments each side of a segment whose notes count towards its key. */
  neighbours?: number;
  /** Correlation given up per change of key (Viterbi smoothing). */
  changeCost?: number;
  /** Segment length in seconds when there are no bars. */
  segmentSeconds?: number;
}

export const LOCAL_DEFAULTS = {
  profiles: 'krumhansl' as ProfileName,
  neighbours: 2,
  changeCost: 1,
  segmentSeconds: 2,
};

/** One segment of a piece (a bar, or a span of seconds) and its local key. */
export interface KeySegment {
  start: number;
  end: number;
  /** The bar this segment is, when segments are bars. */
  bar?: number;
  key: Key;
}

/** The local keys of a piece: `keyAt` finds the one sounding at a time. */
export class LocalKeys {
  constructor(
    readonly segments: readonly KeySegment[],
    /** The key of the whole piece. */
    readonly global: Key,
  ) {}

  /** The local key at `seconds` (the piece's key outside its segments). */
  keyAt(seconds: number): Key {
    const s = this.segments;
    if (s.length === 0 || seconds < s[0].start) return this.global;
    let lo = 0;
    let hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid].start <= seconds) lo = mid;
      else hi = mid - 1;
    }
    return seconds < s[lo].end ? s[lo].key : this.global;
  }
}

/**
 * Local keys of a piece. With a time map whose bars mean something (`bars: true`), segments are
 * bars; otherwise spans of `segmentSeconds`. Returns null for a piece without notes.
 */
export function localKeys(
  notes: readonly Note[],
  options: LocalKeyOptions & { timeMap?: TimeMap; bars?: boolean } = {},
): LocalKeys | null {
  const o = { ...LOCAL_DEFAULTS, ...options };
  const global = estimateKey(notes, o.profiles);
  if (!global) return null;
  const end = notes.reduce((e, n) => Math.max(e, n.offset), 0);
  const bounds: { start: number; end: number; bar?: number }[] = [];
  if (options.timeMap && options.bars) {
    const last = secondsToBar(options.timeMap, Math.max(0, end - 1e-6)).bar;
    for (let b = 1; b <= last; b++)
      bounds.push({
        start: barToSeconds(options.timeMap, b),
        end: barToSeconds(options.timeMap, b + 1),
        bar: b,
      });
  } else {
    for (let t = 0; t < end; t += o.segmentSeconds)
      bounds.push({ start: t, end: Math.min(end, t + o.segmentSeconds) });
  }
  const hists = bounds.map((b) => pitchClassHistogram(notes, b.start, b.end));
  const scores = bounds.map((_, i) => {
    const h = new Float64Array(12);
    for (
      let j = Math.max(0, i - o.neighbours);
      j <= Math.min(bounds.length - 1, i + o.neighbours);
      j++
    )
      for (let k = 0; k < 12; k++) h[k] += hists[j][k];
    return h.every((x) => x === 0) ? new Float64Array(24) : keyCorrelations(h, o.profiles);
  });
  const path = viterbi(scores, o.changeCost, keyIndex(global.key));
  return new LocalKeys(
    bounds.map((b, i) => ({ ...b, key: keyOfIndex(path[i]) })),
    global.key,
  );
}

/**
 * The key path maximising summed scores minus `cost` per change. Ties keep the earlier state, and a
 * piece starts with a small preference for its global key (ties at the start go to it).
 */
function viterbi(scores: readonly Float64Array[], cost: number, prefer: number): number[] {
  const n = scores.length;
  if (n === 0) return [];
  const back: Int8Array[] = [];
  let value = Float64Array.from(scores[0], (s, k) => s + (k === prefer ? 1e-9 : 0));
  for (let i = 1; i < n; i++) {
    let bestPrev = 0;
    for (let k = 1; k < 24; k++) if (value[k] > value[bestPrev]) bestPrev = k;
    const next = new Float64Array(24);
    const from = new Int8Array(24);
    for (let k = 0; k < 24; k++) {
      const stay = value[k];
      const move = value[bestPrev] - cost;
      if (stay >= move) {
        next[k] = stay + scores[i][k];
        from[k] = k;
      } else {
        next[k] = move + scores[i][k];
        from[k] = bestPrev;
      }
    }
    back.push(from);
    value = next;
  }
  let k = 0;
  for (let j = 1; j < 24; j++) if (value[j] > value[k]) k = j;
  const path = new Array<number>(n);
  path[n - 1] = k;
  for (let i = n - 1; i > 0; i--) path[i - 1] = back[i - 1][path[i]];
  return path;
}

function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < 12; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= 12;
  mb /= 12;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < 12; i++) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}
