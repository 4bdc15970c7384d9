import { describe, expect, it } from 'vitest';
import { renderRoll } from '../../src/midi/render.ts';
import type { RollLayout } from '../../src/midi/roll.ts';
import { rollToNotes } from '../../src/midi/write.ts';
import { inspectModel } from '../../src/cli/commands/model.ts';
import { runMain } from '../helpers/cli.ts';
import { note } from '../helpers/notes.ts';
import { MLP_NOMETA } from '../model/fixtures.ts';

/**
 * The velocity channel: velocity / 127 on every frame a note sounds (the frames it lights in the
 * frame channel), the louder note winning where two of one pitch overlap, whatever `values` says.
 */
describe('velocity channel', () => {
  // Hand-worked at 10 fps, pitches 60..62 (frame t covers [t/10, (t+1)/10) s):
  //   60: 0.00-0.30 s, velocity 127 -> frames 0, 1, 2
  //   61: 0.12-0.38 s, velocity 64  -> floor(1.2) = 1 .. round(3.8) = 4: frames 1, 2, 3
  //   61: 0.20-0.50 s, velocity 100 -> frames 2, 3, 4 (louder where they overlap: 2, 3)
  //   62: 0.41-0.42 s, velocity 1   -> frame 4 (at least one frame)
  const notes = [
    { ...note(60, 0, 0.3), velocity: 127 },
    { ...note(61, 0.12, 0.38), velocity: 64 },
    { ...note(61, 0.2, 0.5), velocity: 100 },
    { ...note(62, 0.41, 0.42), velocity: 1 },
  ];
  const layout: RollLayout = {
    fps: 10,
    lowPitch: 60,
    highPitch: 62,
    channels: ['onset', 'frame', 'velocity'],
    values: 'binary',
  };
  // [frame][pitch 60, 61, 62]
  const velocity = [
    [1, 0, 0],
    [1, 64 / 127, 0],
    [1, 100 / 127, 0],
    [0, 100 / 127, 0],
    [0, 100 / 127, 1 / 127],
  ];
  const frame = [
    [1, 0, 0],
    [1, 1, 0],
    [1, 1, 0],
    [0, 1, 0],
    [0, 1, 1],
  ];
  const onset = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 1, 0],
    [0, 0, 0],
    [0, 0, 1],
  ];
  const channel = (roll: ReturnType<typeof renderRoll>, c: number) =>
    Array.from({ length: roll.frames }, (_, t) => [60, 61, 62].map((p) => roll.get(c, t, p)));

  it('renders velocity / 127 over the note’s frames beside binary onset and frame channels', () => {
    const roll = renderRoll(notes, layout);
    expect(roll.frames).toBe(5);
    expect(channel(roll, 0)).toEqual(onset);
    expect(channel(roll, 1)).toEqual(frame);
    const v = channel(roll, 2);
    v.forEach((row, t) => row.forEach((x, p) => expect(x).toBeCloseTo(velocity[t][p], 6)));
  });

  it('is the same whatever `values` says; velocity values scale the other channels', () => {
    const roll = renderRoll(notes, { ...layout, values: 'velocity' });
    const v = channel(roll, 2);
    v.forEach((row, t) => row.forEach((x, p) => expect(x).toBeCloseTo(velocity[t][p], 6)));
    expect(roll.get(1, 4, 62)).toBeCloseTo(1 / 127, 6);
  });

  it('gives notes back with their velocities (a roll of non-overlapping notes)', () => {
    const apart = [notes[0], notes[1], notes[3]];
    for (const channels of [['frame', 'velocity'], ['velocity']] as RollLayout['channels'][]) {
      const roll = renderRoll(apart, { ...layout, channels });
      const back = rollToNotes(roll);
      expect(back.map((n) => [n.pitch, n.velocity])).toEqual([
        [60, 127],
        [61, 64],
        [62, 1],
      ]);
      expect(renderRoll(back, { ...layout, channels }, roll.frames / layout.fps).data).toEqual(
        roll.data,
      );
    }
  });

  it('is a channel of the input spec (sidecar and --channels)', async () => {
    const m = await inspectModel(MLP_NOMETA, {
      labels: ['A', 'B', 'C'],
      input: {
        fps: 20,
        windowFrames: 16,
        lowPitch: 60,
        highPitch: 71,
        channels: ['frame', 'velocity'],
        values: 'binary',
        layout: 'NCPT',
      },
    });
    expect(m.input.channels).toEqual(['frame', 'velocity']);
    // prettier-ignore
    const flags = ['--labels', 'A', 'B', 'C', '--fps', '20', '--window-frames', '16', '--low-pitch', '60',
      '--high-pitch', '71', '--values', 'binary', '--layout', 'NCPT', '--channels', 'onset', 'velocity'];
    const r = await runMain(['model', 'inspect', MLP_NOMETA, ...flags]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('input spec: NCPT, onset+velocity (binary)');
  });
});
