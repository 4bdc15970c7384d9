import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ComposerClassifier } from '../../src/model/classifier.ts';
import type { RunResults } from '../../src/results/results.ts';
import { runMain, tempDir } from '../helpers/cli.ts';
import { CONCEPTS, CORPUS } from '../foreign/helpers.ts';
import { loadFixture, maxAbsDiff } from './fixtures.ts';

/**
 * Models that give logits, probabilities (Softmax last; or a hand-made softmax declared in a
 * sidecar) or log-probabilities (LogSoftmax last), built with the same weights by
 * training/fixtures/make_output_fixtures.py, which also saved PyTorch autograd's gradients at the
 * layer `features` of the logits, of the log-probabilities and of the probabilities.
 *
 * What must hold (src/model/output.ts): a model with a Softmax or LogSoftmax last is differentiated
 * as the logits under it, i.e. exactly like the same network without it, so its TCAV effects equal
 * the logits model's. A model declared to give probabilities without a Softmax last holds no logits
 * to read; it is differentiated as log-probabilities, which are NOT the logits' derivatives
 * (d log p_c = d logit_c - sum_k p_k d logit_k), and the test tells the three quantities apart.
 */
const DIR = join(import.meta.dirname, '..', 'fixtures', 'outputs');
const model = (name: string) => join(DIR, `${name}.onnx`);
const fixture = loadFixture('outputs.json', DIR);
const scale = (a: Float32Array) => Math.max(...Array.from(a, Math.abs));
const tmp = tempDir('cl-outputs-');

async function gradientsAt(name: string, c: number): Promise<Float32Array> {
  const classifier = await ComposerClassifier.load(model(name));
  try {
    const head = await classifier.head('features');
    expect(head.derivatives).toBe('exact');
    const acts = fixture['layer:features'];
    const n = acts.shape[0];
    return await head.logitGradients(acts.data, n, Array(n).fill(c));
  } finally {
    await classifier.release();
  }
}

describe('model outputs: logits, probabilities, log-probabilities', () => {
  it('model inspect says what each model gives', async () => {
    const expected: Record<string, [string, string]> = {
      cnn_logits: ['logits', 'graph'],
      cnn_softmax: ['probabilities', 'graph'],
      cnn_log_softmax: ['log-probabilities', 'graph'],
      cnn_manual_softmax: ['probabilities', 'declared'],
    };
    for (const [name, [kind, source]] of Object.entries(expected)) {
      const json = await runMain(['model', 'inspect', model(name), '--json']);
      expect(json.code, json.stderr).toBe(0);
      expect(JSON.parse(json.stdout).output).toMatchObject({ kind, source });
      const text = await runMain(['model', 'inspect', model(name)]);
      expect(text.stdout).toMatch(new RegExp(`^gives   ${kind} `, 'm'));
    }
    // The flag overrides the graph.
    const flagged = await runMain([
      'model',
      'inspect',
      model('cnn_softmax'),
      '--output-kind',
      'logits',
      '--json',
    ]);
    expect(JSON.parse(flagged.stdout).output).toMatchObject({ kind: 'logits', source: 'declared' });
  });

  it('a Softmax or LogSoftmax model is differentiated as its logits, a declared one as log-probabilities (autograd)', async () => {
    for (let c = 0; c < 3; c++) {
      const logp = fixture[`grad_logp:${c}`].data;
      const p = fixture[`grad_p:${c}`].data;
      const logits = fixture[`grad_logits:${c}`].data;
      for (const name of ['cnn_logits', 'cnn_softmax', 'cnn_log_softmax']) {
        const g = await gradientsAt(name, c);
        expect(maxAbsDiff(g, logits), `${name} class ${c}`).toBeLessThan(1e-4 * scale(logits));
        // Far from the probability's gradient and from the log-probability's: the test can tell.
        expect(maxAbsDiff(g, p)).toBeGreaterThan(0.05 * scale(logits));
        expect(maxAbsDiff(g, logp)).toBeGreaterThan(0.05 * scale(logits));
      }
      const g = await gradientsAt('cnn_manual_softmax', c);
      expect(maxAbsDiff(g, logp), `cnn_manual_softmax class ${c}`).toBeLessThan(1e-4 * scale(logp));
      expect(maxAbsDiff(g, logits)).toBeGreaterThan(0.05 * scale(logp));
    }
  });

  it('TCAV effects of the Softmax model equal those of the same network without it within 1e-4', async () => {
    const effects: Record<string, RunResults['tcav']> = {};
    for (const name of ['cnn_softmax', 'cnn_logits', 'cnn_manual_softmax']) {
      const out = join(tmp, name);
      const run = await runMain([
        'tcav',
        '--model',
        model(name),
        '--corpus',
        CORPUS,
        '--concepts',
        ...CONCEPTS,
        '--layers',
        'features',
        '--random-runs',
        '3',
        '--set-size',
        '6',
        '--target-excerpts',
        '6',
        '--null-concepts',
        '20',
        '--no-cache',
        '--quiet',
        '--out',
        out,
      ]);
      expect(run.code, run.stderr).toBe(0);
      effects[name] = (
        JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as RunResults
      ).tcav;
    }
    const soft = effects.cnn_softmax;
    const plain = effects.cnn_logits;
    expect(soft.length).toBe(plain.length);
    expect(soft.length).toBeGreaterThan(0);
    let largest = 0;
    let differsFromLogProbabilities = 0;
    soft.forEach((cell, i) => {
      expect([cell.concept, cell.target]).toEqual([plain[i].concept, plain[i].target]);
      expect(Math.abs(cell.effect - plain[i].effect)).toBeLessThan(1e-4);
      expect(Math.abs(cell.randomEffect - plain[i].randomEffect)).toBeLessThan(1e-4);
      expect(cell.score).toBeCloseTo(plain[i].score, 6);
      largest = Math.max(largest, Math.abs(cell.effect));
      differsFromLogProbabilities = Math.max(
        differsFromLogProbabilities,
        Math.abs(cell.effect - effects.cnn_manual_softmax[i].effect),
      );
    });
    // The effects are not trivially zero, and the log-probabilities' are another quantity.
    expect(largest).toBeGreaterThan(1e-3);
    expect(differsFromLogProbabilities).toBeGreaterThan(1e-3);
  }, 300_000);
});
