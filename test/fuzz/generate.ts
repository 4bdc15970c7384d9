/**
 * Mutated MIDI files for the fuzz suite: seeded valid files (type 0 and type 1, running status,
 * tempo and meter changes, text, sysex, pedal) with one to three byte-level mutations each, from
 * blind ones (flip, overwrite, insert, delete, truncate, duplicate) to ones aimed at the structure
 * (chunk lengths, meta and sysex lengths, the track count, the time division, delta times far in
 * the future, more track chunks than the header counts: a chunk of notes appended, or the count
 * lowered). Same seed, same files.
 *
 *   npx tsx test/fuzz/generate.ts --count 10000 --seed 1 --out /tmp/fuzz
 *
 * writes `<out>/Fuzz/00000.mid ...` (a corpus folder with one composer, for `corpus info <out>`)
 * and `<out>/fuzz.json` (each file's mutations and the notes of the file it was made from).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../src/util/random.ts';
import { meter, midiFile, tempo, track, trackName, type Ev, vlq } from '../midi/bytes.ts';

export interface FuzzFile {
  name: string;
  bytes: Uint8Array;
  /** Notes of the valid file it was made from. */
  seedNotes: number;
  mutations: string[];
}

/** A valid file of `notes` notes spread over tracks, with the events real files carry. */
export function seedFile(rng: Rng): { bytes: Uint8Array; notes: number } {
  const format = rng.next() < 0.4 ? 0 : 1;
  const division = rng.pick([96, 480, 960]);
  const noteTracks = format === 0 ? 1 : rng.int(1, 3);
  const tracks: number[][] = [];
  let total = 0;
  const conductor: Ev[] = [
    trackName(0, 'Conductor'),
    meter(0, rng.pick([2, 3, 4, 6]), rng.pick([4, 8])),
    tempo(0, rng.int(300_000, 900_000)),
  ];
  conductor.push([division * 4, [0xff, 0x06, 4, 0x41, 0x42, 0x43, 0x44]]); // marker "ABCD"
  conductor.push(tempo(division * 4, rng.int(300_000, 900_000)));
  for (let t = 0; t < noteTracks; t++) {
    const count = rng.int(16, 120);
    total += count;
    const channel = t % 16;
    const timed: { tick: number; order: number; bytes: number[] }[] = [];
    let tick = 0;
    for (let i = 0; i < count; i++) {
      tick += rng.int(0, division);
      const p = rng.int(30, 100);
      const length = rng.int(1, 2 * division);
      timed.push({ tick, order: 2 * i, bytes: [0x90 | channel, p, rng.int(1, 127)] });
      const offAsVelocity0 = rng.next() < 0.5;
      timed.push({
        tick: tick + length,
        order: 2 * i + 1,
        bytes: offAsVelocity0 ? [0x90 | channel, p, 0] : [0x80 | channel, p, 64],
      });
      tick += length; // the next note starts after this one ends, so every note pairs plainly
      if (rng.next() < 0.1)
        timed.push({ tick, order: 2 * i + 1.5, bytes: [0xb0 | channel, 64, rng.pick([0, 127])] });
    }
    timed.sort((a, b) => a.tick - b.tick || a.order - b.order);
    const events: Ev[] = [trackName(0, `Piano ${t + 1}`)];
    if (rng.next() < 0.5) events.push([0, [0xf0, 5, 0x7e, 0x7f, 0x09, 0x01, 0xf7]]); // GM on (sysex)
    let last = 0;
    let running = -1;
    for (const e of timed) {
      // Running status: repeat the status byte only when it changes.
      const bytes = e.bytes[0] === running ? e.bytes.slice(1) : e.bytes;
      running = e.bytes[0];
      events.push([e.tick - last, bytes]);
      last = e.tick;
    }
    events.push([division, [0xff, 0x2f, 0]]);
    tracks.push(track(format === 0 ? [...conductor.slice(0, 3), ...events] : events));
  }
  if (format === 1) tracks.unshift(track([...conductor, [0, [0xff, 0x2f, 0]]]));
  return { bytes: midiFile(format, division, tracks), notes: total };
}

