#!/usr/bin/python3
"""A concept-bottleneck composer classifier: the composer predicted by a linear model from the scores
of named concepts, exported as one ONNX model concept-lens can load, explain and attack.

    npx tsx scripts/bottleneck-scores.ts ... --out <scores>     # CAVs and concept scores (TypeScript)
    /usr/bin/python3 training/bottleneck.py --scores <scores> --base models/asap.onnx \\
        --export <corpus export> --out models/asap-bottleneck.onnx --name asap-bottleneck

The model: the body of the base classifier up to a layer (its weights unchanged), the projection of
the layer's activation on each concept's CAV (one number per named concept: how present the concept
is), and a multinomial logistic regression from those numbers to the composers, fitted here on the
training split's windows (scikit-learn; class-balanced; the layer and the L2 strength chosen by
validation balanced accuracy). The whole decision is a weighted sum of named concept scores: the card
lists every weight. Standardisation of the scores is folded into the last layer's weights, so the
graph's `concepts` output is the raw projection that `concept-lens attack` reports as presence.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data import load_index, split_counts  # noqa: E402
from train import file_sha256  # noqa: E402

LABELS_KEY = "concept_lens.labels"
INPUT_KEY = "concept_lens.input"
CONCEPTS_KEY = "concept_lens.concepts"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--scores", required=True, help="folder written by scripts/bottleneck-scores.ts")
    p.add_argument("--base", required=True, help="the classifier whose body and CAVs are used")
    p.add_argument("--export", required=True, help="the corpus export the scores were computed on")
    p.add_argument("--out", required=True)
    p.add_argument("--name")
    p.add_argument("--layers", nargs="*", help="candidate layers (default: all in the scores folder)")
    p.add_argument("--C", type=float, nargs="*", default=[0.001, 0.01, 0.1, 1.0, 10.0, 100.0],
                   help="candidate inverse L2 strengths")
    return p.parse_args(argv)


def metrics(preds, truth, labels):
    return {
        "windows": int(len(truth)),
        "accuracy": float(accuracy_score(truth, preds)),
        "balancedAccuracy": float(balanced_accuracy_score(truth, preds)),
        "confusion": {"labels": labels, "rowsAreTrue": True,
                      "matrix": confusion_matrix(truth, preds, labels=list(range(len(labels)))).tolist()},
    }


def fit(x, y, C):
    model = LogisticRegression(C=C, class_weight="balanced", max_iter=5000)
    return model.fit(x, y)


def build_onnx(base_path, tensor, directions, weight, bias, labels, spec, concepts, out):
    """Body of `base_path` up to `tensor`, then concepts = flatten(x) @ directions.T, logits = Gemm."""
    base = onnx.load(base_path)
    input_name = base.graph.input[0].name
    body = onnx.utils.Extractor(base).extract_model([input_name], [tensor])
    g = body.graph
    del g.output[:]
    K, D = directions.shape
    g.initializer.extend([
        numpy_helper.from_array(directions.T.astype(np.float32), "concepts.weight"),
        numpy_helper.from_array(weight.astype(np.float32), "fc.weight"),
        numpy_helper.from_array(bias.astype(np.float32), "fc.bias"),
    ])
    # Node names carry module scopes, as PyTorch exports do: concept-lens offers `concepts` as a layer.
    g.node.extend([
        helper.make_node("Flatten", [tensor], ["/concepts/Flatten_output_0"], name="/concepts/Flatten", axis=1),
        helper.make_node("MatMul", ["/concepts/Flatten_output_0", "concepts.weight"], ["/concepts/MatMul_output_0"],
                         name="/concepts/MatMul"),
        helper.make_node("Gemm", ["/concepts/MatMul_output_0", "fc.weight", "fc.bias"], ["logits"], name="/fc/Gemm",
                         transB=1),
    ])
    g.output.extend([helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", len(labels)])])
    g.name = "concept_bottleneck"
    del body.metadata_props[:]
    for key, value in ((LABELS_KEY, labels), (INPUT_KEY, spec), (CONCEPTS_KEY, concepts)):
        prop = body.metadata_props.add()
        prop.key, prop.value = key, json.dumps(value)
    onnx.checker.check_model(body)
    tmp = out + ".tmp"
    onnx.save(body, tmp)
    os.replace(tmp, out)


def main(argv=None):
    args = parse_args(argv)
    t0 = time.time()
    cavs = json.load(open(os.path.join(args.scores, "cavs.json"), encoding="utf-8"))
    meta = json.load(open(os.path.join(args.scores, "scores.json"), encoding="utf-8"))
    index = load_index(args.export)
    labels, spec = index["labels"], index["input"]
    if meta["labels"] != labels or len(meta["items"]) != len(index["items"]):
        raise SystemExit(f"{args.scores}: scores were computed on another export than {args.export}")
    concepts = cavs["concepts"]
    K = len(concepts)
    split = np.array([it["split"] for it in meta["items"]])
    y = np.array([it["label"] for it in meta["items"]])
    layers = [l for l in cavs["layers"] if not args.layers or l["name"] in args.layers]

    trials, best = [], None
    for layer in layers:
        scores = np.fromfile(os.path.join(args.scores, f"scores-{layer['name']}.f32"), dtype="<f4").reshape(-1, K)
        tr, va = split == "train", split == "validation"
        mean, std = scores[tr].mean(0), scores[tr].std(0) + 1e-12
        z = (scores - mean) / std
        for C in args.C:
            m = fit(z[tr], y[tr], C)
            val = balanced_accuracy_score(y[va], m.predict(z[va]))
            trials.append({"layer": layer["name"], "C": C, "valBalancedAccuracy": float(val)})
            print(f"{layer['name']} C={C}: validation balanced accuracy {val:.4f}", flush=True)
            if best is None or val > best[0]:
                best = (val, layer, C, m, mean, std, scores)
    _, layer, C, model, mean, std, scores = best
    z = (scores - mean) / std
    preds = model.predict(z)
    val_metrics = metrics(preds[split == "validation"], y[split == "validation"], labels)
    test_metrics = metrics(preds[split == "test"], y[split == "test"], labels)
    print(f"chosen: {layer['name']}, C={C}; test accuracy {test_metrics['accuracy']:.4f}, "
          f"balanced {test_metrics['balancedAccuracy']:.4f}", flush=True)

    # logits = ((s - mean) / std) @ coef.T + b  =  s @ (coef / std).T + (b - coef @ (mean / std))
    coef, intercept = model.coef_, model.intercept_
    weight = coef / std
    bias = intercept - coef @ (mean / std)
    D = int(np.prod(layer["shape"]))
    directions = np.fromfile(os.path.join(args.scores, f"cavs-{layer['name']}.f32"), dtype="<f4").reshape(K, D)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    build_onnx(args.base, layer["tensor"], directions, weight, bias, labels, spec, concepts, args.out)

    name = args.name or os.path.splitext(os.path.basename(args.out))[0]
    corpus = index["corpus"]
    card = {
        "name": name,
        "model": os.path.basename(args.out),
        "architecture": (f"concept bottleneck: the body of {os.path.basename(args.base)} up to {layer['name']} "
                         f"(weights unchanged), the projection of its activation on {K} concept CAVs, and a "
                         "multinomial logistic regression from the concept scores to the composers "
                         "(scripts/bottleneck-scores.ts, training/bottleneck.py)"),
        "labels": labels,
        "input": spec,
        "testAccuracy": test_metrics["accuracy"],
        "testBalancedAccuracy": test_metrics["balancedAccuracy"],
        "data": f"{corpus.get('name')} ({corpus.get('license')}), {corpus.get('source')}",
        "corpus": corpus,
        "exportIndexSha256": file_sha256(os.path.join(args.export, "index.json")),
        "split": {
            "seed": index["split"]["seed"],
            "method": "the split of the base model's export (per piece, per composer 70/15/15); the linear "
                      "model is fitted on the training windows, the layer and C chosen on validation",
            "counts": split_counts(index, labels),
        },
        "metrics": {"validation": val_metrics, "test": test_metrics},
        "base": {"model": os.path.basename(args.base), "sha256": file_sha256(args.base), "layer": layer["name"],
                 "tensor": layer["tensor"]},
        "concepts": [
            {"name": c, "description": cavs["descriptions"].get(c, ""),
             "cavAccuracy": layer["cavAccuracy"].get(c),
             "examplePieces": cavs["examplePieces"].get(c, []),
             "trainMean": float(mean[k]), "trainStd": float(std[k]),
             # The decision, readable: the weight of a one-std rise of the concept in each composer's logit.
             "weights": {lab: float(coef[j, k]) for j, lab in enumerate(labels)}}
            for k, c in enumerate(concepts)
        ],
        "training": {
            "method": "scikit-learn LogisticRegression (lbfgs, multinomial, class_weight=balanced) on the concept "
                      "scores standardised with training means and stds (folded into the ONNX Gemm)",
            "chosen": {"layer": layer["name"], "C": C},
            "trials": trials,
            "cavs": {"runs": cavs["runs"], "seed": cavs["seed"],
                     "direction": "normalised mean of the runs' unit CAVs (TCAV, concept-lens src/tcav)",
                     "randomCounterexamples": cavs["randomCounterexamples"]},
            "seconds": round(time.time() - t0, 1),
        },
        "parameters": int(directions.size + coef.size + intercept.size),
        "sklearnVersion": __import__("sklearn").__version__,
        "command": " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:]) if argv is None else " ".join(argv),
    }
    card_path = os.path.splitext(args.out)[0] + ".card.json"
    with open(card_path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    os.replace(card_path + ".tmp", card_path)
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 1e6:.2f} MB) and {card_path}", flush=True)


if __name__ == "__main__":
    main()
