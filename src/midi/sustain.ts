/**
 * Sustain pedal (CC64). Off by default, as in the ISMIR 2022 setup; `parseMidi(..., { sustain: true })`
 * applies it. Rule: a note released while the pedal is down on its channel keeps sounding until the
 * pedal goes up, or until the same pitch is struck again on that channel, whichever comes first.
 * A pedal still down at the end holds its notes until the end of the last note of the file.
 * The pedal is "down" at time t if the last pedal event at or before t on that channel says so.
 */
import type { Note, PedalEvent } from './types.ts';

interface Interval {
  from: number;
  to: number;
}

/** Notes with sustained offsets, in the same order as `notes` (which are not modified). */
export function applySustain(notes: readonly Note[], pedal: readonly PedalEvent[]): Note[] {
  if (pedal.length === 0 || notes.length === 0) return notes.slice();
  let end = 0;
  for (const n of notes) end = Math.max(end, n.offset);
  const held = pedalIntervals(pedal, end);

  const out = notes.map((n) => ({ ...n }));
  // Next onset of the same pitch on the same channel caps the sustained release.
  const byKey = new Map<number, number[]>();
  out.forEach((n, i) => {
    const key = n.channel * 128 + n.pitch;
    if (!byKey.has(key)) byKey.set(key, []);
    byKey.get(key)!.push(i);
  });
  for (const indices of byKey.values()) {
    indices.sort((a, b) => out[a].onset - out[b].onset);
    for (let k = 0; k < indices.length; k++) {
      const note = out[indices[k]];
      const interval = containing(held.get(note.channel), note.offset);
      if (!interval) continue;
      let release = interval.to;
      for (let j = k + 1; j < indices.length; j++) {
        const next = out[indices[j]].onset;
        if (next > note.onset) {
          release = Math.min(release, next);
          break;
        }
      }
      note.offset = Math.max(note.offset, release);
    }
  }
  return out;
}

/** Pedal-down intervals [from, to) per channel, sorted. */
function pedalIntervals(pedal: readonly PedalEvent[], end: number): Map<number, Interval[]> {
  const sorted = pedal.slice().sort((a, b) => a.time - b.time);
  const out = new Map<number, Interval[]>();
  const downSince = new Map<number, number>();
  for (const e of sorted) {
    const since = downSince.get(e.channel);
    if (e.down && since === undefined) downSince.set(e.channel, e.time);
    if (!e.down && since !== undefined) {
      if (!out.has(e.channel)) out.set(e.channel, []);
      out.get(e.channel)!.push({ from: since, to: e.time });
      downSince.delete(e.channel);
    }
  }
  for (const [channel, since] of downSince) {
    if (!out.has(channel)) out.set(channel, []);
    out.get(channel)!.push({ from: since, to: Math.max(end, since) });
  }
  return out;
}

function containing(intervals: Interval[] | undefined, t: number): Interval | undefined {
  if (!intervals) return undefined;
  let lo = 0;
  let hi = intervals.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (intervals[mid].to <= t) lo = mid + 1;
    else if (intervals[mid].from > t) hi = mid - 1;
    else return intervals[mid];
  }
  return undefined;
}
