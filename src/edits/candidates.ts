import { offsetFrame, onsetFrame, renderRoll } from '../midi/render.ts';
import type { PianoRoll, RollLayout } from '../midi/roll.ts';
import type { Note } from '../midi/types.ts';
import type { Rng } from '../util/random.ts';
import { inKeyPitchClasses, type Key } from '../key/spell.ts';
import { EDIT_KINDS, type EditGrid, type EditKind, type NoteEdit } from './types.ts';

/** Moves of a note, in frames: a frame or two either way. */
export const SHIFT_FRAMES = [-2, -1, 1, 2] as const;
/** Length changes, in frames, besides doubling and halving: a frame or two either way. */
export const RESIZE_FRAMES = [-2, -1, 1, 2] as const;

const SLACK = 1e-9;

/**
 * What makes an edit less small for a musician, as bits of `EditCandidates.flags`: a note outside
 * the local key (only when chromatic edits are allowed), a new dissonance with a note sounding, a
 * note held longer than the notes around it, a change of register (octave).
 */
export const EDIT_FLAGS = { chromatic: 1, dissonant: 2, long: 4, register: 8 } as const;
export type EditFlag = keyof typeof EDIT_FLAGS;

/**
 * The musical cost of an edit, in units of "one note changed": deleting a note, adding a note of
 * the local key that is consonant with what sounds, moving a note by one frame (50 ms at 20 fps)
 * or changing its length within the note values around it cost 1; moving it by two frames 1.5.
 * What a pianist hears as more than a small change costs more: an octave displacement 4, a new
 * dissonance +2, a note held longer than any note starting within LOCAL_SECONDS of it +3, a note
 * outside the local key +2 (and only when chromatic edits are asked for). Fixed a priori.
 */
export const EDIT_COSTS = {
  delete: 1,
  add: 1,
  shift: [1, 1.5],
  resize: 1,
  octave: 4,
  dissonant: 2,
  long: 3,
  chromatic: 2,
} as const;

/** The costliest edit the first, musically small, tier of a search allows (no flag set). */
export const SMALL_EDIT_COST = 1.5;

/** Seconds each side of a note within which the notes around it set its local note values. */
export const LOCAL_SECONDS = 2;

/** Interval classes heard as dissonant: seconds, the tritone, sevenths (and their compounds). */
const DISSONANT = new Set([1, 2, 6, 10, 11]);

