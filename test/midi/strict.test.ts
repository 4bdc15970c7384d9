import { describe, expect, it } from 'vitest';
import { MidiReadError, parseMidi } from '../../src/midi/read.ts';
import { endOfTrack, midiFile, off, on, track, type Ev } from './bytes.ts';

/** 16 notes, each 96 ticks, one after another. */
const notes: Ev[] = Array.from({ length: 16 }, (_, i) => [on(0, 60 + i), off(96, 60 + i)]).flat();
const withEvent = (at: number, ev: Ev) =>
  midiFile(0, 96, [track([...notes.slice(0, at), ev, ...notes.slice(at), endOfTrack()])]);

function refusal(bytes: Uint8Array): string {
  try {
    parseMidi(bytes);
  } catch (err) {
    if (err instanceof MidiReadError) return err.message;
    throw err;
  }
  throw new Error('read');
}

describe('strict MIDI structure', () => {
  it('a meta event announcing more bytes than its track holds makes the file bad (the old reader kept 2 of 16 notes)', () => {
    const bytes = withEvent(4, [0, [0xff, 0x01, 0x81, 0x48]]); // a text event of 200 bytes
    expect(refusal(bytes)).toMatch(
      /^corrupt MIDI data: track 1: a meta event announces 200 bytes, \d+ remain \(byte 38 of the file\); --lenient-midi reads what comes before the break$/,
    );
  });

  it('lenient: the track is cut before the break and the notes after it are counted as lost', () => {
    const content = parseMidi(withEvent(4, [0, [0xff, 0x01, 0x81, 0x48]]), { lenient: true });
    expect(content.notes).toHaveLength(2);
    // The 14 notes after the break are found by decoding the dropped bytes after the bad header.
    expect(content.damage).toEqual([
      {
        description: expect.stringMatching(
          /the track's last \d+ bytes dropped, about 14 notes lost/,
        ),
        notesLost: 14,
      },
    ]);
  });

  it('a sysex, a delta time of 5 bytes, a stray data byte, an unknown status and a data byte over 127', () => {
    expect(refusal(withEvent(2, [0, [0xf0, 0x7f, 1]]))).toMatch(
      /a sysex event announces 127 bytes/,
    );
    // An empty text event, then a delta time of 5 bytes.
    const fiveByteDelta: Ev = [0, [0xff, 0x01, 0x00, 0x81, 0x81, 0x81, 0x81, 0x01, 0x90, 60, 1]];
    expect(refusal(withEvent(2, fiveByteDelta))).toMatch(/a delta time longer than 4 bytes/);
    expect(refusal(midiFile(0, 96, [track([[0, [60, 100]], ...notes])]))).toMatch(
      /a data byte where an event should start/,
    );
    expect(refusal(withEvent(2, [0, [0xf4]]))).toMatch(/an unknown event type 0xf4/);
    expect(refusal(withEvent(2, [0, [0x90, 0x80, 0x40]]))).toMatch(
      /a channel event with a data byte over 127/,
    );
  });

  it('a file cut short: refused, or read leniently with the missing notes unknown', () => {
    const whole = midiFile(0, 96, [track([...notes, endOfTrack()])]);
    const cut = whole.subarray(0, whole.length - 20);
    expect(refusal(cut)).toMatch(/^truncated: track 1 announces \d+ bytes, \d+ remain/);
    const content = parseMidi(cut, { lenient: true });
    expect(content.notes.length).toBeGreaterThan(10);
    expect(content.damage).toEqual([
      { description: expect.stringMatching(/^truncated/), notesLost: null },
    ]);
  });

  it('a sound file reads the same strictly and leniently, with no damage', () => {
    const bytes = withEvent(4, [0, [0xff, 0x01, 3, 0x61, 0x62, 0x63]]);
    expect(parseMidi(bytes).notes).toHaveLength(16);
    const lenient = parseMidi(bytes, { lenient: true });
    expect(lenient.notes).toHaveLength(16);
    expect(lenient.damage).toBeUndefined();
  });

  it('a piece over the length limit is refused before anything is built from it', () => {
    const bytes = midiFile(0, 96, [track([...notes, endOfTrack()])]);
    expect(() => parseMidi(bytes, { maxSeconds: 5 })).toThrow(
      /the piece lasts 8\.0 s, over the limit of 5\.0 s/,
    );
  });
});
