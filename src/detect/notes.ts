import { barToSeconds, secondsToBar } from '../midi/timemap.ts';
import type { Note, TimeMap } from '../midi/types.ts';
import type { Span } from './types.ts';

/**
 * The shared helpers of the detectors: chords from onset clustering, hands, lines, the beat grid.
 *
 * How voices are approximated (the detectors never see a score's voices):
 *  - Chords: notes whose onsets lie within CHORD_TOLERANCE seconds of the first onset of a group
 *    sound as one chord (an "onset group"). Score MIDI is quantised, so a small tolerance suffices;
 *    it also absorbs the spread of a played chord in a performance.
 *  - Hands: a score MIDI of ASAP keeps each staff in its own track, so with two or more tracks the
 *    track with the higher mean pitch is the upper hand and the others the lower hand. A one-track
 *    file (a performance) is split by register at middle C (pitch < 60 is the lower hand).
 *  - Lines: the top line of a hand is the highest note of each of its onset groups (skyline), the
 *    bottom line the lowest.
 *  - Voices (for imitation, see voices.ts): notes are chained by pitch proximity.
 */

/** Notes whose onsets lie this close to a group's first onset sound as one chord, seconds. */
export const CHORD_TOLERANCE = 0.03;

/** Notes attacked together, pitches ascending. */
export interface OnsetGroup {
  onset: number;
  /** Latest offset of its notes. */
  end: number;
  pitches: number[];
  notes: Note[];
}

export function onsetGroups(notes: readonly Note[], tolerance = CHORD_TOLERANCE): OnsetGroup[] {
  const sorted = [...notes].sort((a, b) => a.onset - b.onset || a.pitch - b.pitch);
  const out: OnsetGroup[] = [];
  let current: OnsetGroup | undefined;
  for (const n of sorted) {
    if (current && n.onset - current.onset <= tolerance) {
      if (!current.pitches.includes(n.pitch)) current.pitches.push(n.pitch);
      current.notes.push(n);
      current.end = Math.max(current.end, n.offset);
      continue;
    }
    if (current) out.push(current);
    current = { onset: n.onset, end: n.offset, pitches: [n.pitch], notes: [n] };
  }
  if (current) out.push(current);
  for (const g of out) g.pitches.sort((a, b) => a - b);
  return out;
}

export const LOWER_HAND_BELOW = 60;

/** The notes of the two hands: from the staff tracks of a score, else by register at middle C. */
export function splitHands(notes: readonly Note[]): { upper: Note[]; lower: Note[] } {
  const byTrack = new Map<number, { sum: number; n: number }>();
  for (const n of notes) {
    const t = byTrack.get(n.track) ?? { sum: 0, n: 0 };
    t.sum += n.pitch;
    t.n++;
    byTrack.set(n.track, t);
  }
  if (byTrack.size >= 2) {
    const upperTrack = [...byTrack].sort(
      (a, b) => b[1].sum / b[1].n - a[1].sum / a[1].n || a[0] - b[0],
    )[0][0];
    return {
      upper: notes.filter((n) => n.track === upperTrack),
      lower: notes.filter((n) => n.track !== upperTrack),
    };
  }
  return {
    upper: notes.filter((n) => n.pitch >= LOWER_HAND_BELOW),
    lower: notes.filter((n) => n.pitch < LOWER_HAND_BELOW),
  };
}

/** One bar of the beat grid. */
export interface BarSpan {
  bar: number;
  start: number;
  end: number;
  /** Seconds of one counted beat: the denominator's note value, or a dotted one in 6/8, 9/8, 12/8. */
  beat: number;
}

/** The bars of a file from its time map, up to `until` seconds. */
export function barGrid(map: TimeMap, until: number): BarSpan[] {
  const out: BarSpan[] = [];
  const last = secondsToBar(map, Math.max(0, until - 1e-6)).bar;
  for (let bar = 1; bar <= last; bar++) {
    const start = barToSeconds(map, bar);
    const end = barToSeconds(map, bar + 1);
    const ts = meterAt(map, bar);
    const compound = ts.denominator >= 8 && ts.numerator % 3 === 0 && ts.numerator > 3;
    const beatsPerBar = compound ? ts.numerator / 3 : ts.numerator;
    out.push({ bar, start, end, beat: (end - start) / beatsPerBar });
  }
  return out;
}

