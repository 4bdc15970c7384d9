import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ComposerClassifier } from '../../src/model/classifier.ts';
import { decodeModel, encodeModel, floatValueInfo } from '../../src/model/onnx.ts';
import { Rng } from '../../src/util/random.ts';
import { runMain, tempDir } from '../helpers/cli.ts';
import { SYNTHETIC_MODEL } from '../synthetic/helpers.ts';

/**
 * A model that also returns a feature map, listed before its logits (src/model/output.ts,
 * chooseClassifierOutput): made here from the synthetic model by adding the output of layer3's
 * downsampling conv ([64, 25, 6] per input) as the graph's first output. Declared with its shape,
 * the logits output is found and the model gives exactly the synthetic model's logits; undeclared,
 * the model is refused in one line that names the output to put first.
 */
const tmp = tempDir('cl-output-choice-');
const MAP = '/layer3/layer3.0/downsample/downsample.0/Conv_output_0';

function withFirstOutput(declared: boolean): string {
  const model = decodeModel(readFileSync(SYNTHETIC_MODEL));
  const extra = declared ? floatValueInfo(MAP, [64, 25, 6]) : { name: MAP };
  model.graph!.output!.unshift(extra);
  const path = join(tmp, declared ? 'declared.onnx' : 'undeclared.onnx');
  writeFileSync(path, encodeModel(model));
  return path;
}

describe('a model with more than one output', () => {
  it('is read through the output declared [batch, labels], with the logits of the model alone', async () => {
    const twin = await ComposerClassifier.load(withFirstOutput(true));
    const plain = await ComposerClassifier.load(SYNTHETIC_MODEL);
    try {
      const rng = new Rng('output-choice');
      const n = 3;
      const batch = Float32Array.from({ length: n * plain.inputSize }, () =>
        rng.next() < 0.05 ? 1 : 0,
      );
      const a = await twin.run(batch, n);
      const b = await plain.run(batch, n);
      expect(a.logits.length).toBe(n * 5);
      expect([...a.logits]).toEqual([...b.logits]);
    } finally {
      await twin.release();
      await plain.release();
    }
  });

  it('is refused in one line naming the output to put first when the first is undeclared', async () => {
    const run = await runMain(['model', 'inspect', withFirstOutput(false)]);
    expect(run.code).toBe(2);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(
      /first output ".*Conv_output_0" gives \[64,25,6\] per input but the model has 5 labels .*its output "logits" gives 5 values: make it the model's first output/,
    );
  });
});
