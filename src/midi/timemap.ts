/**
 * Ticks, seconds, bars and beats. Hand-written: the conversions are a few lines of arithmetic over
 * the tempo and meter lists, and no MIDI package exposes them for raw `midi-file` events.
 *
 * Conventions:
 * - Bar 1 starts at tick 0. Without a time signature at tick 0, 4/4 is assumed until the first one.
 * - A beat is a note value of the meter's denominator (6/8 has six eighth-note beats per bar).
 * - A time signature that arrives in the middle of a bar closes that (short) bar: the new meter
 *   starts a new bar at its tick.
 */
import type { BarPosition, TempoChange, TimeMap, TimeSignatureChange } from './types.ts';

export const DEFAULT_MICROSECONDS_PER_BEAT = 500_000; // 120 bpm

/** Raw tempo / meter events in ticks, as read from a file (any order, any track). */
export interface RawTempo {
  tick: number;
  microsecondsPerBeat: number;
}
export interface RawTimeSignature {
  tick: number;
  numerator: number;
  denominator: number;
}

/**
 * Build a TimeMap from tempo and time-signature events merged across tracks. When several events
 * share a tick, the last one (in the order given) wins.
 */
export function buildTimeMap(
  ticksPerBeat: number,
  rawTempos: readonly RawTempo[],
  rawSignatures: readonly RawTimeSignature[],
): TimeMap {
  const tempoEvents = lastPerTick(rawTempos);
  if (tempoEvents.length === 0 || tempoEvents[0].tick > 0) {
    tempoEvents.unshift({ tick: 0, microsecondsPerBeat: DEFAULT_MICROSECONDS_PER_BEAT });
  }
  const tempos: TempoChange[] = [];
  for (const t of tempoEvents) {
    const prev = tempos.at(-1);
    const seconds = prev
      ? prev.seconds + ((t.tick - prev.tick) * prev.microsecondsPerBeat) / 1e6 / ticksPerBeat
      : 0;
    tempos.push({ tick: t.tick, seconds, microsecondsPerBeat: t.microsecondsPerBeat });
  }

  const explicitMeter = rawSignatures.length > 0;
  const meterEvents = lastPerTick(rawSignatures);
  if (meterEvents.length === 0 || meterEvents[0].tick > 0) {
    meterEvents.unshift({ tick: 0, numerator: 4, denominator: 4 });
  }
  const map: TimeMap = { ticksPerBeat, tempos, timeSignatures: [], explicitMeter };
  for (const m of meterEvents) {
    const prev = map.timeSignatures.at(-1);
    const bar = prev ? prev.bar + Math.ceil((m.tick - prev.tick) / ticksPerBar(map, prev)) : 1;
    const seconds = ticksToSeconds(map, m.tick);
    map.timeSignatures.push({
      tick: m.tick,
      seconds,
      bar,
      numerator: m.numerator,
      denominator: m.denominator,
    });
  }
  return map;
}

/** A TimeMap with one tempo (default 120 bpm) and 4/4: for notes that come from no file. */
export function constantTimeMap(bpm = 120, ticksPerBeat = 480): TimeMap {
  return buildTimeMap(ticksPerBeat, [{ tick: 0, microsecondsPerBeat: 60e6 / bpm }], []);
}

export function ticksToSeconds(map: TimeMap, tick: number): number {
  const t = map.tempos[lastAtOrBefore(map.tempos, (x) => x.tick <= tick)];
  return t.seconds + ((tick - t.tick) * t.microsecondsPerBeat) / 1e6 / map.ticksPerBeat;
}

export function secondsToTicks(map: TimeMap, seconds: number): number {
  const t = map.tempos[lastAtOrBefore(map.tempos, (x) => x.seconds <= seconds)];
  return t.tick + ((seconds - t.seconds) * 1e6 * map.ticksPerBeat) / t.microsecondsPerBeat;
}

/** Bar (1-based) and beat (1-based, fractional) at a time in seconds. Times before 0 clamp to bar 1. */
export function secondsToBar(map: TimeMap, seconds: number): BarPosition {
  const { bar, beat } = barBeat(map, seconds);
  return { bar, beat };
}

