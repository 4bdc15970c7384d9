import { offsetFrame, onsetFrame, renderRoll } from '../midi/render.ts';
import type { PianoRoll, RollLayout } from '../midi/roll.ts';
import type { Note } from '../midi/types.ts';
import type { Rng } from '../util/random.ts';
import { EDIT_KINDS, type EditGrid, type EditKind, type NoteEdit } from './types.ts';

/** Moves of a note, in frames: a frame or two either way. */
export const SHIFT_FRAMES = [-2, -1, 1, 2] as const;
/** Length changes, in frames, besides doubling and halving: a frame or two either way. */
export const RESIZE_FRAMES = [-2, -1, 1, 2] as const;

const SLACK = 1e-9;
const KIND_CODES: Record<EditKind, number> = { delete: 0, add: 1, shift: 2, resize: 3, octave: 4 };

/**
 * Every valid single edit of an excerpt, enumerated compactly (typed arrays, no objects: an excerpt
 * of 300 notes has tens of thousands of candidate additions, and a search ranks them every step).
 *
 * The candidates:
 * - delete any note;
 * - add a note on the excerpt's grid: at the onset of a note already there (frame of the roll), with
 *   that note's timing and velocity (the longest note starting on that frame), at any visible pitch
 *   within an octave of the excerpt's range that is not already sounding at that frame;
 * - shift a note by 1 or 2 frames either way (staying inside the window);
 * - lengthen or shorten a note by 1 or 2 frames, or to twice or half its length (one frame at least,
 *   not past the window's end);
 * - move a note an octave up or down (staying among the model's pitches).
 * Notes outside the model's pitches or window are invisible to it and are not edited.
 *
 * Each candidate also records the roll cells it changes, as up to two runs of frames of one pitch
 * turned on (+1) or off (-1), exactly as `renderRoll` quantises the edited notes: a search can
 * estimate an edit's effect from the input gradient without rendering it (src/robustness).
 */
export class EditCandidates {
  count = 0;
  readonly kind: Uint8Array;
  /** The edited note (for an added note: the note whose timing it copies). */
  readonly note: Int32Array;
  /** Frames (shift, resize), semitones (octave) or pitch (add). */
  readonly arg: Int32Array;
  readonly cells: {
    pitch: Int16Array;
    from: Int32Array;
    to: Int32Array;
    /** +1 cells turned on, -1 turned off, 0 no range. */
    sign: Int8Array;
  }[];
  /** [start, end) of each kind's block of candidates. */
  readonly blocks: Record<EditKind, [number, number]> = {
    delete: [0, 0],
    add: [0, 0],
    shift: [0, 0],
    resize: [0, 0],
    octave: [0, 0],
  };

  private constructor(
    readonly notes: readonly Note[],
    readonly grid: EditGrid,
    capacity: number,
  ) {
    this.kind = new Uint8Array(capacity);
    this.note = new Int32Array(capacity);
    this.arg = new Int32Array(capacity);
    this.cells = [0, 1].map(() => ({
      pitch: new Int16Array(capacity),
      from: new Int32Array(capacity),
      to: new Int32Array(capacity),
      sign: new Int8Array(capacity),
    }));
  }

