#!/usr/bin/python3
"""PyTorch autograd's side of `npm run bench:autodiff` (bench/autodiff.ts runs it).

Computes d(sum w * logits)/d x for a reference model, where x is either the model input or the
activations at a layer (then only the head after that layer runs, as in concept-lens), in batches,
timing forward + backward, and writes the gradients so the bench can check both sides computed
the same thing.

    /usr/bin/python3 training/bench_autograd.py --model models/asap.onnx --at layer3 \\
        --inputs x.f32 --weights w.f32 --n 64 --shape 64 25 6 --out grad.f32 \\
        [--batch 32] [--threads 1] [--repeat 3]

Prints one JSON line: {"seconds": best of --repeat passes, "rows": n}.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from reference import load_reference  # noqa: E402

HEADS = ["layer1", "layer2", "layer3", "layer4"]


def head_from(model, at):
    """The part of the ResNet after `at` (input, or a layer1..layer4 output)."""
    stages = {
        "input": lambda x: model.maxpool(model.relu(model.bn1(model.conv1(x)))),
    }
    def run(x):
        h = x
        if at == "input":
            h = stages["input"](h)
            start = 0
        else:
            start = HEADS.index(at) + 1
        for name in HEADS[start:]:
            h = getattr(model, name)(h)
        return model.fc(torch.flatten(model.avgpool(h), 1))
    return run


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--at", default="input", choices=["input", *HEADS])
    parser.add_argument("--inputs", required=True)
    parser.add_argument("--weights", required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--shape", type=int, nargs="+", required=True, help="one item's shape")
    parser.add_argument("--out", required=True)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, labels = load_reference(args.model)
    head = head_from(model, args.at)
    x = torch.from_numpy(np.fromfile(args.inputs, dtype="<f4").reshape(args.n, *args.shape))
    w = torch.from_numpy(np.fromfile(args.weights, dtype="<f4").reshape(args.n, len(labels)))
    grads = torch.empty_like(x)

    def one_pass():
        for start in range(0, args.n, args.batch):
            xb = x[start : start + args.batch].clone().requires_grad_(True)
            logits = head(xb)
            (g,) = torch.autograd.grad((logits * w[start : start + args.batch]).sum(), xb)
            grads[start : start + args.batch] = g

    one_pass()  # warm-up
    seconds = float("inf")
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        one_pass()
        seconds = min(seconds, time.perf_counter() - t0)
    grads.numpy().astype("<f4").tofile(args.out)
    print(json.dumps({"seconds": seconds, "rows": args.n}))


if __name__ == "__main__":
    main()
