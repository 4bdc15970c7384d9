/**
 * MIDI bytes -> notes in seconds. The hot path of a corpus run, so events come from `midi-file`'s
 * raw parser (about 20x faster than building @tonejs/midi objects) and the note pairing is done here.
 *
 * Rules:
 * - Types 0 and 1; the tempo map is merged across all tracks (default 120 bpm).
 * - Note-on with velocity 0 is a note-off.
 * - Overlapping notes of one pitch on one channel of one track: striking a sounding key again ends
 *   the sounding note and starts a new one; the key keeps sounding until as many note-offs as
 *   note-ons have arrived. So on,on,off,off gives two notes that touch, never two that overlap.
 * - A note never closed ends at the last event of the file. Zero-length notes are dropped.
 * - Notes are sorted by onset; notes with the same onset keep file order (track, then event).
 * - The sustain pedal is recorded in `pedal` and applied only with `{ sustain: true }`.
 *
 * Chunks: every MTrk chunk of the file is read, also when the header counts fewer (mido 1.2/1.3,
 * and pretty_midi through it, stop at the header's count and drop the rest without a word) (the file then says so in `MidiContent.notices`, and a corpus run warns);
 * chunks of other types are skipped, as the standard allows. A header counting more tracks than
 * the file holds is a truncated file (below).
 *
 * Structure (checked before `midi-file` sees the bytes, because it reads past a broken event
 * without complaint and silently drops the rest of the track): every chunk lies inside the file,
 * and every event of every track ends inside its track (delta times of at most 4 bytes, data bytes
 * under 128, known event types). A file that breaks a rule is refused with the track, the byte
 * and the reason, unless the read is lenient (`--lenient-midi`): then each broken track is cut
 * before the broken event, and the file says how many notes that lost (`MidiContent.damage`).
 *
 * Limits (src/util/limits.ts): a file over `maxMidiBytes` is refused after reading its header
 * only; a piece lasting more than `maxPieceSeconds` is refused before anything is rendered.
 */
import { parseMidi as parseMidiEvents, type MidiData } from 'midi-file';
import { UserError } from '../util/errors.ts';
import { readFileHead, readUserFile } from '../util/files.ts';
import { formatSeconds, limits } from '../util/limits.ts';
import { applySustain } from './sustain.ts';
import { buildTimeMap, type RawTempo, type RawTimeSignature } from './timemap.ts';
import type { MidiContent, MidiDamage, Note, PedalEvent, TimeMap } from './types.ts';

/** A MIDI file that cannot be read; the CLI reports it as a user error. */
export class MidiReadError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'MidiReadError';
  }
}

export interface ReadOptions {
  /** Apply the sustain pedal (CC64) to note offsets; default false. */
  sustain?: boolean;
  /** Recover damaged files (see above); default `limits().lenientMidi`. */
  lenient?: boolean;
  /** Refuse pieces longer than this, seconds; default `limits().maxPieceSeconds`. */
  maxSeconds?: number;
}

