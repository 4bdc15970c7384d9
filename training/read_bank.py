"""Read a concept-lens concept bank with NumPy (the README's "Concept banks" section).

    /usr/bin/python3 training/read_bank.py BANK                      # summary as JSON
    /usr/bin/python3 training/read_bank.py BANK --activations A.npy --concept NAME --layer LAYER
        # presence of each row of A (float32 [n, size]: activations at LAYER) for the concept

Independent of the TypeScript code: it re-derives each concept's mean direction from the runs'
CAVs and computes presence (the mid-rank percentile of a projection among the reference
projections) with NumPy, so the test suite can check the two implementations against each other.
"""

import argparse
import json
import os

import numpy as np


def load_bank(folder):
    with open(os.path.join(folder, "bank.json"), encoding="utf-8") as f:
        bank = json.load(f)
    assert bank["format"] in ("concept-lens-bank/1", "concept-lens-bank/2"), bank["format"]
    for concept in bank["concepts"]:
        for layer in concept["layers"]:
            for key in ("cavs", "direction", "reference", "examples"):
                layer[key + "_array"] = np.load(os.path.join(folder, layer[key]))
    return bank


def mean_direction(cavs):
    """Unit mean of the unit CAVs (zero rows left out)."""
    rows = cavs.astype(np.float64)
    norms = np.linalg.norm(rows, axis=1)
    rows = rows[norms > 0] / norms[norms > 0, None]
    mean = rows.sum(axis=0)
    return mean / np.linalg.norm(mean)


def presence(reference, projections):
    """Share of references below each projection, ties counting half."""
    below = np.searchsorted(reference, projections, side="left")
    upto = np.searchsorted(reference, projections, side="right")
    return (below + (upto - below) / 2) / len(reference)


def summary(bank):
    out = {"model": bank["model"]["sha256"], "labels": bank["model"]["labels"], "concepts": []}
    for concept in bank["concepts"]:
        for layer in concept["layers"]:
            cavs = layer["cavs_array"]
            direction = layer["direction_array"]
            reference = layer["reference_array"]
            out["concepts"].append(
                {
                    "concept": concept["name"],
                    "layer": layer["layer"],
                    "cavs": [list(cavs.shape), str(cavs.dtype)],
                    "direction": [list(direction.shape), str(direction.dtype)],
                    "reference": [list(reference.shape), str(reference.dtype)],
                    "referenceSorted": bool(np.all(np.diff(reference) >= 0)),
                    "directionError": float(np.abs(mean_direction(cavs) - direction).max()),
                    "examplesMedianPresence": float(
                        np.median(presence(reference, layer["examples_array"]))
                    ),
                }
            )
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("bank")
    parser.add_argument("--activations")
    parser.add_argument("--concept")
    parser.add_argument("--layer")
    args = parser.parse_args()
    bank = load_bank(args.bank)
    if not args.activations:
        print(json.dumps(summary(bank)))
        return
    acts = np.load(args.activations).astype(np.float64)
    for concept in bank["concepts"]:
        for layer in concept["layers"]:
            if concept["name"] == args.concept and layer["layer"] == args.layer:
                projections = acts @ layer["direction_array"].astype(np.float64)
                values = presence(layer["reference_array"], projections)
                print(json.dumps({"projection": projections.tolist(), "presence": values.tolist()}))
                return
    raise SystemExit(f"no concept {args.concept} at layer {args.layer}")


if __name__ == "__main__":
    main()