  /**
   * The candidate edits of `notes`, leaving out the notes in `exclude` (already edited). `roll` is
   * the excerpt as currently rendered (after the edits made so far; default: `notes` rendered): an
   * added note must not start where one already sounds.
   */
  static enumerate(
    notes: readonly Note[],
    grid: EditGrid,
    options: { exclude?: ReadonlySet<number>; roll?: PianoRoll; layout?: RollLayout } = {},
  ): EditCandidates {
    const { fps, frames, lowPitch, highPitch } = grid;
    const end = frames / fps;
    const visible: number[] = [];
    const on = new Int32Array(notes.length);
    const off = new Int32Array(notes.length);
    notes.forEach((n, i) => {
      on[i] = onsetFrame(n.onset, fps);
      off[i] = Math.min(frames, offsetFrame(n.onset, n.offset, fps));
      if (n.pitch >= lowPitch && n.pitch <= highPitch && on[i] >= 0 && on[i] < frames)
        visible.push(i);
    });
    const editable = visible.filter((i) => !options.exclude?.has(i));

    // The add grid: onset frames in use, each with the longest note starting there.
    const template = new Map<number, number>();
    for (const i of visible) {
      const t = template.get(on[i]);
      if (t === undefined || off[i] > off[t]) template.set(on[i], i);
    }
    let lo = highPitch;
    let hi = lowPitch;
    for (const i of visible) {
      lo = Math.min(lo, notes[i].pitch);
      hi = Math.max(hi, notes[i].pitch);
    }
    lo = Math.max(lowPitch, lo - 12);
    hi = Math.min(highPitch, hi + 12);
    const span = visible.length ? hi - lo + 1 : 0;

    const capacity =
      editable.length * (1 + SHIFT_FRAMES.length + RESIZE_FRAMES.length + 2 + 2) +
      template.size * span;
    const c = new EditCandidates(notes, grid, capacity);
    const roll =
      options.roll ??
      renderRoll(
        notes,
        options.layout ?? {
          fps,
          lowPitch,
          highPitch,
          channels: ['frame'],
          values: 'binary',
        },
        end,
      );
    const channel = Math.max(0, roll.layout.channels.indexOf('frame'));
    const lit = (t: number, pitch: number) => roll.get(channel, t, pitch) > 0;

    const begin = (kind: EditKind) => (c.blocks[kind] = [c.count, c.count]);
    const close = (kind: EditKind) => (c.blocks[kind][1] = c.count);

    begin('delete');
    for (const i of editable) c.push('delete', i, 0, [notes[i].pitch, on[i], off[i], -1]);
    close('delete');

    begin('add');
    for (const [t0, i] of [...template].sort((a, b) => a[0] - b[0])) {
      for (let q = lo; q <= hi; q++) {
        if (lit(t0, q)) continue;
        c.push('add', i, q, [q, t0, off[i], 1]);
      }
    }
    close('add');

    begin('shift');
    for (const i of editable) {
      const n = notes[i];
      for (const k of SHIFT_FRAMES) {
        const d = k / fps;
        if (n.onset + d < -SLACK || n.offset + d > end + SLACK) continue;
        const on2 = onsetFrame(Math.max(0, n.onset + d), fps);
        const off2 = Math.min(frames, offsetFrame(Math.max(0, n.onset + d), n.offset + d, fps));
        c.pushMove('shift', i, k, n.pitch, on[i], off[i], on2, off2);
      }
    }
    close('shift');

    begin('resize');
    for (const i of editable) {
      const n = notes[i];
      const length = off[i] - on[i];
      const changes = new Set<number>([...RESIZE_FRAMES, length, -Math.floor(length / 2)]);
      for (const k of changes) {
        if (k === 0) continue;
        const offset = n.offset + k / fps;
        if (offset > end + SLACK || offset - n.onset < 1 / fps - SLACK) continue;
        const off2 = Math.min(frames, offsetFrame(n.onset, offset, fps));
        c.pushMove('resize', i, k, n.pitch, on[i], off[i], on[i], off2);
      }
    }
    close('resize');

    begin('octave');
    for (const i of editable) {
      const p = notes[i].pitch;
      for (const s of [-12, 12]) {
        if (p + s < lowPitch || p + s > highPitch) continue;
        c.push('octave', i, s, [p, on[i], off[i], -1], [p + s, on[i], off[i], 1]);
      }
    }
    close('octave');
    return c;
  }

  /** Candidates of one kind. */
  size(kind: EditKind): number {
    const [a, b] = this.blocks[kind];
    return b - a;
  }

  /** Candidate i as an edit. */
  edit(i: number): NoteEdit {
    if (!(i >= 0 && i < this.count)) throw new Error(`no candidate ${i} (of ${this.count})`);
    const note = this.note[i];
    const arg = this.arg[i];
    switch (EDIT_KINDS.find((k) => KIND_CODES[k] === this.kind[i])!) {
      case 'delete':
        return { kind: 'delete', note };
      case 'add': {
        const t = this.notes[note];
        const end = this.grid.frames / this.grid.fps;
        return {
          kind: 'add',
          pitch: arg,
          onset: t.onset,
          offset: Math.min(t.offset, end),
          velocity: t.velocity,
        };
      }
      case 'shift':
        return { kind: 'shift', note, frames: arg };
      case 'resize':
        return { kind: 'resize', note, frames: arg };
      case 'octave':
        return { kind: 'octave', note, semitones: arg as 12 | -12 };
    }
  }

  /** A random candidate: a kind chosen uniformly among those with candidates, then one of its. */
  random(rng: Rng): number | undefined {
    const kinds = EDIT_KINDS.filter((k) => this.size(k) > 0);
    if (kinds.length === 0) return undefined;
    const [a, b] = this.blocks[rng.pick(kinds)];
    return rng.int(a, b - 1);
  }

  private push(
    kind: EditKind,
    note: number,
    arg: number,
    a: [number, number, number, number],
    b?: [number, number, number, number],
  ): void {
    const i = this.count++;
    this.kind[i] = KIND_CODES[kind];
    this.note[i] = note;
    this.arg[i] = arg;
    [a, b].forEach((r, j) => {
      const cells = this.cells[j];
      if (!r || r[2] <= r[1]) {
        cells.sign[i] = 0;
        return;
      }
      cells.pitch[i] = r[0];
      cells.from[i] = r[1];
      cells.to[i] = r[2];
      cells.sign[i] = r[3];
    });
  }

  /** A note's frames [on, off) becoming [on2, off2) on one pitch: the cells that go dark and light. */
  private pushMove(
    kind: EditKind,
    note: number,
    arg: number,
    pitch: number,
    on: number,
    off: number,
    on2: number,
    off2: number,
  ): void {
    // For a move or a length change, old \ new and new \ old are single runs (one may be empty).
    const dark: [number, number] = on2 > on ? [on, Math.min(off, on2)] : [Math.max(on, off2), off];
    const light: [number, number] =
      on2 < on ? [on2, Math.min(on, off2)] : [Math.max(on2, off), off2];
    if (dark[1] <= dark[0] && light[1] <= light[0]) return; // invisible at this frame rate
    this.push(kind, note, arg, [pitch, dark[0], dark[1], -1], [pitch, light[0], light[1], 1]);
  }
}
