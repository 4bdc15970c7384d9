import type { DetectContext } from './context.ts';
import { mergeSpans } from './notes.ts';
import type { Span } from './types.ts';
import { separateVoices } from './voices.ts';

/**
 * Imitation: a motif (MOTIF_NOTES successive notes of one voice, as intervals and rhythm) that
 * another voice plays again, at any transposition, after a lag of at least one beat and at most
 * MAX_LAG_BEATS beats, while the first voice goes on sounding (so one voice answers another, as in
 * a fugue or canon). Voices come from voices.ts (pitch proximity). Not imitation: a figure both
 * hands play at once (parallel motion), a motif made of repeated notes or of one step or leap
 * repeated (scales, arpeggios, trills), a motif answered only in its own voice (a sequence).
 */
export const MOTIF_NOTES = 6;
export const MAX_LAG_BEATS = 16;

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
  const spans: Span[] = [];
  for (const list of byMotif.values()) {
    if (list.length < 2) continue;
    list.sort((a, b) => a.start - b.start);
    for (const b of list) {
      const beat = ctx.beatAt(b.start);
      // The same motif in another voice at the same time is parallel motion, not an answer.
      if (list.some((x) => x.voice !== b.voice && Math.abs(x.start - b.start) < beat / 2)) continue;
      const lead = list.find(
        (a) =>
          a.voice !== b.voice &&
          b.start - a.start >= beat - 1e-3 &&
          b.start - a.start <= MAX_LAG_BEATS * beat &&
          sounding(voices[a.voice].notes, b.start, b.end),
      );
      if (!lead) continue;
      spans.push({ start: lead.start, end: lead.end }, { start: b.start, end: b.end });
    }
  }
  return mergeSpans(spans);
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
