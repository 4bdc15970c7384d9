"""Note edits in piano-roll space, for adversarial training (`train.py --adversarial`).

The attack of `concept-lens attack` (src/edits, src/robustness) edits note lists and renders them
through the normal roll renderer. The trainer only has rolls, so it edits the roll in the way those
note edits show up in it. In a binary 'frame' roll a note is a run of lit frames of one pitch (two
notes of one pitch that touch merge into one run, as they do in the model's input); the five edits
of src/edits map to changes of runs:

    delete   the run goes dark                       (delete a note)
    add      a new run at an existing onset frame     (add a note on the excerpt's grid: a pitch
             with the length of a note starting there  sounding with notes already there)
    shift    the run moves by +-1 or +-2 frames       (move a note's onset by a frame or two)
    resize   the run ends 1 or 2 frames later or      (lengthen or shorten a note)
             earlier, or lasts twice or half as long
    octave   the run moves 12 semitones up or down    (move a note by an octave)

Two searches craft the adversarial windows, as in the attack: random edits, and edits ranked by the
loss gradient (first-order gain sum(g * (x_new - x)) of every candidate edit, computed exactly for
all candidates at once from prefix sums of the gradient along time), the best ones applied.
"""
import numpy as np

KINDS = ("delete", "add", "shift", "resize", "octave")
SHIFTS = (-2, -1, 1, 2)


def note_runs(frame):
    """Runs of lit frames per pitch of a [T, P] roll: (pitch, on, off) arrays, off exclusive."""
    lit = frame > 0
    T, P = lit.shape
    padded = np.zeros((T + 2, P), dtype=np.int8)
    padded[1:-1] = lit
    d = np.diff(padded, axis=0)  # [T + 1, P]: +1 where a run starts, -1 one past where it ends
    st, sp = np.nonzero(d == 1)
    et, ep = np.nonzero(d == -1)
    s = np.lexsort((st, sp))
    e = np.lexsort((et, ep))
    return sp[s], st[s], et[e]


