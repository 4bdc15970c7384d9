/**
 * Concept banks on disk: written whole, read back bit for bit, refused when damaged or built for
 * another model, never replacing a folder that is not a bank; and readable from Python with NumPy
 * (training/read_bank.py, an independent implementation of the mean direction and of presence).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ConceptBank } from '../../src/bank/build.ts';
import { npyBytes, readNpy } from '../../src/bank/npy.ts';
import { meanDirection, median, presence, project, sortedCopy } from '../../src/bank/presence.ts';
import { checkBankModel, checkBankTarget, loadBank, writeBank } from '../../src/bank/store.ts';
import { ComposerClassifier } from '../../src/model/classifier.ts';
import { BANK_FORMAT } from '../../src/results/bank.ts';
import { UserError } from '../../src/util/errors.ts';
import { Rng } from '../../src/util/random.ts';
import { REPO, tempDir } from '../helpers/cli.ts';

const tmp = tempDir('cl-bank-');
const TINY = join(REPO, 'test/fixtures/models/tiny_resnet.onnx');
const PYTHON = '/usr/bin/python3';
const HAVE_NUMPY =
  existsSync(PYTHON) &&
  spawnSync(PYTHON, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

/** A bank of random CAVs for the tiny fixture model's layer2 ([8, 16, 6]). */
async function randomBank(classifier: ComposerClassifier): Promise<ConceptBank> {
  const rng = new Rng('bank-test');
  const shape = classifier.layer('layer2').shape;
  const size = shape.reduce((a, b) => a * b, 1);
  const vec = () => {
    const v = Float32Array.from({ length: size }, () => rng.normal());
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  };
  const concept = (name: string, runs: number) => {
    const cavs = Array.from({ length: runs }, vec);
    const direction = meanDirection(cavs)!;
    const refActs = Float32Array.from({ length: 50 * size }, () => Math.max(0, rng.normal()));
    const reference = sortedCopy(project(refActs, 50, direction));
    const examples = Float64Array.from({ length: 7 }, () => rng.normal() + 1);
    return {
      name,
      description: `${name}, made up`,
      examples: 7,
      layers: [
        {
          layer: 'layer2',
          shape,
          size,
          cavs,
          accuracies: cavs.map(() => 0.9),
          meanAccuracy: 0.9,
          reliable: true,
          direction,
          reference,
          examples,
          examplesMedianPresence: median([...examples].map((x) => presence(reference, x))),
        },
      ],
    };
  };
  return {
    info: {
      format: BANK_FORMAT,
      tool: { name: 'concept-lens', version: '0.1.0' },
      createdAt: '2024-01-01T00:00:00.000Z',
      model: {
        path: TINY,
        sha256: classifier.sha256,
        labels: classifier.labels,
        input: { ...classifier.input },
      },
      corpus: { name: 'made-up', root: '/nowhere', files: 1, pieces: 1, composers: [] },
      tcav: { seed: 1, runs: 4, setSize: 10, minCavAccuracy: 0.7 },
      reference: {
        seed: 'x',
        count: 50,
        excerpts: Array.from({ length: 50 }, (_, i) => `f.mid@${i}`),
      },
    },
    // A name that is no file name, to check that it goes through safeSegment.
    concepts: [concept('alberti', 4), concept('../../etc/passwd & "x"', 3)],
  };
}

