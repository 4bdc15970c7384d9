/** Builds MIDI files byte by byte for tests, so fixtures do not depend on the code under test. */

/** Variable-length quantity (7 bits per byte, high bit = more bytes follow). */
export function vlq(n: number): number[] {
  const out = [n & 0x7f];
  while ((n >>= 7) > 0) out.unshift((n & 0x7f) | 0x80);
  return out;
}

function u32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

/** A track event: delta ticks and the raw bytes after the delta. */
export type Ev = [delta: number, bytes: number[]];

export const on = (delta: number, pitch: number, velocity = 100, channel = 0): Ev => [
  delta,
  [0x90 | channel, pitch, velocity],
];
export const off = (delta: number, pitch: number, channel = 0): Ev => [
  delta,
  [0x80 | channel, pitch, 64],
];
export const cc = (delta: number, controller: number, value: number, channel = 0): Ev => [
  delta,
  [0xb0 | channel, controller, value],
];
export const tempo = (delta: number, usPerBeat: number): Ev => [
  delta,
  [0xff, 0x51, 3, (usPerBeat >> 16) & 0xff, (usPerBeat >> 8) & 0xff, usPerBeat & 0xff],
];
export const meter = (delta: number, num: number, den: number): Ev => [
  delta,
  [0xff, 0x58, 4, num, Math.log2(den), 24, 8],
];
export const trackName = (delta: number, name: string): Ev => [
  delta,
  [0xff, 0x03, name.length, ...Array.from(name, (c) => c.charCodeAt(0))],
];
export const endOfTrack = (delta = 0): Ev => [delta, [0xff, 0x2f, 0]];

export function track(events: Ev[]): number[] {
  const body = events.flatMap(([delta, bytes]) => [...vlq(delta), ...bytes]);
  return [...Array.from('MTrk', (c) => c.charCodeAt(0)), ...u32(body.length), ...body];
}

export function midiFile(format: number, division: number, tracks: number[][]): Uint8Array {
  const header = [
    ...Array.from('MThd', (c) => c.charCodeAt(0)),
    ...u32(6),
    0,
    format,
    0,
    tracks.length,
    (division >> 8) & 0xff,
    division & 0xff,
  ];
  return new Uint8Array([...header, ...tracks.flat()]);
}