type Mutation = (b: number[], rng: Rng) => string;

/** Offsets of every track chunk's length field. */
function chunkLengthOffsets(b: number[]): number[] {
  const out: number[] = [];
  let pos = 14;
  while (pos + 8 <= b.length) {
    out.push(pos + 4);
    pos += (8 + ((b[pos + 4] << 24) | (b[pos + 5] << 16) | (b[pos + 6] << 8) | b[pos + 7])) >>> 0;
  }
  return out;
}

/** Offsets of meta (FF type len) and sysex (F0 len) headers: where a length byte follows. */
function lengthBytes(b: number[]): number[] {
  const out: number[] = [];
  for (let i = 14; i < b.length - 2; i++) {
    if (b[i] === 0xff && b[i + 1] < 0x80) out.push(i + 2);
    else if (b[i] === 0xf0) out.push(i + 1);
  }
  return out;
}

const SPECIAL = [0x00, 0x7f, 0x80, 0x81, 0xf0, 0xf7, 0xff, 0x90, 0x2f];

const MUTATIONS: Record<string, Mutation> = {
  flip(b, rng) {
    const i = rng.int(0, b.length - 1);
    b[i] ^= 1 << rng.int(0, 7);
    return `flip@${i}`;
  },
  set(b, rng) {
    const i = rng.int(0, b.length - 1);
    b[i] = rng.next() < 0.5 ? rng.pick(SPECIAL) : rng.int(0, 255);
    return `set@${i}`;
  },
  insert(b, rng) {
    const i = rng.int(0, b.length);
    const n = rng.int(1, 8);
    b.splice(i, 0, ...Array.from({ length: n }, () => rng.int(0, 255)));
    return `insert${n}@${i}`;
  },
  delete(b, rng) {
    const i = rng.int(0, b.length - 1);
    const n = rng.int(1, 16);
    b.splice(i, n);
    return `delete${n}@${i}`;
  },
  truncate(b, rng) {
    const n = rng.int(0, b.length - 1);
    b.length = n;
    return `truncate@${n}`;
  },
  duplicate(b, rng) {
    const i = rng.int(14, Math.max(14, b.length - 1));
    const n = rng.int(1, 64);
    b.splice(i, 0, ...b.slice(i, i + n));
    return `duplicate${n}@${i}`;
  },
  chunkLength(b, rng) {
    const offsets = chunkLengthOffsets(b);
    if (offsets.length === 0) return 'chunkLength:none';
    const at = rng.pick(offsets);
    const old = ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
    const value = rng.next() < 0.5 ? Math.max(0, old + rng.int(-8, 8)) : rng.int(0, 0xffffffff);
    b.splice(
      at,
      4,
      (value >>> 24) & 0xff,
      (value >>> 16) & 0xff,
      (value >>> 8) & 0xff,
      value & 0xff,
    );
    return `chunkLength@${at}=${value}`;
  },
  eventLength(b, rng) {
    // The meta/sysex length that made the old reader drop the rest of a track without a word.
    const offsets = lengthBytes(b);
    if (offsets.length === 0) return 'eventLength:none';
    const at = rng.pick(offsets);
    const value = rng.next() < 0.5 ? rng.int(0, 127) : rng.int(128, 0x0fffffff);
    const bytes = vlq(value);
    b.splice(at, 1, ...bytes);
    return `eventLength@${at}=${value}`;
  },
  trackCount(b, rng) {
    const n = rng.pick([0, 1, 2, 3, 7, 255, 65535]);
    b[10] = (n >> 8) & 0xff;
    b[11] = n & 0xff;
    return `trackCount=${n}`;
  },
  division(b, rng) {
    const d = rng.pick([0, 1, 2, 0x7fff, 0x8000 | 0x1928, 24]);
    b[12] = (d >> 8) & 0xff;
    b[13] = d & 0xff;
    return `division=${d}`;
  },
  farFuture(b, rng) {
    // A delta time at the 4-byte maximum before an end of track or a note: hours of silence.
    const offsets = [];
    for (let i = 22; i < b.length - 3; i++) if (b[i] === 0xff && b[i + 1] === 0x2f) offsets.push(i);
    if (offsets.length === 0) return 'farFuture:none';
    const at = rng.pick(offsets);
    b.splice(at - 1, 1, 0xff, 0xff, 0xff, 0x7f);
    return `farFuture@${at}`;
  },
  extraTrack(b, rng) {
    // A whole MTrk chunk of notes after the last chunk, the header's count left as it was (a
    // reader that stops at the count, as mido does, loses its notes without a word).
    const notes = rng.int(1, 20);
    const events: Ev[] = [];
    for (let i = 0; i < notes; i++) {
      const p = rng.int(30, 100);
      events.push([rng.int(0, 200), [0x91, p, rng.int(1, 127)]], [rng.int(1, 200), [0x81, p, 0]]);
    }
    events.push([0, [0xff, 0x2f, 0]]);
    // Sometimes after a chunk of an unknown type, which is skipped.
    const unknown = rng.next() < 0.3 ? [0x58, 0x46, 0x49, 0x48, 0, 0, 0, 2, 1, 2] : [];
    b.push(...unknown, ...track(events));
    return `extraTrack${notes}${unknown.length ? '+unknown' : ''}`;
  },
  undercount(b, rng) {
    // The header counts fewer tracks than the file holds.
    const chunks = chunkLengthOffsets(b).length;
    const n = rng.int(0, Math.max(0, chunks - 1));
    b[10] = (n >> 8) & 0xff;
    b[11] = n & 0xff;
    return `undercount=${n}/${chunks}`;
  },
  slowTempo(b) {
    for (let i = 14; i < b.length - 5; i++) {
      if (b[i] === 0xff && b[i + 1] === 0x51 && b[i + 2] === 3) {
        b[i + 3] = 0xff;
        b[i + 4] = 0xff;
        b[i + 5] = 0xff;
        return `slowTempo@${i}`;
      }
    }
    return 'slowTempo:none';
  },
};