def resize_targets(on, off, T):
    """Candidate new ends of each run: +-1, +-2 frames, twice and half the length (at least one frame)."""
    dur = off - on
    return [np.clip(off + k, on + 1, T) for k in (-2, -1, 1, 2)] + [
        np.clip(on + 2 * dur, on + 1, T),
        np.clip(on + np.maximum(1, dur // 2), on + 1, T),
    ]


class RollEditor:
    """Edits of one window's frame channel [T, P] (float 0/1), modified in place."""

    def __init__(self, frame):
        self.x = frame
        self.T, self.P = frame.shape

    def apply(self, edit):
        """edit = (kind, pitch, on, off, arg); arg: shift in frames, new end, new pitch, or add's end."""
        kind, p, on, off, arg = edit
        x = self.x
        if kind == "delete":
            x[on:off, p] = 0
        elif kind == "add":
            x[on:arg, p] = 1
        elif kind == "shift":
            x[on:off, p] = 0
            x[on + arg:off + arg, p] = 1
        elif kind == "resize":
            if arg < off:
                x[arg:off, p] = 0
            else:
                x[off:arg, p] = 1
        elif kind == "octave":
            x[on:off, p] = 0
            x[on:off, arg] = 1
        else:
            raise ValueError(kind)

    def candidates(self):
        """Every valid edit of the window, as a list of (kind, pitch, on, off, arg) arrays per kind."""
        p, on, off = note_runs(self.x)
        T, P = self.T, self.P
        out = {"delete": (p, on, off, np.zeros_like(on))}
        ks, ps, ons, offs = [], [], [], []
        for k in SHIFTS:
            ok = (on + k >= 0) & (off + k <= T)
            ks.append(np.full(ok.sum(), k))
            ps.append(p[ok]), ons.append(on[ok]), offs.append(off[ok])
        out["shift"] = tuple(np.concatenate(a) for a in (ps, ons, offs, ks))
        rp, ron, roff, rend = [], [], [], []
        for end in resize_targets(on, off, T):
            m = end != off
            rp.append(p[m]), ron.append(on[m]), roff.append(off[m]), rend.append(end[m])
        out["resize"] = tuple(np.concatenate(a) for a in (rp, ron, roff, rend))
        targets, ps, ons, offs = [], [], [], []
        for step in (-12, 12):
            q = p + step
            ok = (q >= 0) & (q < P)
            targets.append(q[ok]), ps.append(p[ok]), ons.append(on[ok]), offs.append(off[ok])
        out["octave"] = tuple(np.concatenate(a) for a in (ps, ons, offs, targets))
        out["add"] = self.add_candidates(p, on, off)
        return out

    def add_candidates(self, p, on, off):
        """A note at every (onset frame in use, pitch within the window's range +- an octave), as long
        as a note starting there; pitches already lit at that onset are left out."""
        if len(on) == 0:
            return tuple(np.zeros(0, dtype=np.int64) for _ in range(4))
        # One length per onset frame: the longest run starting there.
        frames = np.unique(on)
        length = np.zeros(self.T + 1, dtype=np.int64)
        np.maximum.at(length, on, off - on)
        lo, hi = max(0, int(p.min()) - 12), min(self.P - 1, int(p.max()) + 12)
        pitches = np.arange(lo, hi + 1)
        t0 = np.repeat(frames, len(pitches))
        q = np.tile(pitches, len(frames))
        end = np.minimum(self.T, t0 + length[t0])
        free = self.x[t0, q] == 0
        return q[free], t0[free], t0[free], end[free]

    def scores(self, grad, cands):
        """First-order change sum(g * (x_new - x)) of each candidate edit, per kind."""
        x = self.x
        zero = np.zeros((1, self.P), dtype=np.float64)
        G = np.concatenate([zero, np.cumsum(grad, axis=0, dtype=np.float64)])
        GX = np.concatenate([zero, np.cumsum(grad * x, axis=0, dtype=np.float64)])

        def on_gain(a, b, q):  # cells [a, b) of pitch q turned on: only dark cells change
            b = np.maximum(a, b)
            return (G[b, q] - G[a, q]) - (GX[b, q] - GX[a, q])

        def off_gain(a, b, q):  # cells turned off: only lit cells change
            b = np.maximum(a, b)
            return -(GX[b, q] - GX[a, q])

        out = {}
        p, on, off, _ = cands["delete"]
        out["delete"] = off_gain(on, off, p)
        p, on, _, end = cands["add"]
        out["add"] = on_gain(on, end, p)
        p, on, off, k = cands["shift"]
        later = k > 0
        # Moving later: the head [on, on + k) goes dark, [off, off + k) lights (the overlap stays).
        # Moving earlier: [on + k, on) lights, the tail [off + k, off) goes dark.
        out["shift"] = np.where(
            later,
            off_gain(on, np.minimum(off, on + k), p) + on_gain(np.maximum(off, on + k), off + k, p),
            on_gain(on + k, np.minimum(on, off + k), p) + off_gain(np.maximum(on, off + k), off, p),
        )
        p, on, off, end = cands["resize"]
        out["resize"] = np.where(end < off, off_gain(end, off, p), on_gain(off, end, p))
        p, on, off, q = cands["octave"]
        out["octave"] = off_gain(on, off, p) + on_gain(on, off, q)
        return out


def pick_top(cands, scores, k):
    """The k best edits by score, at most one per note (run) and per added (onset, pitch)."""
    flat = []
    for kind in KINDS:
        s = scores[kind]
        if len(s) == 0:
            continue
        top = np.argsort(-s)[: 4 * k]  # enough to survive the one-edit-per-note rule
        for i in top:
            flat.append((float(s[i]), kind, i))
    flat.sort(key=lambda t: -t[0])
    chosen, used = [], set()
    for _, kind, i in flat:
        p, on, off, arg = (int(a[i]) for a in cands[kind])
        key = ("add", p, on) if kind == "add" else ("run", p, on)
        if key in used:
            continue
        used.add(key)
        chosen.append((kind, p, on, off, arg))
        if len(chosen) == k:
            break
    return chosen


def random_edit(editor, rng):
    """One uniformly chosen valid edit: a kind at random, then one of its candidates at random."""
    cands = editor.candidates()
    kinds = [k for k in KINDS if len(cands[k][0]) > 0]
    if not kinds:
        return None
    kind = kinds[int(rng.integers(len(kinds)))]
    i = int(rng.integers(len(cands[kind][0])))
    p, on, off, arg = (int(a[i]) for a in cands[kind])
    return (kind, p, on, off, arg)


def random_edits(frame, k, rng):
    """Apply k random edits to a [T, P] frame roll in place; returns the edits."""
    editor = RollEditor(frame)
    done = []
    for _ in range(k):
        e = random_edit(editor, rng)
        if e is None:
            break
        editor.apply(e)
        done.append(e)
    return done


def guided_edits(frame, grad, k):
    """Apply the k edits with the largest first-order gain along `grad` (d loss / d roll) in place."""
    editor = RollEditor(frame)
    cands = editor.candidates()
    chosen = pick_top(cands, editor.scores(grad, cands), k)
    for e in chosen:
        editor.apply(e)
    return chosen
