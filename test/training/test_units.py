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

# The piece vote (train.py piece_vote), hand-worked (same example as test/model/evaluate.test.ts):
# piece P, windows with probabilities (A, B) = (0.001, 0.999), (0.8, 0.2), (0.8, 0.2), logits offset
# per window: mean log-probability A -2.4514, B -1.0733 -> B (a majority vote would say A).
# Piece Q (true B), one window (0.7, 0.3) -> A.
from train import piece_vote  # noqa: E402

logits = np.log(np.array([[0.001, 0.999], [0.7, 0.3], [0.8, 0.2], [0.8, 0.2]])) + np.array([[3], [-5], [10], [0]])
preds, truth = piece_vote(logits, np.array([0, 1, 0, 0]), ["P", "Q", "P", "P"])
assert preds.tolist() == [1, 0] and truth.tolist() == [0, 1]

# Tempo/transposition re-cut (data.py StretchedCropDataset) on a hand-made export of one file:
# two overlapping 8-frame windows (start 0 and 4) of a 12-frame file whose frame t sounds pitch t % 5.
import json  # noqa: E402
import tempfile  # noqa: E402

from data import StretchedCropDataset  # noqa: E402

song = np.zeros((1, 12, 5), dtype=np.uint8)
song[0, np.arange(12), np.arange(12) % 5] = 1
with tempfile.TemporaryDirectory() as tmp:
    np.save(os.path.join(tmp, "train-000.npy"), np.stack([song[:, 0:8], song[:, 4:12]]))
    index = {"input": {"values": "binary"}, "shards": [{"file": "train-000.npy", "split": "train", "count": 2}],
             "items": [{"split": "train", "shard": "train-000.npy", "row": r, "label": 0, "piece": "p",
                        "file": "f.mid", "startFrame": s} for r, s in ((0, 0), (1, 4))]}
    json.dumps(index)
    # No tempo change, shift or transposition: the windows come back as they were.
    ds = StretchedCropDataset(tmp, index, "train", seed=1, max_semitones=0, max_frames=0, max_stretch=1.0)
    assert np.array_equal(ds.rolls["f.mid"], song)
    assert np.array_equal(ds[1][0].numpy(), song[:, 4:12].astype(np.float32))
    # Tempo x1.5 exactly (max_stretch 1.5 and a rate forced by a fixed rng draw): 12 frames read into 8.
    ds = StretchedCropDataset(tmp, index, "train", seed=1, max_semitones=0, max_frames=0, max_stretch=1.5)
    ds.rng = type("R", (), {"uniform": lambda self, a, b: b, "integers": lambda self, a, b: 0})()
    x = ds[0][0].numpy()[0]
    # rate 1.5 -> 12 frames from start 0, nearest frames floor(i * 1.5) = 0 1 3 4 6 7 9 10.
    assert x.argmax(1).tolist() == [t % 5 for t in (0, 1, 3, 4, 6, 7, 9, 10)], x.argmax(1).tolist()
    # Window 1 starts at frame 4, but 12 frames from there overrun the file: the start moves back to 0.
    assert ds[1][0].numpy()[0].argmax(1).tolist() == x.argmax(1).tolist()
print("training units: ok")