function meterAt(map: TimeMap, bar: number) {
  let ts = map.timeSignatures[0];
  for (const t of map.timeSignatures) if (t.bar <= bar) ts = t;
  return ts;
}

/** The beat (seconds) at a time: of the bar holding it, or half a second without a grid. */
export function beatAt(bars: readonly BarSpan[], time: number): number {
  let lo = 0;
  let hi = bars.length - 1;
  if (hi < 0) return 0.5;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (bars[mid].start <= time + 1e-9) lo = mid;
    else hi = mid - 1;
  }
  return bars[lo].beat;
}

/** Merge overlapping or touching spans (within `gap` seconds). */
export function mergeSpans(spans: readonly Span[], gap = 1e-6): Span[] {
  const sorted = [...spans].filter((s) => s.end > s.start).sort((a, b) => a.start - b.start);
  const out: Span[] = [];
  for (const s of sorted) {
    const last = out.at(-1);
    if (last && s.start <= last.end + gap) last.end = Math.max(last.end, s.end);
    else out.push({ ...s });
  }
  return out;
}

/** Seconds of [start, end) covered by merged spans. */
export function coverage(spans: readonly Span[], start: number, end: number): number {
  let total = 0;
  for (const s of spans) {
    if (s.end <= start) continue;
    if (s.start >= end) break;
    total += Math.min(end, s.end) - Math.max(start, s.start);
  }
  return total;
}

/** Pitch classes of a set of pitches, distinct, ascending. */
export function pitchClasses(pitches: Iterable<number>): number[] {
  return [...new Set([...pitches].map((p) => ((p % 12) + 12) % 12))].sort((a, b) => a - b);
}

/**
 * Chords by their intervals above the root: triads and seventh chords (with the fifth optional
 * in sevenths). A set of pitch classes "fits a chord" when some transposition of one of these
 * contains it.
 */
const CHORDS: readonly number[][] = [
  [0, 4, 7], // major
  [0, 3, 7], // minor
  [0, 3, 6], // diminished
  [0, 4, 8], // augmented
  [0, 4, 7, 10], // dominant seventh
  [0, 3, 7, 10], // minor seventh
  [0, 3, 6, 10], // half-diminished
  [0, 3, 6, 9], // diminished seventh
  [0, 4, 7, 11], // major seventh
  [0, 4, 7, 9], // major with added sixth (= minor seventh inverted, kept for clarity)
];

export function fitsChord(pcs: readonly number[]): boolean {
  for (const chord of CHORDS) {
    for (let root = 0; root < 12; root++) {
      const set = new Set(chord.map((i) => (i + root) % 12));
      if (pcs.every((pc) => set.has(pc))) return true;
    }
  }
  return false;
}

/** Onset gaps between consecutive groups are "even" when the longest is at most `ratio` x the shortest. */
export function evenOnsets(groups: readonly OnsetGroup[], from: number, to: number, ratio = 1.6) {
  let min = Infinity;
  let max = 0;
  for (let i = from + 1; i <= to; i++) {
    const d = groups[i].onset - groups[i - 1].onset;
    min = Math.min(min, d);
    max = Math.max(max, d);
  }
  return min > 0 && max <= ratio * min;
}

/** The span a run of groups i..j occupies: first onset to the later of its end and the next onset. */
export function runSpan(groups: readonly OnsetGroup[], i: number, j: number): Span {
  const lastIoi = j > i ? groups[j].onset - groups[j - 1].onset : groups[j].end - groups[j].onset;
  const next = groups[j + 1]?.onset ?? Infinity;
  return { start: groups[i].onset, end: Math.min(groups[j].onset + lastIoi, next) };
}

/** A hand's top line (the highest note of each attack) or bottom line, as one-note groups. */
export function line(groups: readonly OnsetGroup[], which: 'top' | 'bottom'): OnsetGroup[] {
  return groups.map((g) => {
    const pitch = which === 'top' ? g.pitches[g.pitches.length - 1] : g.pitches[0];
    return {
      onset: g.onset,
      end: g.end,
      pitches: [pitch],
      notes: g.notes.filter((n) => n.pitch === pitch),
    };
  });
}