export function readMidiFile(path: string, options: ReadOptions = {}): MidiContent {
  // The header and the size first: a large file that is not MIDI, or too large, is not read whole.
  const { head, size } = readFileHead(path, 4);
  try {
    checkHeader(head, size);
    const max = limits().maxMidiBytes;
    if (size > max) {
      throw new MidiReadError(
        `the file is ${megabytes(size)}; MIDI files over ${megabytes(max)} are not read (a limit)`,
      );
    }
    return parseMidi(readUserFile(path), options);
  } catch (err) {
    if (err instanceof MidiReadError) throw new MidiReadError(`${path}: ${err.message}`);
    throw err;
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function checkHeader(bytes: Uint8Array, size: number): void {
  if (size === 0) throw new MidiReadError('empty file');
  if (bytes.length < 4 || chunkId(bytes, 0) !== 'MThd')
    throw new MidiReadError('not a MIDI file (no MThd header)');
}

export function parseMidi(bytes: Uint8Array, options: ReadOptions = {}): MidiContent {
  checkHeader(bytes, bytes.length);
  const lenient = options.lenient ?? limits().lenientMidi;
  const layout = checkStructure(bytes, lenient);
  let data: MidiData;
  try {
    data = parseMidiEvents(layout.clean);
  } catch (err) {
    throw new MidiReadError(
      `corrupt MIDI data (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  const events = collectEvents(data);
  const timeMap = buildTimeMap(data.header.ticksPerBeat ?? 0, events.tempos, events.signatures);
  const { notes, pedal } = toSeconds(events, timeMap);
  if (notes.length === 0) throw new MidiReadError('no notes');
  const trackNames = events.trackNames;

  const sounding = options.sustain ? applySustain(notes, pedal) : notes;
  let durationSeconds = 0;
  for (const n of sounding) durationSeconds = Math.max(durationSeconds, n.offset);
  const maxSeconds = options.maxSeconds ?? limits().maxPieceSeconds;
  if (!(durationSeconds <= maxSeconds)) {
    throw new MidiReadError(
      `the piece lasts ${formatSeconds(durationSeconds)}, over the limit of ${formatSeconds(maxSeconds)} (--max-piece-minutes)`,
    );
  }
  const content: MidiContent = {
    format: layout.format,
    notes: sounding,
    pedal,
    timeMap,
    durationSeconds,
    trackNames,
  };
  if (layout.damage.length > 0) content.damage = layout.damage;
  if (layout.notices.length > 0) content.notices = layout.notices;
  return content;
}

interface Structure {
  format: 0 | 1;
  /** The header and the track chunks only, each track cut at its first break when lenient. */
  clean: Uint8Array;
  damage: MidiDamage[];
  /** What a reader should know about a sound file (more track chunks than its header counts). */
  notices: string[];
}

/**
 * Check the chunk and event structure before handing the bytes to `midi-file`. Returns the bytes
 * with only the header and the track chunks (unknown chunk types, allowed by the standard, are
 * skipped; so is anything after the last track), tracks cut at their breaks when lenient.
 */
function checkStructure(bytes: Uint8Array, lenient: boolean): Structure {
  if (bytes.length < 14) throw new MidiReadError('truncated: the file ends inside its header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(4);
  if (headerLength < 6 || 8 + headerLength > bytes.length) {
    throw new MidiReadError(`corrupt header (length ${headerLength})`);
  }
  const format = view.getUint16(8);
  const numTracks = view.getUint16(10);
  const division = view.getUint16(12);
  if (format === 2) throw new MidiReadError('type 2 (asynchronous tracks) is not supported');
  if (format !== 0 && format !== 1) throw new MidiReadError(`unknown MIDI file type ${format}`);
  if (division & 0x8000) throw new MidiReadError('SMPTE time division is not supported');
  if (division === 0) throw new MidiReadError('corrupt header (0 ticks per beat)');

  const damage: MidiDamage[] = [];
  const broken = (message: string, notesLost: number | null, hint = true) => {
    if (!lenient)
      throw new MidiReadError(
        `${message}${hint ? '; --lenient-midi reads what comes before the break' : ''}`,
      );
    damage.push({ description: message, notesLost });
  };
  /** Track chunks: [start of data, end of data (possibly cut)]. */
  const tracks: [number, number][] = [];
  let pos = 8 + headerLength;
  for (;;) {
    // Past the header's count, chunks are still read (mido stops at the count, silently): every
    // MTrk chunk to the end of the file (said in `notices`); other trailing bytes are skipped.
    const beyond = tracks.length >= numTracks;
    if (pos + 8 > bytes.length) {
      if (!beyond)
        broken(
          `truncated: the header announces ${numTracks} tracks, the file holds ${tracks.length}`,
          null,
        );
      break;
    }
    const length = view.getUint32(pos + 4);
    const isTrack = chunkId(bytes, pos) === 'MTrk';
    let end = pos + 8 + length;
    if (beyond && !isTrack) {
      if (end > bytes.length) break;
      pos = end;
      continue;
    }
    if (end > bytes.length) {
      const what = isTrack ? `track ${tracks.length + 1}` : 'a chunk';
      broken(
        `truncated: ${what} announces ${length} bytes, ${bytes.length - pos - 8} remain`,
        null,
      );
      if (!isTrack) break;
      end = bytes.length;
    }
    if (isTrack) {
      const start = pos + 8;
      const problem = walkTrack(bytes, start, end);
      if (problem) {
        const lost = lenient ? countNoteOns(bytes, problem.resume, end) : 0;
        broken(
          `corrupt MIDI data: track ${tracks.length + 1}: ${problem.reason} (byte ${problem.at} of the file)` +
            (lenient
              ? `; the track's last ${end - problem.at} bytes dropped, about ${lost} notes lost`
              : ''),
          lost,
        );
        tracks.push([start, problem.at]);
      } else tracks.push([start, end]);
    }
    pos = end;
  }
  const notices: string[] = [];
  if (tracks.length > numTracks)
    notices.push(
      `the header counts ${numTracks} track${numTracks === 1 ? '' : 's'}, the file holds ${tracks.length} track chunks; all ${tracks.length} read`,
    );
  if (tracks.length === 0) throw new MidiReadError('no tracks');
  // The header with the number of tracks found, then each track with its (possibly cut) length.
  const size = 8 + headerLength + tracks.reduce((s, [a, b]) => s + 8 + b - a, 0);
  const clean = new Uint8Array(size);
  clean.set(bytes.subarray(0, 8 + headerLength));
  const out = new DataView(clean.buffer);
  out.setUint16(10, tracks.length);
  let at = 8 + headerLength;
  for (const [a, b] of tracks) {
    clean.set([0x4d, 0x54, 0x72, 0x6b], at); // MTrk
    out.setUint32(at + 4, b - a);
    clean.set(bytes.subarray(a, b), at + 8);
    at += 8 + b - a;
  }
  return { format, clean, damage, notices };
}