/** A position in bars with the meter it is counted in: `beat` is always >= 1 and < numerator + 1. */
export interface BarBeat extends BarPosition {
  numerator: number;
  denominator: number;
}

/**
 * Bar and beat at a time in seconds under the piece's own time signatures, with the meter of that
 * bar. A time a hair from a tick (seconds computed from ticks and back) is taken at that tick, so a
 * note on a bar line is on beat 1 of the new bar, never on beat numerator + 1 of the old one.
 */
export function barBeat(map: TimeMap, seconds: number): BarBeat {
  let tick = Math.max(0, secondsToTicks(map, seconds));
  const whole = Math.round(tick);
  if (Math.abs(tick - whole) < 1e-5) tick = whole;
  const ts = map.timeSignatures[lastAtOrBefore(map.timeSignatures, (x) => x.tick <= tick)];
  const perBar = ticksPerBar(map, ts);
  const perBeat = ticksPerMeterBeat(map, ts);
  // A tiny tolerance so that a position computed from seconds lands on the bar line it means.
  const bars = Math.floor((tick - ts.tick) / perBar + 1e-9);
  // Below one bar by construction (bars is a floor); at least 0 through the tolerance.
  const within = Math.max(0, tick - ts.tick - bars * perBar);
  return {
    bar: ts.bar + bars,
    beat: Math.min(1 + within / perBeat, ts.numerator + 1 - 1e-9),
    numerator: ts.numerator,
    denominator: ts.denominator,
  };
}

/**
 * A beat as a musician reads it: whole beats plain ("3"), common fractions as such ("2½", "1¾",
 * "3⅓"), anything else truncated (never rounded up) to two decimals, so a beat of a bar is never
 * printed as the next bar's beat.
 */
export function formatBeat(beat: number): string {
  const whole = Math.floor(beat + 1e-6);
  const frac = Math.max(0, beat - whole);
  if (frac < 1e-6) return String(whole);
  const fractions: [number, string][] = [
    [1 / 2, '½'],
    [1 / 3, '⅓'],
    [2 / 3, '⅔'],
    [1 / 4, '¼'],
    [3 / 4, '¾'],
    [1 / 8, '⅛'],
    [3 / 8, '⅜'],
    [5 / 8, '⅝'],
    [7 / 8, '⅞'],
    [1 / 6, '⅙'],
    [5 / 6, '⅚'],
  ];
  for (const [v, glyph] of fractions) if (Math.abs(frac - v) < 1e-3) return `${whole}${glyph}`;
  return (Math.floor(beat * 100) / 100).toFixed(2);
}

/** Seconds at a bar (1-based) and beat (1-based, may be fractional). */
export function barToSeconds(map: TimeMap, bar: number, beat = 1): number {
  const ts = map.timeSignatures[lastAtOrBefore(map.timeSignatures, (x) => x.bar <= bar)];
  const tick =
    ts.tick + (bar - ts.bar) * ticksPerBar(map, ts) + (beat - 1) * ticksPerMeterBeat(map, ts);
  return ticksToSeconds(map, tick);
}

function ticksPerMeterBeat(map: TimeMap, ts: Pick<TimeSignatureChange, 'denominator'>): number {
  return (map.ticksPerBeat * 4) / ts.denominator;
}

function ticksPerBar(
  map: TimeMap,
  ts: Pick<TimeSignatureChange, 'numerator' | 'denominator'>,
): number {
  return ts.numerator * ticksPerMeterBeat(map, ts);
}

/** Stable sort by tick, keeping only the last event of each tick. */
function lastPerTick<T extends { tick: number }>(events: readonly T[]): T[] {
  const sorted = events.map((e, i) => ({ e, i })).sort((a, b) => a.e.tick - b.e.tick || a.i - b.i);
  const out: T[] = [];
  for (const { e } of sorted) {
    if (out.length > 0 && out[out.length - 1].tick === e.tick) out[out.length - 1] = e;
    else out.push(e);
  }
  return out;
}

/** Index of the last item satisfying `pred` in a list where pred is true for a prefix; 0 if none. */
function lastAtOrBefore<T>(items: readonly T[], pred: (x: T) => boolean): number {
  let lo = 0;
  let hi = items.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (pred(items[mid])) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
