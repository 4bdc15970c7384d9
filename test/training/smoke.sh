#!/usr/bin/env bash
# Trainer smoke test, run by CI from the repository root (about 30 s):
# synthetic MIDI -> corpus export (TypeScript) -> a few PyTorch training steps -> ONNX with metadata ->
# read back by the TypeScript model layer (labels, input spec, explainable layers) -> evaluated by
# `concept-lens model evaluate`, whose test-split confusion matrix must equal the one PyTorch wrote
# into the model card (same windows, same weights, two implementations), and onnxruntime's logits on
# the exported test windows must match PyTorch's.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

"$PY" test/training/test_units.py

# 8 pieces per composer: the size-matched TCAV null of the bottleneck step needs a pool of at least
# a concept (40 examples) and a counterexample set.
./bin/concept-lens corpus synth --pieces 8 --out "$TMP/synth" >/dev/null
./bin/concept-lens corpus export "$TMP/synth" --out "$TMP/export" --seed 1 >/dev/null
"$PY" training/train.py --data "$TMP/export" --out "$TMP/models/smoke.onnx" --seed 1 \
  --epochs 2 --max-steps 3 --batch-size 8 --threads 2 --dump-test-logits "$TMP/torch-logits.json"

test -s "$TMP/models/smoke.onnx" || { echo "smoke: no ONNX written" >&2; exit 1; }
test -s "$TMP/models/smoke.card.json" || { echo "smoke: no model card written" >&2; exit 1; }

./bin/concept-lens model inspect "$TMP/models/smoke.onnx" --json >"$TMP/inspect.json"
./bin/concept-lens model evaluate "$TMP/models/smoke.onnx" --corpus "$TMP/synth" --split test \
  --no-cache --json >"$TMP/evaluate.json"

node --input-type=module - "$TMP" <<'EOF'
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
const dir = process.argv[2];
const read = (f) => JSON.parse(readFileSync(`${dir}/${f}`, 'utf8'));
const inspect = read('inspect.json');
const card = read('models/smoke.card.json');
const evaluation = read('evaluate.json');
const index = read('export/index.json');
const fail = (msg) => { console.error(`smoke: ${msg}`); process.exit(1); };
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

const layers = inspect.layers.map((l) => l.name);
if (!same(inspect.labels, index.labels)) fail(`labels ${JSON.stringify(inspect.labels)} != export ${JSON.stringify(index.labels)}`);
for (const layer of ['conv1', 'layer1', 'layer2', 'layer3', 'layer4', 'avgpool']) {
  if (!layers.includes(layer)) fail(`layer ${layer} missing from model inspect --json (${layers.join(', ')})`);
}
if (!same(card.metrics.test.confusion.labels, index.labels)) fail('card confusion labels differ from the export');
if (evaluation.excerpts !== card.metrics.test.windows) fail(`evaluate saw ${evaluation.excerpts} test windows, the trainer ${card.metrics.test.windows}`);
if (!same(evaluation.confusion, card.metrics.test.confusion.matrix)) {
  fail(`confusion matrices differ: ONNX ${JSON.stringify(evaluation.confusion)} vs PyTorch ${JSON.stringify(card.metrics.test.confusion.matrix)}`);
}

// The piece vote, PyTorch/NumPy (train.py piece_vote) against TypeScript (src/model/evaluate.ts voteByPiece).
if (evaluation.pieces !== card.metrics.test.pieces.pieces) fail(`evaluate saw ${evaluation.pieces} test pieces, the trainer ${card.metrics.test.pieces.pieces}`);
if (!same(evaluation.byPiece.confusion, card.metrics.test.pieces.confusion.matrix)) {
  fail(`piece confusion matrices differ: ONNX ${JSON.stringify(evaluation.byPiece.confusion)} vs PyTorch ${JSON.stringify(card.metrics.test.pieces.confusion.matrix)}`);
}

// The ONNX file (onnxruntime) against PyTorch on the exported test windows: logits, not just argmax.
const torchLogits = read('torch-logits.json');
const session = await ort.InferenceSession.create(`${dir}/models/smoke.onnx`);
const npy = (file) => {
  const bytes = readFileSync(`${dir}/export/${file}`);
  const headerLength = bytes.readUInt16LE(8); // .npy format 1.0: magic (6), version (2), header length (2)
  return bytes.subarray(10 + headerLength);
};
const size = 400 * 88;
const input = new Float32Array(torchLogits.windows.length * size);
torchLogits.windows.forEach((w, i) => {
  const data = npy(w.shard);
  for (let j = 0; j < size; j++) input[i * size + j] = data[w.row * size + j];
});
const out = await session.run({ pianoroll: new ort.Tensor('float32', input, [torchLogits.windows.length, 1, 400, 88]) });
const onnxLogits = out.logits.data;
let maxDiff = 0;
torchLogits.logits.flat().forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - onnxLogits[i]))));
if (onnxLogits.length !== torchLogits.logits.flat().length || !(maxDiff < 1e-4)) fail(`ONNX logits differ from PyTorch's by ${maxDiff}`);
console.log(`smoke: ok (${inspect.labels.length} labels, test accuracy ${card.testAccuracy.toFixed(3)} in PyTorch and ONNX, logits within ${maxDiff.toExponential(1)})`);
EOF

# The robustness study's trainers: adversarial training (note edits in roll space) for two steps, and a
# concept bottleneck on the smoke model, whose test confusion `model evaluate` must reproduce.
"$PY" training/train.py --data "$TMP/export" --out "$TMP/models/adv.onnx" --seed 1 \
  --epochs 1 --max-steps 2 --batch-size 8 --threads 2 --adversarial >/dev/null
"$PY" -c "import json,sys; a=json.load(open(sys.argv[1]))['training']['adversarial']; \
assert a['editsApplied']['random'] > 0 and a['editsApplied']['guided'] > 0, a" "$TMP/models/adv.card.json"
npx tsx scripts/bottleneck-scores.ts --model "$TMP/models/smoke.onnx" --corpus "$TMP/synth" \
  --export "$TMP/export" --concepts concepts/textures/alberti.yaml concepts/textures/canon.yaml \
  concepts/textures/stride.yaml --layers layer4 --runs 3 --set-size 4 --out "$TMP/scores" >/dev/null 2>&1
"$PY" training/bottleneck.py --scores "$TMP/scores" --base "$TMP/models/smoke.onnx" --export "$TMP/export" \
  --out "$TMP/models/bneck.onnx" --C 1 >/dev/null
./bin/concept-lens model evaluate "$TMP/models/bneck.onnx" --corpus "$TMP/synth" --split test \
  --no-cache --json >"$TMP/bneck-evaluate.json"
"$PY" -c "import json,sys; e=json.load(open(sys.argv[1])); c=json.load(open(sys.argv[2])); \
assert e['confusion'] == c['metrics']['test']['confusion']['matrix'], (e['confusion'], c['metrics']['test']); \
print('smoke: adversarial training and concept bottleneck ok')" "$TMP/bneck-evaluate.json" "$TMP/models/bneck.card.json"
