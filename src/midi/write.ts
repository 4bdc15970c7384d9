/**
 * Notes -> MIDI files (excerpts for musicologists), and piano rolls -> notes.
 * Writing is small, so @tonejs/midi's writer is used; times are written in ticks (480 per beat)
 * rounded from seconds at the given tempo, so at 120 bpm a 20 fps frame is exactly 48 ticks (a tick
 * is 1/960 s; at frame rates that do not divide 960, pick a tempo whose tick rate they divide).
 */
import tonejs from '@tonejs/midi';
import { writeFileAtomic } from '../util/files.ts';
import type { PianoRoll } from './roll.ts';
import type { Note } from './types.ts';

const { Midi } = tonejs;

export interface WriteOptions {
  /** Track and sequence name. */
  name?: string;
  /** Tempo written to the file (default 120); note times in seconds do not depend on it. */
  bpm?: number;
}

export const DEFAULT_VELOCITY = 80;

/** A type 1 MIDI file with one piano track (channel 0) holding the notes. */
export function notesToMidiBytes(notes: readonly Note[], options: WriteOptions = {}): Uint8Array {
  const bpm = options.bpm ?? 120;
  const midi = new Midi();
  midi.header.setTempo(bpm);
  if (options.name) midi.header.name = options.name;
  const track = midi.addTrack();
  if (options.name) track.name = options.name;
  const ticksPerSecond = (midi.header.ppq * bpm) / 60;
  for (const n of notes) {
    const ticks = Math.round(n.onset * ticksPerSecond);
    const durationTicks = Math.max(1, Math.round(n.offset * ticksPerSecond) - ticks);
    // The writer stores floor(velocity * 127); the half step keeps integer velocities exact.
    track.addNote({
      midi: n.pitch,
      ticks,
      durationTicks,
      velocity: (clampVelocity(n.velocity) + 0.5) / 127,
    });
  }
  return midi.toArray();
}

export function writeMidiFile(
  path: string,
  notes: readonly Note[],
  options: WriteOptions = {},
): void {
  writeFileAtomic(path, notesToMidiBytes(notes, options));
}

export interface RollToNotesOptions {
  /** First frame to read (default 0). */
  startFrame?: number;
  /** Frames to read (default: to the end of the roll). */
  frames?: number;
  /** Keep only cells where mask(frame, pitch) is true; frame is the roll's frame index, pitch is MIDI. */
  mask?: (frame: number, pitch: number) => boolean;
  /** Seconds added to every note; frame `startFrame` is at `timeOffset` (default 0). */
  timeOffset?: number;
}

/**
 * Notes from a roll: consecutive active frames of the 'frame' channel of one pitch form a note; an
 * active 'onset' cell, when the layout has that channel, starts a new note (repeated notes); without
 * it, in a velocity roll, so does a change of value. Without a 'frame' channel each onset becomes a
 * one-frame note. Velocity: the 'velocity' channel's value * 127 at the note's first frame when the
 * layout has that channel (which also marks sounding frames when there is no 'frame' channel),
 * else value * 127 for velocity rolls, else 80. Sorted by onset, then pitch.
 *
 * renderRoll(rollToNotes(roll)) gives `roll` back, except for velocity rolls in which two notes of
 * one pitch share a frame (a frame holds one value): then the shared frame's value spreads.
 * Through a MIDI file, frame times are exact when a tick divides a frame (120 bpm: fps dividing 960).
 */
export function rollToNotes(roll: PianoRoll, options: RollToNotesOptions = {}): Note[] {
  const { fps, lowPitch } = roll.layout;
  const start = Math.max(0, options.startFrame ?? 0);
  const end = Math.min(roll.frames, (options.startFrame ?? 0) + (options.frames ?? roll.frames));
  const timeOffset = options.timeOffset ?? 0;
  const frameCh = roll.layout.channels.indexOf('frame');
  const onsetCh = roll.layout.channels.indexOf('onset');
  const velocityCh = roll.layout.channels.indexOf('velocity');
  // Without a frame channel, the velocity channel says which frames sound.
  const soundCh = frameCh >= 0 ? frameCh : velocityCh;
  const velocityValues = roll.layout.values === 'velocity';
  const mask = options.mask;
  const origin = options.startFrame ?? 0;
  const notes: Note[] = [];

  for (let p = 0; p < roll.pitches; p++) {
    const pitch = lowPitch + p;
    let noteStart = -1;
    let noteValue = 0;
    let lastValue = 0;
    const emit = (until: number) => {
      if (noteStart < 0) return;
      notes.push({
        pitch,
        onset: (noteStart - origin) / fps + timeOffset,
        offset: (until - origin) / fps + timeOffset,
        velocity:
          velocityValues || velocityCh >= 0
            ? clampVelocity(Math.round(noteValue * 127))
            : DEFAULT_VELOCITY,
        track: 0,
        channel: 0,
      });
      noteStart = -1;
    };
    for (let t = start; t < end; t++) {
      const allowed = !mask || mask(t, pitch);
      const onsetValue = allowed && onsetCh >= 0 ? roll.get(onsetCh, t, pitch) : 0;
      const frameValue = allowed && soundCh >= 0 ? roll.get(soundCh, t, pitch) : onsetValue;
      const previousValue = lastValue;
      lastValue = frameValue;
      if (frameValue <= 0) {
        emit(t);
        continue;
      }
      // Without an onset channel, a change of velocity is the only sign of a repeated note.
      const repeated =
        onsetCh >= 0 ? onsetValue > 0 : velocityValues && frameValue !== previousValue;
      if (noteStart >= 0 && (repeated || soundCh < 0)) emit(t);
      if (noteStart < 0) {
        noteStart = t;
        noteValue =
          velocityCh >= 0 ? roll.get(velocityCh, t, pitch) : Math.max(frameValue, onsetValue);
      }
    }
    emit(end);
  }
  notes.sort((a, b) => a.onset - b.onset || a.pitch - b.pitch);
  return notes;
}

/** Notes sounding in [start, end) seconds, clipped to it and shifted so that `start` is 0. */
export function excerptNotes(notes: readonly Note[], start: number, end: number): Note[] {
  const out: Note[] = [];
  for (const n of notes) {
    const onset = Math.max(n.onset, start) - start;
    const offset = Math.min(n.offset, end) - start;
    if (offset > onset) out.push({ ...n, onset, offset });
  }
  return out;
}

function clampVelocity(v: number): number {
  return Math.min(127, Math.max(1, Math.round(v)));
}
