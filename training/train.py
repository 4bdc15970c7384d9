#!/usr/bin/python3
"""Train a piano-roll composer classifier on a `concept-lens corpus export` folder and export it to ONNX.

    /usr/bin/python3 training/train.py --data /tmp/exp-synth --out models/synthetic.onnx --seed 1

Early stopping on validation balanced accuracy; the best checkpoint is evaluated on the test split,
exported (opset 17, input `pianoroll` [N, C, T, P], output `logits`) with the labels and input spec
as metadata_props, and described by `<name>.card.json` next to the model. See training/README.md.
"""
import argparse
import copy
import hashlib
import json
import os
import sys
import time

import numpy as np
import onnx
import onnx.numpy_helper
import torch
from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix
from torch import nn
from torch.utils.data import DataLoader

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data import RollAugment, StretchedCropDataset, WindowDataset, load_index, split_counts  # noqa: E402
from model import PianoRollResNet, parameter_count  # noqa: E402
from note_edits import guided_edits, random_edits  # noqa: E402

LABELS_KEY = "concept_lens.labels"
INPUT_KEY = "concept_lens.input"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="folder written by `concept-lens corpus export`")
    p.add_argument("--out", required=True, help="ONNX file to write, e.g. models/asap.onnx")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--patience", type=int, default=5, help="epochs without a better validation balanced accuracy")
    p.add_argument("--max-train-windows", type=int, help="seeded random subset of the training windows per run")
    p.add_argument("--epoch-windows", type=int,
                   help="an epoch draws this many training windows at random (default: all of them)")
    p.add_argument("--max-steps", type=int, help="stop each epoch after this many batches (smoke tests)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-augment", action="store_true", help="no pitch or time shifts")
    p.add_argument("--augment", choices=("shift", "stretch"), default="shift",
                   help="shift: the window transposed +-3 semitones and shifted +-50 frames, zero fill (asap-v1); "
                        "stretch: re-cut from the whole file with a tempo change and transposition (data.py)")
    p.add_argument("--max-semitones", type=int, default=6, help="--augment stretch: transposition range")
    p.add_argument("--max-stretch", type=float, default=1.25, help="--augment stretch: tempo factor range [1/x, x]")
    p.add_argument("--max-shift", type=int, default=100, help="--augment stretch: window start moved by up to this many frames")
    m = p.add_argument_group("architecture (training/model.py)")
    m.add_argument("--widths", default="16,32,64,128", help="channels of layer1..layer4")
    m.add_argument("--time-pool", type=int, default=1, help="max-pool this many frames at the input first")
    m.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--label-smoothing", type=float, default=0.0)
    p.add_argument("--init-from", metavar="ONNX",
                   help="warm start: the convolution and fc weights of an exported model of the same widths "
                        "(its batch norms are folded into the convolutions; they restart as identity + bias)")
    p.add_argument("--select", choices=("windows", "pieces"), default="windows",
                   help="early stopping on the validation balanced accuracy of windows or of pieces (the vote)")
    p.add_argument("--max-minutes", type=float,
                   help="stop training after this wall time; the learning rate then follows the clock (warm-up over "
                        "the first 10%%, cosine decay to 0 at the end) instead of the step count, so that the "
                        "schedule ends when the time does whatever share of a shared CPU the run gets")
    p.add_argument("--no-test", action="store_true",
                   help="pilots: no test evaluation and no export; validation figures to <out>.pilot.json")
    p.add_argument("--from-checkpoint", metavar="PT",
                   help="no training: evaluate, export and describe the best state a --no-test run saved "
                        "(<out>.pt), with that run's history; the other arguments must be that run's")
    p.add_argument("--name", help="model name in the card (default: the ONNX file name)")
    p.add_argument("--dump-test-logits", metavar="JSON", help="also write the test windows' logits (cross-checks of the ONNX)")
    a = p.add_argument_group("adversarial training (note edits in roll space, training/note_edits.py)")
    a.add_argument("--adversarial", action="store_true",
                   help="replace part of every batch by note-edited versions (random and gradient-guided)")
    a.add_argument("--adv-fraction", type=float, default=0.5, help="share of each batch replaced by edited windows")
    a.add_argument("--adv-guided", type=float, default=0.5,
                   help="share of the edited windows whose edits the loss gradient chooses (the rest: random edits)")
    a.add_argument("--adv-max-edits", type=int, default=20, help="edits per window: uniform in 1..this")
    a.add_argument("--adv-rounds", type=int, default=2,
                   help="gradient-guided windows: the edits are chosen in this many rounds, the gradient recomputed between")
    return p.parse_args(argv)


