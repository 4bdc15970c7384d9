/**
 * An independent decoder of Standard MIDI Files for the fuzz suite: what the reader of src/midi
 * should make of any byte string, written from the SMF 1.0 specification and the rules documented
 * at the top of src/midi/read.ts, sharing no code with it (nor with `midi-file`).
 *
 * It gives a verdict for a file: `ok` with the number of notes, or why the file must be refused:
 *  - 'structure': a chunk or an event does not fit where it lies (a meta event longer than its
 *    track, a track longer than the file, a delta time of 5 bytes, a stray data byte...);
 *  - 'content': the events are well formed but say something impossible (a tempo of 0, a fixed-
 *    length meta event of the wrong length, a meter of 0 beats);
 *  - 'no notes', 'too long' (over the piece-length limit);
 *  - 'header': not a MIDI file, or a header the reader does not support (type 2, SMPTE).
 *
 * Track chunks: the header's count first (fewer is a truncated file), then every further MTrk
 * chunk to the end of the file, the rule of src/midi/read.ts (`trackChunks` in the verdict; mido
 * stops at the header's count).
 */

export type Verdict =
  | { kind: 'ok'; notes: number; seconds: number; headerTracks: number; trackChunks: number }
  | { kind: 'header' | 'structure' | 'content' | 'no notes' | 'too long'; why: string };

/** Meta events the reader checks the length of (midi-file refuses other lengths). */
const FIXED_META_LENGTH: Record<number, number[]> = {
  0x00: [2],
  0x20: [1],
  0x21: [1],
  0x2f: [0],
  0x51: [3],
  0x54: [5],
  0x58: [2, 4],
  0x59: [2],
};

interface NoteOnOff {
  tick: number;
  on: boolean;
  key: number; // channel * 128 + pitch
}

class Refusal extends Error {
  constructor(
    readonly kind: 'header' | 'structure' | 'content',
    why: string,
  ) {
    super(why);
  }
}

const u32 = (b: Uint8Array, i: number) =>
  ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
const u16 = (b: Uint8Array, i: number) => (b[i] << 8) | b[i + 1];
const id = (b: Uint8Array, i: number) => String.fromCharCode(b[i], b[i + 1], b[i + 2], b[i + 3]);

export function referenceDecode(bytes: Uint8Array, maxSeconds = 7200): Verdict {
  try {
    return decode(bytes, maxSeconds);
  } catch (err) {
    if (err instanceof Refusal) return { kind: err.kind, why: err.message };
    throw err;
  }
}

