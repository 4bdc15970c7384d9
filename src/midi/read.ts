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
 */
import { parseMidi as parseMidiEvents, type MidiData } from 'midi-file';
import { UserError } from '../util/errors.ts';
import { readUserFile } from '../util/files.ts';
import { applySustain } from './sustain.ts';
import { buildTimeMap, type RawTempo, type RawTimeSignature } from './timemap.ts';
import type { MidiContent, Note, PedalEvent, TimeMap } from './types.ts';

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
}

export function readMidiFile(path: string, options: ReadOptions = {}): MidiContent {
  const bytes = readUserFile(path);
  try {
    return parseMidi(bytes, options);
  } catch (err) {
    if (err instanceof MidiReadError) throw new MidiReadError(`${path}: ${err.message}`);
    throw err;
  }
}

export function parseMidi(bytes: Uint8Array, options: ReadOptions = {}): MidiContent {
  const layout = checkStructure(bytes);
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
  return { format: layout.format, notes: sounding, pedal, timeMap, durationSeconds, trackNames };
}

/**
 * Check the chunk structure before handing the bytes to `midi-file`, which reads past the end of a
 * cut file without complaint. Returns the bytes with only the header and the track chunks (unknown
 * chunk types, allowed by the standard, are skipped; so is anything after the last track).
 */
function checkStructure(bytes: Uint8Array): { format: 0 | 1; clean: Uint8Array } {
  if (bytes.length === 0) throw new MidiReadError('empty file');
  if (bytes.length < 4 || chunkId(bytes, 0) !== 'MThd')
    throw new MidiReadError('not a MIDI file (no MThd header)');
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

  const keep: [number, number][] = [[0, 8 + headerLength]];
  let pos = 8 + headerLength;
  let tracks = 0;
  while (tracks < numTracks) {
    if (pos + 8 > bytes.length) {
      throw new MidiReadError(
        `truncated: the header announces ${numTracks} tracks, the file holds ${tracks}`,
      );
    }
    const length = view.getUint32(pos + 4);
    const end = pos + 8 + length;
    const isTrack = chunkId(bytes, pos) === 'MTrk';
    if (end > bytes.length) {
      const what = isTrack ? `track ${tracks + 1}` : 'a chunk';
      throw new MidiReadError(
        `truncated: ${what} announces ${length} bytes, ${bytes.length - pos - 8} remain`,
      );
    }
    if (isTrack) {
      keep.push([pos, end]);
      tracks++;
    }
    pos = end;
  }
  const contiguous = keep.every(([from], i) => i === 0 || from === keep[i - 1][1]);
  if (contiguous) return { format, clean: bytes.subarray(0, pos) };
  const clean = new Uint8Array(keep.reduce((s, [a, b]) => s + b - a, 0));
  let at = 0;
  for (const [a, b] of keep) {
    clean.set(bytes.subarray(a, b), at);
    at += b - a;
  }
  return { format, clean };
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