/** What the candidates of a search are judged against, beyond the grid. */
export interface EditContext {
  /** The local key at a time (seconds from the excerpt's start): added notes stay in it. */
  keyAt?: (seconds: number) => Key;
  /**
   * The excerpt's notes after the edits made so far (`applyEdits`, which keeps the unedited notes'
   * objects): no candidate may make a note overlap another of the same pitch in it, and
   * dissonances and local note values are judged in it. Default: `notes`.
   */
  current?: readonly Note[];
  /** Allow added notes outside the local key (flagged chromatic, at a cost). Default false. */
  chromatic?: boolean;
  /** Leave out candidates that cost more than this. */
  maxCost?: number;
}

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
  /** Musical cost of each candidate (EDIT_COSTS). */
  readonly cost: Float32Array;
  /** EDIT_FLAGS bits of each candidate. */
  readonly flags: Uint8Array;
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
    this.cost = new Float32Array(capacity);
    this.flags = new Uint8Array(capacity);
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
   * added note must not start where one already sounds. `context` keeps the edits musical (see
   * EditContext): without a key every visible pitch may be added; same-pitch overlaps are never
   * produced.
   */
  static enumerate(
    notes: readonly Note[],
    grid: EditGrid,
    options: {
      exclude?: ReadonlySet<number>;
      roll?: PianoRoll;
      layout?: RollLayout;
    } & EditContext = {},
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
    const music = new MusicalJudge(options.current ?? notes);
    const maxCost = options.maxCost ?? Infinity;
    const channel = Math.max(0, roll.layout.channels.indexOf('frame'));
    const lit = (t: number, pitch: number) => roll.get(channel, t, pitch) > 0;

    const begin = (kind: EditKind) => (c.blocks[kind] = [c.count, c.count]);
    const close = (kind: EditKind) => (c.blocks[kind][1] = c.count);

    begin('delete');
    for (const i of editable) {
      if (EDIT_COSTS.delete > maxCost) break;
      c.push('delete', i, 0, [notes[i].pitch, on[i], off[i], -1]);
      c.judge(EDIT_COSTS.delete, 0);
    }
    close('delete');

    begin('add');
    for (const [t0, i] of [...template].sort((a, b) => a[0] - b[0])) {
      const t = notes[i];
      const onset = t.onset;
      const offset = Math.min(t.offset, end);
      const inKey = options.keyAt ? inKeyPitchClasses(options.keyAt(onset)) : undefined;
      const sounding = music.sounding(onset);
      const long = music.long(onset, offset - onset);
      for (let q = lo; q <= hi; q++) {
        if (lit(t0, q)) continue;
        let flags = 0;
        let cost: number = EDIT_COSTS.add;
        if (inKey && !inKey.has(q % 12)) {
          if (!options.chromatic) continue;
          flags |= EDIT_FLAGS.chromatic;
          cost += EDIT_COSTS.chromatic;
        }
        if (music.overlaps(q, onset, offset)) continue;
        if (sounding.some((p) => DISSONANT.has(Math.abs(q - p) % 12))) {
          flags |= EDIT_FLAGS.dissonant;
          cost += EDIT_COSTS.dissonant;
        }
        if (long) {
          flags |= EDIT_FLAGS.long;
          cost += EDIT_COSTS.long;
        }
        if (cost > maxCost) continue;
        c.push('add', i, q, [q, t0, off[i], 1]);
        c.judge(cost, flags);
      }
    }
    close('add');

    begin('shift');
    for (const i of editable) {
      const n = notes[i];
      for (const k of SHIFT_FRAMES) {
        const d = k / fps;
        if (n.onset + d < -SLACK || n.offset + d > end + SLACK) continue;
        const cost = EDIT_COSTS.shift[Math.abs(k) - 1] ?? Infinity;
        if (cost > maxCost) continue;
        if (music.overlaps(n.pitch, Math.max(0, n.onset + d), n.offset + d, n)) continue;
        const on2 = onsetFrame(Math.max(0, n.onset + d), fps);
        const off2 = Math.min(frames, offsetFrame(Math.max(0, n.onset + d), n.offset + d, fps));
        if (c.pushMove('shift', i, k, n.pitch, on[i], off[i], on2, off2)) c.judge(cost, 0);
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
        let cost: number = EDIT_COSTS.resize;
        let flags = 0;
        if (k > 0) {
          if (music.overlaps(n.pitch, n.onset, offset, n)) continue;
          if (music.long(n.onset, offset - n.onset, n)) {
            flags |= EDIT_FLAGS.long;
            cost += EDIT_COSTS.long;
          }
        }
        if (cost > maxCost) continue;
        const off2 = Math.min(frames, offsetFrame(n.onset, offset, fps));
        if (c.pushMove('resize', i, k, n.pitch, on[i], off[i], on[i], off2)) c.judge(cost, flags);
      }
    }
    close('resize');

    begin('octave');
    for (const i of editable) {
      const p = notes[i].pitch;
      for (const s of [-12, 12]) {
        if (p + s < lowPitch || p + s > highPitch) continue;
        if (EDIT_COSTS.octave > maxCost) continue;
        if (music.overlaps(p + s, notes[i].onset, notes[i].offset, notes[i])) continue;
        c.push('octave', i, s, [p, on[i], off[i], -1], [p + s, on[i], off[i], 1]);
        c.judge(EDIT_COSTS.octave, EDIT_FLAGS.register);
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

  /** The flags of candidate i by name. */
  flagNames(i: number): EditFlag[] {
    return (Object.keys(EDIT_FLAGS) as EditFlag[]).filter((f) => this.flags[i] & EDIT_FLAGS[f]);
  }

  /** The cheapest cost among the candidates (Infinity when there are none). */
  cheapest(): number {
    let best = Infinity;
    for (let i = 0; i < this.count; i++) best = Math.min(best, this.cost[i]);
    return best;
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

  /** Cost and flags of the candidate just pushed. */
  private judge(cost: number, flags: number): void {
    this.cost[this.count - 1] = cost;
    this.flags[this.count - 1] = flags;
  }

  /**
   * A note's frames [on, off) becoming [on2, off2) on one pitch: the cells that go dark and light.
   * False (nothing pushed) when the change is invisible at the frame rate.
   */
  private pushMove(
    kind: EditKind,
    note: number,
    arg: number,
    pitch: number,
    on: number,
    off: number,
    on2: number,
    off2: number,
  ): boolean {
    // For a move or a length change, old \ new and new \ old are single runs (one may be empty).
    const dark: [number, number] = on2 > on ? [on, Math.min(off, on2)] : [Math.max(on, off2), off];
    const light: [number, number] =
      on2 < on ? [on2, Math.min(on, off2)] : [Math.max(on2, off), off2];
    if (dark[1] <= dark[0] && light[1] <= light[0]) return false; // invisible at this frame rate
    this.push(kind, note, arg, [pitch, dark[0], dark[1], -1], [pitch, light[0], light[1], 1]);
    return true;
  }
}

/**
 * Musical judgements of a candidate against the excerpt as edited so far: same-pitch overlaps
 * (forbidden), dissonance with the notes sounding at an onset, length against the local note values.
 * `self` is the note being edited (left out of its own comparisons).
 */
class MusicalJudge {
  private readonly byPitch = new Map<number, Note[]>();

  constructor(readonly current: readonly Note[]) {
    for (const n of current) {
      if (!this.byPitch.has(n.pitch)) this.byPitch.set(n.pitch, []);
      this.byPitch.get(n.pitch)!.push(n);
    }
  }

  /** Would a note of `pitch` over [onset, offset) overlap another note of that pitch? */
  overlaps(pitch: number, onset: number, offset: number, self?: Note): boolean {
    for (const m of this.byPitch.get(pitch) ?? [])
      if (m !== self && m.onset < offset - SLACK && onset < m.offset - SLACK) return true;
    return false;
  }

  /** Pitches of the notes sounding at `onset` (a new note there is dissonant with some of them or not). */
  sounding(onset: number): number[] {
    return this.current
      .filter((m) => m.onset <= onset + SLACK && m.offset > onset + SLACK)
      .map((m) => m.pitch);
  }

  /** Is `length` longer than every note starting within LOCAL_SECONDS of `onset`? */
  long(onset: number, length: number, self?: Note): boolean {
    let longest = 0;
    for (const m of this.current)
      if (m !== self && Math.abs(m.onset - onset) <= LOCAL_SECONDS)
        longest = Math.max(longest, m.offset - m.onset);
    if (longest === 0 && self) longest = self.offset - self.onset;
    return length > longest + SLACK;
  }
}
