"""Read a `concept-lens corpus export` folder (format concept-lens-windows/1) as torch Datasets.

The TypeScript side owns MIDI reading and rendering; this module only maps its uint8 shards
[N, C, T, P] (memory-mapped) to float tensors, so training sees exactly the windows that
`concept-lens model evaluate` feeds the ONNX model.
"""
import json
import os
from collections import Counter, defaultdict

import numpy as np
import torch
from torch.utils.data import Dataset

FORMAT = "concept-lens-windows/1"
SPLITS = ("train", "validation", "test")


def load_index(folder):
    with open(os.path.join(folder, "index.json"), encoding="utf-8") as f:
        index = json.load(f)
    if index.get("format") != FORMAT:
        raise SystemExit(f"{folder}/index.json: format {index.get('format')!r}, expected {FORMAT!r}")
    return index


class WindowDataset(Dataset):
    """The windows of one split. Values are scaled to [0, 1] (velocity rolls store 0..127)."""

    def __init__(self, folder, index, split, augment=None, max_windows=None, seed=0):
        self.items = [it for it in index["items"] if it["split"] == split]
        if max_windows is not None and len(self.items) > max_windows:
            # A seeded subset that keeps the items' order (shards are read in runs).
            keep = np.sort(np.random.default_rng(seed).choice(len(self.items), max_windows, replace=False))
            self.items = [self.items[i] for i in keep]
        self.shards = {
            s["file"]: np.load(os.path.join(folder, s["file"]), mmap_mode="r")
            for s in index["shards"]
            if s["split"] == split
        }
        self.scale = 127.0 if index["input"]["values"] == "velocity" else 1.0
        self.labels = np.array([it["label"] for it in self.items], dtype=np.int64)
        self.augment = augment

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        it = self.items[i]
        x = np.asarray(self.shards[it["shard"]][it["row"]], dtype=np.float32) / self.scale
        if self.augment is not None:
            x = self.augment(x)
        return torch.from_numpy(np.ascontiguousarray(x)), int(self.labels[i])


def shift_zero_fill(x, shift, axis):
    """Shift `x` by `shift` steps along `axis`, filling the vacated cells with zeros (no wrap-around)."""
    if shift == 0:
        return x
    out = np.zeros_like(x)
    n = x.shape[axis]
    src = [slice(None)] * x.ndim
    dst = [slice(None)] * x.ndim
    if shift > 0:
        src[axis], dst[axis] = slice(0, n - shift), slice(shift, n)
    else:
        src[axis], dst[axis] = slice(-shift, n), slice(0, n + shift)
    out[tuple(dst)] = x[tuple(src)]
    return out


class RollAugment:
    """Random transposition (+-max_semitones, pitch axis) and time shift (+-max_frames) of a [C, T, P] window."""

    def __init__(self, seed, max_semitones=3, max_frames=50):
        self.rng = np.random.default_rng(seed)
        self.max_semitones = max_semitones
        self.max_frames = max_frames

    def __call__(self, x):
        x = shift_zero_fill(x, int(self.rng.integers(-self.max_semitones, self.max_semitones + 1)), axis=2)
        return shift_zero_fill(x, int(self.rng.integers(-self.max_frames, self.max_frames + 1)), axis=1)


def split_counts(index, labels):
    """Per split and composer: distinct pieces and windows."""
    out = {}
    for split in SPLITS:
        items = [it for it in index["items"] if it["split"] == split]
        windows = Counter(it["composer"] for it in items)
        pieces = defaultdict(set)
        for it in items:
            pieces[it["composer"]].add(it["piece"])
        out[split] = {c: {"pieces": len(pieces[c]), "windows": windows[c]} for c in labels}
    return out


class StretchedCropDataset(Dataset):
    """Training windows re-cut from whole files, with tempo and transposition augmentation.

    The export holds overlapping training windows (hop 200 of 400 frames); stitched back by their
    `startFrame` they give each file's roll. Every draw takes the item's window start, moves it by up
    to +-max_frames, reads `round(T * rate)` frames from there (rate log-uniform in
    [1/max_stretch, max_stretch]: a faster or slower performance of the same notes) and resamples
    them to T frames by nearest frame, then transposes by up to +-max_semitones (zero fill at the
    keyboard's ends). Reading from the file rather than the window keeps real music, not silence,
    where a shift or speed-up needs frames beyond the window. The rolls are held in memory (uint8).
    """

    def __init__(self, folder, index, split, seed=0, max_semitones=6, max_frames=100, max_stretch=1.25):
        items = [it for it in index["items"] if it["split"] == split]
        shards = {s["file"]: np.load(os.path.join(folder, s["file"]), mmap_mode="r")
                  for s in index["shards"] if s["split"] == split}
        first = shards[items[0]["shard"]][items[0]["row"]]
        self.channels, self.frames, self.pitches = first.shape
        ends = defaultdict(int)
        for it in items:
            ends[it["file"]] = max(ends[it["file"]], it["startFrame"] + self.frames)
        self.rolls = {f: np.zeros((self.channels, n, self.pitches), dtype=np.uint8) for f, n in ends.items()}
        for it in items:
            s = it["startFrame"]
            self.rolls[it["file"]][:, s:s + self.frames] = shards[it["shard"]][it["row"]]
        self.items = items
        self.labels = np.array([it["label"] for it in items], dtype=np.int64)
        self.scale = 127.0 if index["input"]["values"] == "velocity" else 1.0
        self.rng = np.random.default_rng(seed)
        self.max_semitones, self.max_frames, self.max_stretch = max_semitones, max_frames, max_stretch

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        it = self.items[i]
        roll = self.rolls[it["file"]]
        n, T = roll.shape[1], self.frames
        rate = float(np.exp(self.rng.uniform(-np.log(self.max_stretch), np.log(self.max_stretch))))
        length = min(n, max(1, int(round(T * rate))))
        start = it["startFrame"] + int(self.rng.integers(-self.max_frames, self.max_frames + 1))
        start = int(np.clip(start, 0, n - length))
        idx = start + np.floor(np.arange(T) * (length / T)).astype(np.int64)
        x = roll[:, np.minimum(idx, n - 1)].astype(np.float32) / self.scale
        x = shift_zero_fill(x, int(self.rng.integers(-self.max_semitones, self.max_semitones + 1)), axis=2)
        return torch.from_numpy(np.ascontiguousarray(x)), int(self.labels[i])