const NAMES = Object.keys(MUTATIONS);

export function fuzzFiles(count: number, seed = 1): FuzzFile[] {
  const out: FuzzFile[] = [];
  for (let i = 0; i < count; i++) out.push(fuzzFile(i, seed));
  return out;
}

/** File `index` of the stream of seed `seed` (each file has its own sub-stream). */
export function fuzzFile(index: number, seed = 1): FuzzFile {
  const rng = new Rng(`fuzz/${seed}/${index}`);
  const base = seedFile(rng);
  const bytes = Array.from(base.bytes);
  const mutations: string[] = [];
  const n = rng.int(1, 3);
  for (let m = 0; m < n; m++) {
    if (bytes.length === 0) break;
    const name = rng.pick(NAMES);
    mutations.push(MUTATIONS[name](bytes, rng));
  }
  if (mutations.some((m) => m.startsWith('farFuture')) && rng.next() < 0.5)
    mutations.push(MUTATIONS.slowTempo(bytes, rng));
  return {
    name: `${String(index).padStart(5, '0')}.mid`,
    bytes: Uint8Array.from(bytes),
    seedNotes: base.notes,
    mutations,
  };
}

function argument(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

if (process.argv[1]?.endsWith('generate.ts')) {
  const count = Number(argument('count', '1000'));
  const seed = Number(argument('seed', '1'));
  const out = argument('out', 'out/fuzz');
  mkdirSync(join(out, 'Fuzz'), { recursive: true });
  const index: Record<string, { seedNotes: number; mutations: string[] }> = {};
  for (let i = 0; i < count; i++) {
    const f = fuzzFile(i, seed);
    writeFileSync(join(out, 'Fuzz', f.name), f.bytes);
    index[f.name] = { seedNotes: f.seedNotes, mutations: f.mutations };
  }
  writeFileSync(join(out, 'fuzz.json'), JSON.stringify(index));
  process.stdout.write(`wrote ${count} mutated MIDI files to ${out}/Fuzz (seed ${seed})\n`);
}