interface Break {
  /** Offset of the broken event (where a lenient read cuts the track). */
  at: number;
  /** Offset after the broken event's header, where decoding may resume (always > at). */
  resume: number;
  reason: string;
}

/**
 * Walk the events of bytes [start, end): the first event that is malformed or runs past `end`,
 * or undefined when every event ends inside the track. Running status carries across meta and
 * sysex events, as in `midi-file`. Counts note-ons (velocity > 0) into `count` when given.
 */
function walkTrack(
  bytes: Uint8Array,
  start: number,
  end: number,
  count?: { noteOns: number },
): Break | undefined {
  let p = start;
  let running = 0;
  while (p < end) {
    const at = p;
    // Delta time: a variable-length quantity of at most 4 bytes.
    let n = 0;
    for (;;) {
      if (p >= end) return pastEnd(at, p);
      const b = bytes[p++];
      if (++n === 4 && b & 0x80)
        return { at, resume: p, reason: 'a delta time longer than 4 bytes' };
      if (!(b & 0x80)) break;
    }
    if (p >= end) return pastEnd(at, p);
    let status = bytes[p];
    if (status & 0x80) p++;
    else if (running === 0)
      return { at, resume: p + 1, reason: 'a data byte where an event should start' };
    else status = running;
    if (status === 0xff || status === 0xf0 || status === 0xf7) {
      if (status === 0xff && p++ >= end) return pastEnd(at, p); // the meta type
      let length = 0;
      let m = 0;
      for (;;) {
        if (p >= end) return pastEnd(at, p);
        const b = bytes[p++];
        length = length * 128 + (b & 0x7f);
        if (++m === 4 && b & 0x80)
          return { at, resume: p, reason: 'an event length longer than 4 bytes' };
        if (!(b & 0x80)) break;
      }
      if (length > end - p) {
        const kind = status === 0xff ? 'a meta event' : 'a sysex event';
        return { at, resume: p, reason: `${kind} announces ${length} bytes, ${end - p} remain` };
      }
      p += length;
    } else if (status >= 0xf0) {
      return { at, resume: p, reason: `an unknown event type 0x${status.toString(16)}` };
    } else {
      running = status;
      const size = (status & 0xe0) === 0xc0 ? 1 : 2; // program change, channel pressure: 1 byte
      if (p + size > end) return pastEnd(at, p);
      for (let i = 0; i < size; i++) {
        if (bytes[p + i] & 0x80)
          return { at, resume: p + i, reason: 'a channel event with a data byte over 127' };
      }
      if (count && (status & 0xf0) === 0x90 && bytes[p + 1] > 0) count.noteOns++;
      p += size;
    }
  }
  return undefined;
}

function pastEnd(at: number, p: number): Break {
  return { at, resume: Math.max(p, at + 1), reason: 'an event runs past the end of the track' };
}

/** Note-ons in bytes a lenient read drops: decoded from `from`, resyncing after each break. */
function countNoteOns(bytes: Uint8Array, from: number, end: number): number {
  const count = { noteOns: 0 };
  let p = from;
  while (p < end) {
    const problem = walkTrack(bytes, p, end, count);
    if (!problem) break;
    p = problem.resume;
  }
  return count.noteOns;
}

function chunkId(bytes: Uint8Array, pos: number): string {
  return String.fromCharCode(bytes[pos], bytes[pos + 1], bytes[pos + 2], bytes[pos + 3]);
}

/** What a file holds, in ticks (note and pedal times are converted once the tempo map is known). */
interface TickEvents {
  notes: Note[];
  pedal: PedalEvent[];
  tempos: RawTempo[];
  signatures: RawTimeSignature[];
  trackNames: string[];
}