describe('concept bank files', () => {
  it('round-trips: every array read back bit for bit, names made safe', async () => {
    const classifier = await ComposerClassifier.load(TINY);
    try {
      const bank = await randomBank(classifier);
      const dir = join(tmp, 'bank');
      writeBank(dir, bank);
      expect(readdirSync(dir).sort()).toEqual(['01-alberti', '02-etc_passwd_x_', 'bank.json']);
      expect(readdirSync(tmp).filter((f) => f.includes('.partial') || f.includes('.old'))).toEqual(
        [],
      );
      const back = loadBank(dir);
      checkBankModel(back, classifier);
      expect(back.info).toEqual(bank.info);
      bank.concepts.forEach((c, i) => {
        const l = c.layers[0];
        const m = back.concepts[i].layers[0];
        expect(back.concepts[i].name).toBe(c.name);
        expect(m.cavs.map((v) => [...v])).toEqual(l.cavs.map((v) => [...v]));
        expect([...m.direction]).toEqual([...l.direction]);
        expect([...m.reference]).toEqual([...l.reference]);
        expect([...m.examples]).toEqual([...l.examples]);
      });
      // A second write replaces the bank whole.
      writeBank(dir, { ...bank, concepts: bank.concepts.slice(0, 1) });
      expect(readdirSync(dir).sort()).toEqual(['01-alberti', 'bank.json']);
    } finally {
      await classifier.release();
    }
  });

  it('refuses a bank built for another model, in one line', async () => {
    const tiny = await ComposerClassifier.load(TINY);
    const other = await ComposerClassifier.load(join(REPO, 'models/synthetic.onnx'));
    try {
      const dir = join(tmp, 'bank-tiny');
      writeBank(dir, await randomBank(tiny));
      const bank = loadBank(dir);
      expect(() => checkBankModel(bank, other)).toThrow(UserError);
      expect(() => checkBankModel(bank, other)).toThrow(
        /bank-tiny: built for model .*tiny_resnet\.onnx \(sha256 8b90a7c1f944\), not .*synthetic\.onnx \(sha256 1139f1854a09\)/,
      );
    } finally {
      await tiny.release();
      await other.release();
    }
  });

  it('names the file of a damaged bank, and never replaces a folder that is not a bank', async () => {
    const classifier = await ComposerClassifier.load(TINY);
    try {
      const dir = join(tmp, 'bank-damaged');
      writeBank(dir, await randomBank(classifier));
      writeFileSync(
        join(dir, '01-alberti/layer2.direction.npy'),
        npyBytes({ descr: '<f4', shape: [3], data: new Float32Array(3) }),
      );
      expect(() => loadBank(dir)).toThrow(
        /layer2\.direction\.npy: expected <f4 \[768\], found <f4 \[3\]/,
      );
      writeFileSync(join(dir, '01-alberti/layer2.cavs.npy'), 'not numpy');
      expect(() => loadBank(dir)).toThrow(/layer2\.cavs\.npy: not a readable \.npy array/);
      writeFileSync(join(dir, 'bank.json'), '{"format": "something else"}');
      expect(() => loadBank(dir)).toThrow(/bank\.json: format: /);
      expect(() => loadBank(tmp)).toThrow(/not a concept bank \(no bank\.json/);

      const precious = join(tmp, 'precious');
      mkdirSync(precious);
      writeFileSync(join(precious, 'thesis.tex'), 'years of work');
      expect(() => checkBankTarget(precious)).toThrow(
        /is not a concept bank .*refusing to replace it/,
      );
      await expect(async () => writeBank(precious, await randomBank(classifier))).rejects.toThrow(
        /refusing/,
      );
      expect(readdirSync(precious)).toEqual(['thesis.tex']);
    } finally {
      await classifier.release();
    }
  });

  it('reads .npy files written by NumPy (format 1.0 and 2.0, float32 and float64)', () => {
    // Written by training/fixtures/make_bank_fixtures.py.
    const f4 = readNpy(join(REPO, 'test/fixtures/bank/numpy_f4.npy'));
    expect(f4.descr).toBe('<f4');
    expect(f4.shape).toEqual([2, 3]);
    expect([...f4.data]).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
    const f8 = readNpy(join(REPO, 'test/fixtures/bank/numpy_f8_v2.npy'));
    expect(f8.descr).toBe('<f8');
    expect(f8.shape).toEqual([4]);
    expect([...f8.data]).toEqual([-1.5, 0, 2 ** -30, 1e300]);
  });

  it.skipIf(!HAVE_NUMPY)(
    'is read by NumPy: shapes, mean direction and presence agree with Python',
    async () => {
      const classifier = await ComposerClassifier.load(TINY);
      try {
        const bank = await randomBank(classifier);
        const dir = join(tmp, 'bank-python');
        writeBank(dir, bank);
        const run = (...args: string[]) => {
          const r = spawnSync(PYTHON, [join(REPO, 'training/read_bank.py'), dir, ...args], {
            encoding: 'utf8',
          });
          expect(r.stderr).toBe('');
          return JSON.parse(r.stdout);
        };
        const s = run();
        expect(s.model).toBe(classifier.sha256);
        expect(s.concepts).toHaveLength(2);
        for (const [i, c] of s.concepts.entries()) {
          const l = bank.concepts[i].layers[0];
          expect(c.cavs).toEqual([[l.cavs.length, l.size], 'float32']);
          expect(c.reference).toEqual([[50], 'float64']);
          expect(c.referenceSorted).toBe(true);
          expect(c.directionError).toBeLessThan(1e-6);
          expect(c.examplesMedianPresence).toBe(l.examplesMedianPresence);
        }
        // Presence of new activations, in TypeScript and in NumPy.
        const rng = new Rng('acts');
        const l = bank.concepts[0].layers[0];
        const acts = Float32Array.from({ length: 20 * l.size }, () => Math.max(0, rng.normal()));
        const file = join(tmp, 'acts.npy');
        writeFileSync(file, npyBytes({ descr: '<f4', shape: [20, l.size], data: acts }));
        const py = run('--activations', file, '--concept', 'alberti', '--layer', 'layer2');
        const ts = project(acts, 20, l.direction);
        py.projection.forEach((p: number, i: number) => expect(p).toBeCloseTo(ts[i], 9));
        expect(py.presence).toEqual([...ts].map((x) => presence(l.reference, x)));
      } finally {
        await classifier.release();
      }
    },
  );
});