def file_sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def seed_everything(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)


def class_weights(labels, classes):
    """Inverse-frequency loss weights, normalised to mean 1, so that every composer counts alike."""
    counts = np.bincount(labels, minlength=classes).astype(np.float64)
    w = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / classes, 0.0)
    return torch.tensor(w / w[counts > 0].mean(), dtype=torch.float32)


@torch.no_grad()
def predict_logits(model, dataset, batch_size=64):
    model.eval()
    logits, truth = [], []
    for x, y in DataLoader(dataset, batch_size=batch_size, shuffle=False):
        logits.append(model(x).numpy())
        truth.append(y.numpy())
    return np.concatenate(logits), np.concatenate(truth)


def predict(model, dataset):
    logits, truth = predict_logits(model, dataset)
    return logits.argmax(1), truth


def piece_vote(logits, truth, pieces):
    """Per piece: the mean log-probability (log-softmax of the logits) over its windows; the vote is
    its argmax. Returns (predictions, truth) with one row per piece, pieces in first-seen order."""
    logp = logits - logits.max(1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
    order = list(dict.fromkeys(pieces))
    rows = {p: [] for p in order}
    for i, p in enumerate(pieces):
        rows[p].append(i)
    preds = np.array([logp[rows[p]].mean(0).argmax() for p in order])
    return preds, np.array([truth[rows[p][0]] for p in order])


def both_metrics(logits, truth, pieces, labels):
    out = metrics(logits.argmax(1), truth, labels)
    pp, pt = piece_vote(logits, truth, pieces)
    out["pieces"] = metrics(pp, pt, labels)
    out["pieces"]["pieces"] = out["pieces"].pop("windows")
    return out


def metrics(preds, truth, labels):
    return {
        "windows": int(len(truth)),
        "accuracy": float(accuracy_score(truth, preds)),
        "balancedAccuracy": float(balanced_accuracy_score(truth, preds)),
        "confusion": {
            "labels": labels,
            "rowsAreTrue": True,
            "matrix": confusion_matrix(truth, preds, labels=list(range(len(labels)))).tolist(),
        },
    }


class NoteEditAdversary:
    """Replaces a share of each training batch by note-edited windows (training/note_edits.py): some
    with random edits, some with edits ranked by the gradient of the loss at the window. The gradient
    is taken with the model in eval mode (batch-norm statistics of the whole training run, no dropout),
    so crafting does not disturb the running statistics; the edited windows then train as usual."""

    def __init__(self, args, seed):
        self.fraction, self.guided, self.max_edits, self.rounds = (
            args.adv_fraction, args.adv_guided, args.adv_max_edits, max(1, args.adv_rounds))
        self.rng = np.random.default_rng(seed + 7919)
        self.edits = {"random": 0, "guided": 0}

    def __call__(self, model, x, y):
        n = len(y)
        count = int(round(self.fraction * n))
        if count == 0:
            return x
        chosen = self.rng.choice(n, count, replace=False)
        guided = chosen[: int(round(self.guided * count))]
        rand = chosen[len(guided):]
        x = x.clone()
        for i in rand:
            frame = x[i, 0].numpy()  # a view: edited in place
            self.edits["random"] += len(random_edits(frame, int(self.rng.integers(1, self.max_edits + 1)), self.rng))
        if len(guided):
            budgets = self.rng.integers(1, self.max_edits + 1, len(guided))
            was_training = model.training
            model.eval()
            for r in range(self.rounds):
                # Edits for this round: an even share of each window's budget.
                share = [int(b * (r + 1) // self.rounds - b * r // self.rounds) for b in budgets]
                xs = x[guided].clone().requires_grad_(True)
                loss = nn.functional.cross_entropy(model(xs), y[guided], reduction="sum")
                (grad,) = torch.autograd.grad(loss, xs)
                for j, i in enumerate(guided):
                    if share[j] > 0:
                        frame = x[i, 0].numpy()
                        self.edits["guided"] += len(guided_edits(frame, grad[j, 0].numpy(), share[j]))
            model.train(was_training)
        return x


class ClockSchedule:
    """One-cycle-like learning rate driven by the fraction of a wall-time budget spent."""

    def __init__(self, optimizer, lr, start, seconds, warmup=0.1):
        self.optimizer, self.lr, self.start, self.seconds, self.warmup = optimizer, lr, start, seconds, warmup
        self.step()

    def step(self):
        f = min(1.0, (time.time() - self.start) / self.seconds)
        if f < self.warmup:
            lr = self.lr * (0.04 + 0.96 * f / self.warmup)
        else:
            lr = self.lr * 0.5 * (1 + np.cos(np.pi * (f - self.warmup) / (1 - self.warmup)))
        for g in self.optimizer.param_groups:
            g["lr"] = lr


def init_from_onnx(model, path):
    """Copy an exported PianoRollResNet's weights into `model` (same widths, any time_pool).

    The export folds each batch norm into the convolution before it, so every convolution comes as
    (weight, bias) initializers in module order (stem; per block: 1x1 downsample if any, conv1, conv2),
    then fc. The batch norms restart as identity plus the folded bias (mean 0, variance 1 - eps)."""
    proto = onnx.load(path)
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}
    convs = []
    for node in proto.graph.node:
        if node.op_type == "Conv":
            convs.append((inits[node.input[1]], inits[node.input[2]]))
    pairs = [(model.conv1, model.bn1)]
    for layer in (model.layer1, model.layer2, model.layer3, model.layer4):
        for block in layer:
            if block.downsample is not None:
                pairs.append((block.downsample[0], block.downsample[1]))
            pairs += [(block.conv1, block.bn1), (block.conv2, block.bn2)]
    # Graph order computes a block's conv1 before its downsample; match by shape within each block.
    if len(convs) != len(pairs):
        raise SystemExit(f"{path}: {len(convs)} convolutions, the model has {len(pairs)}")
    remaining = list(convs)
    with torch.no_grad():
        for conv, bn in pairs:
            j = next(i for i, (w, _) in enumerate(remaining) if tuple(w.shape) == tuple(conv.weight.shape))
            w, b = remaining.pop(j)
            conv.weight.copy_(torch.from_numpy(w))
            bn.weight.fill_(1.0)
            bn.bias.copy_(torch.from_numpy(b))
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0 - bn.eps)
        model.fc.weight.copy_(torch.from_numpy(inits["fc.weight"]))
        model.fc.bias.copy_(torch.from_numpy(inits["fc.bias"]))


def train_epoch(model, loader, loss_fn, optimizer, scheduler, max_steps=None, adversary=None, deadline=None):
    model.train()
    total, n = 0.0, 0
    for step, (x, y) in enumerate(loader):
        if max_steps is not None and step >= max_steps:
            break
        if deadline is not None and time.time() > deadline:
            break
        if adversary is not None:
            x = adversary(model, x, y)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        scheduler.step()
        total += float(loss) * len(y)
        n += len(y)
    return total / max(n, 1)


def export_onnx(model, path, input_spec, labels):
    """Opset 17, dynamic batch, then the concept_lens.* metadata_props that make the model self-describing."""
    model.eval()
    c, t = len(input_spec["channels"]), input_spec["windowFrames"]
    p = input_spec["highPitch"] - input_spec["lowPitch"] + 1
    dummy = torch.zeros(1, c, t, p)
    tmp = path + ".tmp"
    torch.onnx.export(
        model,
        dummy,
        tmp,
        opset_version=17,
        input_names=["pianoroll"],
        output_names=["logits"],
        dynamic_axes={"pianoroll": {0: "batch"}, "logits": {0: "batch"}},
        do_constant_folding=True,
    )
    proto = onnx.load(tmp)
    for key, value in ((LABELS_KEY, labels), (INPUT_KEY, input_spec)):
        prop = proto.metadata_props.add()
        prop.key, prop.value = key, json.dumps(value)
    onnx.checker.check_model(proto)
    onnx.save(proto, tmp)
    os.replace(tmp, path)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    index = load_index(args.data)
    labels, spec = index["labels"], index["input"]
    name = args.name or os.path.splitext(os.path.basename(args.out))[0]

    if args.adversarial and (list(spec["channels"]) != ["frame"] or spec["values"] != "binary"):
        raise SystemExit(f"--adversarial edits binary 'frame' rolls; this export has {spec['channels']} {spec['values']}")
    adversary = NoteEditAdversary(args, args.seed) if args.adversarial else None
    if args.augment == "stretch" and not args.no_augment and not args.from_checkpoint:
        train = StretchedCropDataset(args.data, index, "train", args.seed, args.max_semitones, args.max_shift,
                                     args.max_stretch)
    else:
        augment = None if args.no_augment else RollAugment(args.seed)
        train = WindowDataset(args.data, index, "train", augment, args.max_train_windows, args.seed)
    val = WindowDataset(args.data, index, "validation")
    test = WindowDataset(args.data, index, "test")
    print(f"windows: train {len(train)}, validation {len(val)}, test {len(test)}; labels {labels}", flush=True)

    widths = tuple(int(w) for w in args.widths.split(","))
    model = PianoRollResNet(len(labels), in_channels=len(spec["channels"]), widths=widths, dropout=args.dropout,
                            time_pool=args.time_pool)
    if args.init_from:
        init_from_onnx(model, args.init_from)
    val_pieces = [it["piece"] for it in val.items]
    test_pieces = [it["piece"] for it in test.items]
    select = "balancedAccuracy" if args.select == "windows" else "pieceBalancedAccuracy"
    generator = torch.Generator().manual_seed(args.seed)
    if args.epoch_windows is not None:
        sampler = torch.utils.data.RandomSampler(train, replacement=False, num_samples=args.epoch_windows,
                                                 generator=generator)
        loader = DataLoader(train, batch_size=args.batch_size, sampler=sampler, drop_last=True)
    else:
        loader = DataLoader(train, batch_size=args.batch_size, shuffle=True, drop_last=True, generator=generator)
    steps_per_epoch = len(loader) if args.max_steps is None else min(len(loader), args.max_steps)
    loss_fn = nn.CrossEntropyLoss(weight=class_weights(train.labels, len(labels)), label_smoothing=args.label_smoothing)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    # Short warm-up then cosine decay over the planned epochs; early stopping may end it sooner.
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, args.lr, total_steps=max(1, args.epochs * steps_per_epoch),
                                                    pct_start=0.15)

    start = time.time()
    deadline = None if args.max_minutes is None else start + 60 * args.max_minutes
    if deadline is not None:
        scheduler = ClockSchedule(optimizer, args.lr, start, 60 * args.max_minutes)
    best, best_state, best_epoch, epochs_run, history = -1.0, None, 0, 0, []
    if args.from_checkpoint:
        saved = torch.load(args.from_checkpoint)
        best_state, best_epoch, epochs_run, history = saved["state"], saved["bestEpoch"], saved["epochsRun"], saved["history"]
        start -= saved["seconds"]
    for epoch in range(1, 0 if args.from_checkpoint else args.epochs + 1):
        t0 = time.time()
        loss = train_epoch(model, loader, loss_fn, optimizer, scheduler, args.max_steps, adversary, deadline)
        v = both_metrics(*predict_logits(model, val), val_pieces, labels)
        v["pieceBalancedAccuracy"] = v["pieces"]["balancedAccuracy"]
        epochs_run = epoch
        history.append({"epoch": epoch, "loss": loss, "valAccuracy": v["accuracy"],
                        "valBalancedAccuracy": v["balancedAccuracy"],
                        "valPieceAccuracy": v["pieces"]["accuracy"],
                        "valPieceBalancedAccuracy": v["pieceBalancedAccuracy"],
                        "seconds": round(time.time() - t0, 1)})
        print(f"epoch {epoch}: loss {loss:.4f}, validation accuracy {v['accuracy']:.4f}, "
              f"balanced {v['balancedAccuracy']:.4f}; pieces {v['pieces']['accuracy']:.4f}, "
              f"balanced {v['pieceBalancedAccuracy']:.4f} ({time.time() - t0:.0f} s)", flush=True)
        if v[select] > best:
            best, best_state, best_epoch = v[select], copy.deepcopy(model.state_dict()), epoch
        elif epoch - best_epoch >= args.patience:
            print(f"early stop: no better validation balanced accuracy since epoch {best_epoch}", flush=True)
            break
        if deadline is not None and time.time() > deadline:
            print(f"time budget of {args.max_minutes} minutes spent", flush=True)
            break
    train_seconds = saved["seconds"] if args.from_checkpoint else time.time() - start

    model.load_state_dict(best_state)
    # A checkpoint's validation figures were computed by its run, on the same windows and weights.
    if args.from_checkpoint:
        val_metrics = saved.get("validation")
        if val_metrics is None:  # checkpoints from before "validation" was saved: the run's pilot.json
            with open(args.from_checkpoint[: -len(".pt")] + ".pilot.json", encoding="utf-8") as f:
                val_metrics = json.load(f)["validation"]
    else:
        val_metrics = both_metrics(*predict_logits(model, val), val_pieces, labels)
    print(f"best epoch {best_epoch}: validation balanced {val_metrics['balancedAccuracy']:.4f}, pieces "
          f"{val_metrics['pieces']['balancedAccuracy']:.4f}", flush=True)
    if args.no_test:
        # A pilot: the validation figures and history only; the test split stays unseen.
        torch.save({"state": best_state, "bestEpoch": best_epoch, "epochsRun": epochs_run, "history": history,
                    "seconds": round(train_seconds, 1), "argv": sys.argv[1:], "validation": val_metrics},
                   args.out + ".pt")
        with open(args.out + ".pilot.json", "w", encoding="utf-8") as f:
            json.dump({"args": vars(args), "bestEpoch": best_epoch, "validation": val_metrics, "history": history,
                       "seconds": round(train_seconds, 1), "parameters": parameter_count(model)}, f, indent=1)
        return
    test_logits, test_truth = predict_logits(model, test)
    test_metrics = both_metrics(test_logits, test_truth, test_pieces, labels)
    if True:
        print(f"best epoch {best_epoch}: test accuracy {test_metrics['accuracy']:.4f}, "
              f"balanced {test_metrics['balancedAccuracy']:.4f}; pieces {test_metrics['pieces']['accuracy']:.4f}, "
              f"balanced {test_metrics['pieces']['balancedAccuracy']:.4f}", flush=True)

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    export_onnx(model, args.out, spec, labels)
    if args.dump_test_logits:
        rows = [{"shard": it["shard"], "row": it["row"]} for it in test.items]
        with open(args.dump_test_logits, "w", encoding="utf-8") as f:
            json.dump({"windows": rows, "logits": test_logits.tolist()}, f)
    corpus = index["corpus"]
    card = {
        "name": name,
        "model": os.path.basename(args.out),
        "architecture": f"ResNet, BasicBlocks, widths {'-'.join(map(str, widths))}, one block per stage"
                        + (f", max over {args.time_pool} frames at the input" if args.time_pool > 1 else "")
                        + " (training/model.py)",
        "labels": labels,
        "input": spec,
        "testAccuracy": test_metrics["accuracy"],
        "testBalancedAccuracy": test_metrics["balancedAccuracy"],
        "testPieceAccuracy": test_metrics["pieces"]["accuracy"],
        "testPieceBalancedAccuracy": test_metrics["pieces"]["balancedAccuracy"],
        "data": f"{corpus.get('name')} ({corpus.get('license')}), {corpus.get('source')}",
        "corpus": corpus,
        # Identifies the exact windows trained on: a regenerated or edited corpus exports differently.
        "exportIndexSha256": file_sha256(os.path.join(args.data, "index.json")),
        "split": {
            "seed": index["split"]["seed"],
            "method": "per piece, per composer 70/15/15 (src/corpus/split.ts); train windows hop "
            f"{index['split']['trainHopFrames']} frames, validation/test hop {index['split']['evalHopFrames']} "
            "with the last window shifted to the file end",
            "counts": split_counts(index, labels),
        },
        "metrics": {"validation": val_metrics, "test": test_metrics},
        "training": {
            "epochsRun": epochs_run,
            "bestEpoch": best_epoch,
            "seconds": round(train_seconds, 1),
            "trainWindowsUsed": len(train),
            "maxStepsPerEpoch": args.max_steps,
            "history": history,
            "hyperparameters": {k: getattr(args, k) for k in
                                ("seed", "epochs", "batch_size", "lr", "weight_decay", "patience",
                                 "max_train_windows", "epoch_windows", "threads", "no_augment", "augment", "max_semitones",
                                 "max_stretch", "max_shift", "widths", "time_pool", "dropout",
                                 "label_smoothing", "select", "max_minutes", "init_from")},
            "schedule": "AdamW; learning rate warm-up over 10% then cosine decay, "
                        + ("by wall time (--max-minutes)" if args.max_minutes else "by step (OneCycleLR)"),
            "augmentation": None if args.no_augment else (
                "pitch shift +-3 semitones, time shift +-50 frames, zero fill" if args.augment == "shift" else
                f"re-cut from the whole file: start moved +-{args.max_shift} frames, tempo factor log-uniform in "
                f"[1/{args.max_stretch}, {args.max_stretch}] (nearest-frame resampling), transposition "
                f"+-{args.max_semitones} semitones (zero fill)"),
            "selection": f"best epoch by validation balanced accuracy of {args.select}",
            "classBalancing": "inverse-frequency cross-entropy weights",
            "adversarial": None if adversary is None else {
                "method": "a share of every batch replaced by note-edited windows (training/note_edits.py): "
                          "delete, add on the onset grid, shift by 1-2 frames, lengthen/shorten, octave; "
                          "random edits or edits ranked by the loss gradient (first-order gain), "
                          "chosen in rounds with the gradient recomputed, model in eval mode while crafting",
                "fraction": args.adv_fraction,
                "guidedShare": args.adv_guided,
                "maxEdits": args.adv_max_edits,
                "rounds": args.adv_rounds,
                "editsApplied": adversary.edits,
            },
        },
        "parameters": parameter_count(model),
        "torchVersion": torch.__version__,
        "command": " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:]) if argv is None else " ".join(argv),
        "trainingCommand": None if not args.from_checkpoint else " ".join(["training/train.py"] + saved["argv"]),
    }
    card_path = os.path.splitext(args.out)[0] + ".card.json"
    with open(card_path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    os.replace(card_path + ".tmp", card_path)
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 1e6:.2f} MB) and {card_path}", flush=True)


if __name__ == "__main__":
    main()
