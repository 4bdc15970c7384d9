import type { Note } from '../midi/types.ts';
import type { DetectContext } from './context.ts';
import { mergeSpans } from './notes.ts';
import type { Span } from './types.ts';
import { separateVoices } from './voices.ts';

/**
 * Imitation: a motif (MOTIF_NOTES successive notes of one voice, as intervals and rhythm) that
 * another voice plays again, at any transposition, after a lag of at least two beats and at most
 * MAX_LAG_BEATS beats, while another voice goes on sounding (so one voice answers another, as in
 * a fugue or canon). Where the pitch-proximity voices put a statement and its answer in one voice
 * (an entry near the last note of the voice before it, the old line going on in a voice that
 * begins there), an answer a fourth or more away counts. The span marked is the answer's: a subject alone, before any answer, is not
 * yet imitation. Voices come from voices.ts (pitch proximity). Not imitation: a figure both
 * hands play at once (parallel motion or a doubling, in the answer or the lead), a motif made of repeated notes or of one step or leap
 * repeated (scales, arpeggios, trills), a motif answered only in its own voice (a sequence), a
 * motif stated more than four times within eight beats either side (figuration: an Alberti bass
 * or an arpeggio repeats every beat, a subject a few times).
 */
export const MOTIF_NOTES = 6;
export const MIN_LAG_BEATS = 2;
/** Semitones between a statement and its answer when both fell into one voice. */
export const MIN_TRANSPOSITION = 5;
export const MAX_LAG_BEATS = 16;
/** More than MAX_NEAR_ENTRIES statements of a motif within FIGURE_WINDOW_BEATS beats: a figure. */
export const FIGURE_WINDOW_BEATS = 8;
export const MAX_NEAR_ENTRIES = 4;

interface Instance {
  voice: number;
  start: number;
  end: number;
  pitch: number;
}

export function detectImitation(ctx: DetectContext): Span[] {
  const voices = separateVoices(ctx.notes);
  const byMotif = new Map<string, Instance[]>();
  voices.forEach((v, vi) => {
    const n = v.notes;
    for (let i = 0; i + MOTIF_NOTES - 1 < n.length; i++) {
      const motif = n.slice(i, i + MOTIF_NOTES);
      const key = motifKey(
        motif.map((x) => x.pitch),
        motif.map((x) => x.onset),
      );
      if (key === undefined) continue;
      const inst = {
        voice: vi,
        start: motif[0].onset,
        end: motif[MOTIF_NOTES - 1].offset,
        pitch: motif[0].pitch,
      };
      (byMotif.get(key) ?? byMotif.set(key, []).get(key)!).push(inst);
    }
  });
  const firsts = voices.map((v) => v.notes[0].onset).sort((x, y) => x - y);
  const voiceBegins = (t: number, within: number) =>
    firsts.some((f) => Math.abs(f - t) <= within && f > firsts[0]);
  const spans: Span[] = [];
  for (const list of byMotif.values()) {
    if (list.length < 2) continue;
    list.sort((a, b) => a.start - b.start);
    for (const b of list) {
      const beat = ctx.beatAt(b.start);
      // A motif heard many times around here is a figure (Alberti, arpeggio, ostinato), not a
      // subject: figuration repeats every beat or bar, imitation answers a few times.
      const near = list.filter((x) => Math.abs(x.start - b.start) <= FIGURE_WINDOW_BEATS * beat);
      if (near.length > MAX_NEAR_ENTRIES) continue;
      // The same motif in another voice at the same time is parallel motion (a doubling), not an
      // answer; a doubled lead is a doubled line, the usual texture of homophony.
      const doubled = (y: Instance) =>
        list.some((x) => x.voice !== y.voice && Math.abs(x.start - y.start) < beat / 2);
      if (doubled(b)) continue;
      const lead = list.find(
        (a) =>
          // Another voice; or, where the voices were told apart wrongly (an entry near the last
          // note of the voice before it takes that voice over, and the old line starts a new
          // voice at that moment), a statement a fourth or more away.
          (a.voice !== b.voice ||
            (Math.abs(a.pitch - b.pitch) >= MIN_TRANSPOSITION && voiceBegins(b.start, beat / 2))) &&
          !doubled(a) &&
          b.start - a.start >= MIN_LAG_BEATS * beat - 1e-3 &&
          b.start - a.start <= MAX_LAG_BEATS * beat &&
          othersSound(voices, b),
      );
      if (!lead) continue;
      spans.push({ start: b.start, end: b.end });
    }
  }
  return mergeSpans(spans);
}

/** Does a voice other than the answer's sound while it is stated? */
function othersSound(voices: readonly { notes: Note[] }[], b: Instance): boolean {
  return voices.some((v, k) => k !== b.voice && sounding(v.notes, b.start, b.end));
}

/** Does the voice (one note at a time, by onset) sound during [start, end)? */
function sounding(notes: readonly { onset: number; offset: number }[], start: number, end: number) {
  // The last note starting before `end`: the voice sounds then if it lasts past `start`.
  let lo = 0;
  let hi = notes.length - 1;
  if (hi < 0 || notes[0].onset >= end) return false;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (notes[mid].onset < end) lo = mid;
    else hi = mid - 1;
  }
  return notes[lo].offset > start;
}

/**
 * A motif's identity: its intervals and its onset gaps relative to the first, rounded; undefined
 * for motifs that say nothing (repeated notes, one interval repeated, a plain scale).
 */
export function motifKey(
  pitches: readonly number[],
  onsets: readonly number[],
): string | undefined {
  const steps = pitches.slice(1).map((p, k) => p - pitches[k]);
  const distinct = new Set(steps);
  if (distinct.size <= 1) return undefined;
  if (steps.every((s) => Math.abs(s) <= 2 && Math.sign(s) === Math.sign(steps[0])))
    return undefined;
  if (steps.filter((s) => s === 0).length > 2) return undefined;
  const gaps = onsets.slice(1).map((t, k) => t - onsets[k]);
  if (gaps.some((g) => g <= 0)) return undefined;
  const unit = gaps[0];
  return `${steps.join(',')}|${gaps.map((g) => Math.round((g / unit) * 8) / 8).join(',')}`;
}