/** One pass over the events of every track. Note and pedal `onset`/`offset`/`time` are in ticks here. */
function collectEvents(data: MidiData): TickEvents {
  const out: TickEvents = { notes: [], pedal: [], tempos: [], signatures: [], trackNames: [] };
  const { notes, pedal } = out;
  // Per key (channel * 128 + pitch) of the current track: the sounding note (pushed to `notes` at
  // its note-on, so each track's notes come out in onset order) and the note-ons awaiting a note-off.
  const sounding: (Note | undefined)[] = new Array(16 * 128);
  const pending = new Int32Array(16 * 128);
  const unclosed: Note[] = [];
  let lastTick = 0;

  data.tracks.forEach((events, track) => {
    sounding.fill(undefined);
    pending.fill(0);
    let name: string | undefined;
    let tick = 0;
    for (const e of events) {
      tick += e.deltaTime;
      switch (e.type) {
        case 'noteOn': {
          if (!(e.noteNumber <= 127 && e.velocity <= 127)) corrupt(track, 'a note-on event');
          const key = e.channel * 128 + e.noteNumber;
          const open = sounding[key];
          if (open) open.offset = tick;
          const note: Note = {
            pitch: e.noteNumber,
            onset: tick,
            offset: -1,
            velocity: e.velocity,
            track,
            channel: e.channel,
          };
          notes.push(note);
          sounding[key] = note;
          pending[key]++;
          break;
        }
        case 'noteOff': {
          if (!(e.noteNumber <= 127)) corrupt(track, 'a note-off event');
          const key = e.channel * 128 + e.noteNumber;
          if (pending[key] > 0 && --pending[key] === 0 && sounding[key]) {
            sounding[key]!.offset = tick;
            sounding[key] = undefined;
          }
          break;
        }
        case 'controller':
          if (e.controllerType === 64) {
            if (!(e.value <= 127)) corrupt(track, 'a controller event');
            pedal.push({ time: tick, down: e.value >= 64, channel: e.channel });
          }
          break;
        case 'setTempo':
          if (!(e.microsecondsPerBeat > 0)) corrupt(track, 'a tempo event');
          out.tempos.push({ tick, microsecondsPerBeat: e.microsecondsPerBeat });
          break;
        case 'timeSignature':
          if (!(e.numerator >= 1)) corrupt(track, 'a time signature');
          out.signatures.push({ tick, numerator: e.numerator, denominator: e.denominator });
          break;
        case 'trackName':
          name ??= e.text;
          break;
      }
    }
    lastTick = Math.max(lastTick, tick);
    for (const note of sounding) if (note) unclosed.push(note);
    out.trackNames.push(name ?? '');
  });
  for (const note of unclosed) note.offset = lastTick;
  return out;
}

/** Convert tick times to seconds; drop zero-length notes; sort notes by onset (stable). */
function toSeconds(events: TickEvents, timeMap: TimeMap): { notes: Note[]; pedal: PedalEvent[] } {
  const seconds = tickClock(timeMap);
  const notes: Note[] = [];
  let sorted = true;
  for (const n of events.notes) {
    if (!(n.offset > n.onset)) continue;
    n.onset = seconds(n.onset);
    n.offset = seconds(n.offset);
    if (notes.length > 0 && n.onset < notes[notes.length - 1].onset) sorted = false;
    notes.push(n);
  }
  // Each track is in onset order already: a stable sort only merges the tracks' runs.
  if (!sorted) notes.sort((a, b) => a.onset - b.onset);
  for (const p of events.pedal) p.time = seconds(p.time);
  return { notes, pedal: events.pedal };
}

/** ticks -> seconds, fast for mostly increasing ticks (a cursor into the tempo list). */
function tickClock(map: TimeMap): (tick: number) => number {
  const { tempos, ticksPerBeat } = map;
  let i = 0;
  return (tick) => {
    if (tick < tempos[i].tick) {
      // Backwards (an offset after a later onset): binary search instead of rescanning.
      let lo = 0;
      let hi = i;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (tempos[mid].tick <= tick) lo = mid;
        else hi = mid - 1;
      }
      i = lo;
    }
    while (i + 1 < tempos.length && tempos[i + 1].tick <= tick) i++;
    const t = tempos[i];
    return t.seconds + ((tick - t.tick) * t.microsecondsPerBeat) / 1e6 / ticksPerBeat;
  };
}

function corrupt(track: number, what: string): never {
  throw new MidiReadError(
    `corrupt MIDI data: ${what} in track ${track + 1} is cut short or malformed`,
  );
}