function decode(b: Uint8Array, maxSeconds: number): Verdict {
  if (b.length < 4 || id(b, 0) !== 'MThd') throw new Refusal('header', 'no MThd');
  if (b.length < 14) throw new Refusal('structure', 'header cut short');
  const headerLength = u32(b, 4);
  if (headerLength < 6 || 8 + headerLength > b.length)
    throw new Refusal('structure', 'header length');
  const format = u16(b, 8);
  const tracks = u16(b, 10);
  const division = u16(b, 12);
  if (format !== 0 && format !== 1) throw new Refusal('header', `format ${format}`);
  if (division & 0x8000) throw new Refusal('header', 'SMPTE');
  if (division === 0) throw new Refusal('header', 'division 0');

  const perTrack: NoteOnOff[][] = [];
  const tempos: { tick: number; us: number; order: number }[] = [];
  let lastTick = 0;
  let pos = 8 + headerLength;
  let found = 0;
  while (found < tracks) {
    if (pos + 8 > b.length) throw new Refusal('structure', 'fewer tracks than announced');
    const length = u32(b, pos + 4);
    const end = pos + 8 + length;
    if (end > b.length) throw new Refusal('structure', 'chunk longer than the file');
    if (id(b, pos) === 'MTrk') {
      const t = decodeTrack(b, pos + 8, end, tempos);
      perTrack.push(t.events);
      lastTick = Math.max(lastTick, t.lastTick);
      found++;
    }
    pos = end;
  }
  // Then every further MTrk chunk to the end of the file, whatever the header counts; other
  // chunks and trailing bytes that are no whole chunk: skipped.
  while (pos + 8 <= b.length) {
    const length = u32(b, pos + 4);
    const end = pos + 8 + length;
    if (id(b, pos) !== 'MTrk') {
      if (end > b.length) break;
    } else {
      if (end > b.length) throw new Refusal('structure', 'extra track longer than the file');
      const t = decodeTrack(b, pos + 8, end, tempos);
      perTrack.push(t.events);
      lastTick = Math.max(lastTick, t.lastTick);
      found++;
    }
    pos = end;
  }

  // Notes, track by track: a key sounds until as many offs as ons arrived; a re-strike ends the
  // sounding note; a note never closed ends at the last tick of the file; zero length is dropped.
  const lengths: { onset: number; offset: number }[] = [];
  for (const events of perTrack) {
    const sounding = new Map<number, { onset: number; offset: number }>();
    const pending = new Map<number, number>();
    for (const e of events) {
      if (e.on) {
        const open = sounding.get(e.key);
        if (open) open.offset = e.tick;
        const note = { onset: e.tick, offset: -1 };
        lengths.push(note);
        sounding.set(e.key, note);
        pending.set(e.key, (pending.get(e.key) ?? 0) + 1);
      } else {
        const p = pending.get(e.key) ?? 0;
        if (p > 0) {
          pending.set(e.key, p - 1);
          if (p === 1 && sounding.has(e.key)) {
            sounding.get(e.key)!.offset = e.tick;
            sounding.delete(e.key);
          }
        }
      }
    }
    for (const note of sounding.values()) note.offset = -2; // closed at the end, below
  }
  const notes = lengths
    .map((n) => ({ onset: n.onset, offset: n.offset === -2 ? lastTick : n.offset }))
    .filter((n) => n.offset > n.onset);
  if (notes.length === 0) return { kind: 'no notes', why: 'no notes' };

  // Seconds of the last offset, through the tempo map (the last tempo of a tick wins).
  tempos.sort((x, y) => x.tick - y.tick || x.order - y.order);
  const map: { tick: number; us: number; at: number }[] = [{ tick: 0, us: 500_000, at: 0 }];
  for (const t of tempos) {
    const prev = map[map.length - 1];
    if (t.tick === prev.tick) prev.us = t.us;
    else
      map.push({
        tick: t.tick,
        us: t.us,
        at: prev.at + ((t.tick - prev.tick) * prev.us) / 1e6 / division,
      });
  }
  let end = 0;
  for (const n of notes) end = Math.max(end, n.offset);
  let segment = map[0];
  for (const m of map) if (m.tick <= end) segment = m;
  const seconds = segment.at + ((end - segment.tick) * segment.us) / 1e6 / division;
  if (!(seconds <= maxSeconds)) return { kind: 'too long', why: `${seconds} s` };
  return { kind: 'ok', notes: notes.length, seconds, headerTracks: tracks, trackChunks: found };
}

function decodeTrack(
  b: Uint8Array,
  start: number,
  end: number,
  tempos: { tick: number; us: number; order: number }[],
): { events: NoteOnOff[]; lastTick: number } {
  const events: NoteOnOff[] = [];
  let p = start;
  let tick = 0;
  let status = -1;
  const need = (n: number) => {
    if (p + n > end) throw new Refusal('structure', 'event past the end of its track');
  };
  const vlq = () => {
    let value = 0;
    for (let i = 0; i < 4; i++) {
      need(1);
      const byte = b[p++];
      value = value * 128 + (byte & 0x7f);
      if (!(byte & 0x80)) return value;
    }
    throw new Refusal('structure', 'variable-length number over 4 bytes');
  };
  while (p < end) {
    tick += vlq();
    need(1);
    let s = b[p];
    if (s >= 0x80) p++;
    else if (status < 0) throw new Refusal('structure', 'data byte without a status');
    else s = status;
    if (s === 0xff) {
      need(1);
      const type = b[p++];
      const length = vlq();
      need(length);
      const fixed = FIXED_META_LENGTH[type];
      if (fixed && !fixed.includes(length))
        throw new Refusal('content', `meta 0x${type.toString(16)} of length ${length}`);
      if (type === 0x51) {
        const us = (b[p] << 16) | (b[p + 1] << 8) | b[p + 2];
        if (us === 0) throw new Refusal('content', 'tempo 0');
        tempos.push({ tick, us, order: tempos.length });
      }
      if (type === 0x58 && b[p] === 0) throw new Refusal('content', 'meter of 0 beats');
      p += length;
    } else if (s === 0xf0 || s === 0xf7) {
      const length = vlq();
      need(length);
      p += length;
    } else if (s >= 0xf0) {
      throw new Refusal('structure', `status 0x${s.toString(16)}`);
    } else {
      status = s;
      const size = s >> 4 === 0xc || s >> 4 === 0xd ? 1 : 2;
      need(size);
      for (let i = 0; i < size; i++)
        if (b[p + i] >= 0x80) throw new Refusal('structure', 'data byte over 127');
      const type = s >> 4;
      const key = (s & 0x0f) * 128 + b[p];
      if (type === 0x9 && b[p + 1] > 0) events.push({ tick, on: true, key });
      else if (type === 0x8 || (type === 0x9 && b[p + 1] === 0))
        events.push({ tick, on: false, key });
      p += size;
    }
  }
  return { events, lastTick: tick };
}
