#!/usr/bin/python3
"""Hand-worked checks of the trainer's small pure functions (run by smoke.sh; no test framework needed)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "training"))
from data import RollAugment, shift_zero_fill  # noqa: E402
from train import class_weights  # noqa: E402

x = np.arange(1, 13, dtype=np.float32).reshape(1, 3, 4)  # [C=1, T=3, P=4]
# Up two semitones: pitches move to higher indices, the two lowest become silent, nothing wraps.
assert shift_zero_fill(x, 2, axis=2).tolist() == [[[0, 0, 1, 2], [0, 0, 5, 6], [0, 0, 9, 10]]]
# One frame earlier: the first frame is dropped, the last is silent.
assert shift_zero_fill(x, -1, axis=1).tolist() == [[[5, 6, 7, 8], [9, 10, 11, 12], [0, 0, 0, 0]]]
assert shift_zero_fill(x, 0, axis=1) is x

# Augmentation keeps the shape and only moves notes (count can drop at the edges, never grow).
roll = (np.random.default_rng(0).random((1, 400, 88)) < 0.05).astype(np.float32)
aug = RollAugment(seed=3)(roll)
assert aug.shape == roll.shape and aug.sum() <= roll.sum()

# Class weights: counts 1, 3 -> inverse frequencies 4/2/1 = 2 and 4/2/3 = 2/3, mean 4/3 -> 1.5, 0.5.
assert np.allclose(class_weights(np.array([0, 1, 1, 1]), 2).numpy(), [1.5, 0.5])
# An absent class gets weight 0 and stays out of the mean: counts 2, 0, 1 -> 0.5, 0, 1 -> mean 0.75.
assert np.allclose(class_weights(np.array([0, 0, 2]), 3).numpy(), [2 / 3, 0, 4 / 3])

# Note edits in roll space (training/note_edits.py), hand-worked on a 6-frame, 3-pitch roll:
# pitch 0 sounds in frames 1-3, pitch 2 in frames 0-1.
from note_edits import KINDS, RollEditor, note_runs  # noqa: E402

frame = np.zeros((6, 3), dtype=np.float32)
frame[1:4, 0] = 1
frame[0:2, 2] = 1
p, on, off = note_runs(frame)
assert (p.tolist(), on.tolist(), off.tolist()) == ([0, 2], [1, 0], [4, 2])
edited = frame.copy()
RollEditor(edited).apply(("shift", 0, 1, 4, 2))  # two frames later: frames 3-5
assert edited[:, 0].tolist() == [0, 0, 0, 1, 1, 1]
edited = frame.copy()
RollEditor(edited).apply(("resize", 2, 0, 2, 1))  # shortened to one frame
assert edited[:, 2].tolist() == [1, 0, 0, 0, 0, 0]
# Every candidate's first-order score equals sum(g * (x_new - x)) of actually applying it.
rng = np.random.default_rng(5)
frame = np.zeros((40, 30), dtype=np.float32)
for _ in range(30):
    q, t = rng.integers(30), rng.integers(35)
    frame[t:t + rng.integers(1, 6), q] = 1
g = rng.normal(size=frame.shape)
editor = RollEditor(frame.copy())
cands = editor.candidates()
scores = editor.scores(g, cands)
for kind in KINDS:
    assert len(cands[kind][0]) > 0, kind
    for i in range(len(cands[kind][0])):
        after = frame.copy()
        RollEditor(after).apply((kind,) + tuple(int(a[i]) for a in cands[kind]))
        assert abs((g * (after - frame)).sum() - scores[kind][i]) < 1e-9, kind
print("training units: ok")
