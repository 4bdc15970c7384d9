import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PianoRoll } from '../../src/midi/roll.ts';
import { activations, type ActivationBatch } from '../../src/model/activations.ts';
import { ActivationCache } from '../../src/model/cache.ts';
import { ComposerClassifier } from '../../src/model/classifier.ts';
import { inlineExternalData, MAX_INLINED_BYTES } from '../../src/model/external.ts';
import { rollLayoutOf } from '../../src/model/input.ts';
import {
  decodeModel,
  encodeModel,
  onnx,
  type ModelProto,
  type TensorProto,
} from '../../src/model/onnx.ts';
import type { RunResults } from '../../src/results/results.ts';
import { sha256 } from '../../src/util/files.ts';
import { Rng } from '../../src/util/random.ts';
import { runMain, tempDir } from '../helpers/cli.ts';
import { CONCEPTS, CORPUS, FAST } from '../foreign/helpers.ts';
import { loadFixture } from './fixtures.ts';

/**
 * Models whose weights are ONNX external data (src/model/external.ts), written by
 * training/fixtures/make_external_fixtures.py from test/fixtures/outputs/cnn_logits.onnx with the
 * same weights: all tensors in one file, one file per tensor, odd offsets with default offset and
 * length and a Constant node's attribute, and tensors inside an If node's subgraphs. Each must
 * behave exactly like the inline model (same layers, bit-identical logits and exact derivatives,
 * same TCAV and evaluation); its identity must cover the data files; and whatever a file claims
 * about its data is checked, each refusal one line naming the model, the tensor and the problem.
 */
const DIR = join(import.meta.dirname, '..', 'fixtures', 'external');
const INLINE = join(import.meta.dirname, '..', 'fixtures', 'outputs', 'cnn_logits.onnx');
const VARIANTS = ['one_file', 'per_tensor', 'offsets', 'subgraph'];
const variant = (name: string) => join(DIR, name, 'cnn.onnx');
const fixture = loadFixture('outputs.json', join(import.meta.dirname, '..', 'fixtures', 'outputs'));
const tmp = tempDir('cl-external-');

async function inspect(model: string) {
  const run = await runMain(['model', 'inspect', model, '--json']);
  expect(run.code, run.stderr).toBe(0);
  const { model: _path, sha256: identity, ...rest } = JSON.parse(run.stdout);
  return { identity: identity as string, rest };
}

/** Logits and activations at `features` of the fixture's rolls, and exact gradients of each class. */
async function outputsOf(model: string) {
  const c = await ComposerClassifier.load(model);
  try {
    const { data, shape } = fixture.inputs;
    const n = shape[0];
    const run = await c.run(data, n, ['features']);
    const head = await c.head('features');
    const gradients = [];
    for (let k = 0; k < c.classes; k++)
      gradients.push(await head.logitGradients(run.activations.features, n, Array(n).fill(k)));
    return {
      derivatives: head.derivatives,
      logits: run.logits,
      features: run.activations.features,
      gradients,
    };
  } finally {
    await c.release();
  }
}

describe('models with external data', () => {
  it('the inline model keeps the sha256 of its file as its identity (existing caches stay valid)', async () => {
    expect((await inspect(INLINE)).identity).toBe(sha256(readFileSync(INLINE)));
  });

  describe.each(VARIANTS)('%s', (name) => {
    it('model inspect lists the same layers, labels, input and output as the inline model', async () => {
      const inline = await inspect(INLINE);
      const external = await inspect(variant(name));
      expect(external.rest).toEqual(inline.rest);
      expect(external.rest.layers.length).toBeGreaterThan(0);
      // The identity covers more than the model file.
      expect(external.identity).not.toBe(sha256(readFileSync(variant(name))));
      expect(external.identity).not.toBe(inline.identity);
    });

    it("gives the inline model's logits, activations and exact gradients, bit for bit", async () => {
      const inline = await outputsOf(INLINE);
      const external = await outputsOf(variant(name));
      expect(inline.derivatives).toBe('exact');
      expect(external.derivatives).toBe('exact');
      expect(external.logits).toEqual(inline.logits);
      expect(external.features).toEqual(inline.features);
      expect(external.gradients).toEqual(inline.gradients);
      // Not trivially equal: the logits and gradients vary over inputs and classes.
      expect(new Set(inline.logits).size).toBeGreaterThan(3);
      expect(inline.gradients[0]).not.toEqual(inline.gradients[1]);
    });

    it("model evaluate gives the inline model's figures", async () => {
      const evaluate = async (model: string) => {
        const run = await runMain([
          'model',
          'evaluate',
          model,
          '--corpus',
          CORPUS,
          '--split',
          'all',
          '--no-cache',
          '--json',
        ]);
        expect(run.code, run.stderr).toBe(0);
        return JSON.parse(run.stdout);
      };
      const inline = await evaluate(INLINE);
      expect(inline.excerpts).toBeGreaterThan(0);
      expect(await evaluate(variant(name))).toEqual(inline);
    });
  });

  it("tcav gives the inline model's results (one file and one file per tensor)", async () => {
    const tcav = async (model: string, out: string) => {
      const run = await runMain([
        'tcav',
        '--model',
        model,
        '--corpus',
        CORPUS,
        '--concepts',
        ...CONCEPTS,
        '--layers',
        'features',
        '--null-concepts',
        '20',
        ...FAST,
        '--out',
        join(tmp, out),
      ]);
      expect(run.code, run.stderr).toBe(0);
      return (JSON.parse(readFileSync(join(tmp, out, 'results.json'), 'utf8')) as RunResults).tcav;
    };
    const inline = await tcav(INLINE, 'tcav-inline');
    expect(inline.length).toBe(2 * 3);
    expect(new Set(inline.map((c) => c.effect)).size).toBeGreaterThan(1);
    expect(await tcav(variant('one_file'), 'tcav-one-file')).toEqual(inline);
    expect(await tcav(variant('per_tensor'), 'tcav-per-tensor')).toEqual(inline);
  });

  it('changing one byte of the data file changes the identity, and the cache is not reused', async () => {
    const folder = join(tmp, 'retrained');
    cpSync(join(DIR, 'one_file'), folder, { recursive: true });
    const model = join(folder, 'cnn.onnx');
    const modelBytes = readFileSync(model);
    const cache = new ActivationCache(join(tmp, 'cache'));
    const pass = async () => {
      const c = await ComposerClassifier.load(model);
      const rng = new Rng(5);
      const rolls = Array.from({ length: 4 }, () => {
        const roll = new PianoRoll(rollLayoutOf(c.input), c.input.windowFrames);
        roll.data.forEach((_, i) => (roll.data[i] = rng.next() < 0.15 ? 1 : 0));
        return roll;
      });
      const before = { ...cache.stats };
      const batches: ActivationBatch[] = [];
      for await (const b of activations(c, 4, (i) => rolls[i], ['features'], {
        cache,
        ids: (i) => `roll-${i}`,
      }))
        batches.push(b);
      await c.release();
      return {
        identity: c.sha256,
        hits: cache.stats.hits - before.hits,
        misses: cache.stats.misses - before.misses,
        logits: Float32Array.from(batches.flatMap((b) => Array.from(b.logits))),
      };
    };
    const first = await pass();
    expect(first.hits).toBe(0);
    expect(first.misses).toBeGreaterThan(0);
    const again = await pass();
    expect(again.identity).toBe(first.identity);
    expect(again.misses).toBe(0);
    expect(again.hits).toBeGreaterThan(0); // the cache works for an unchanged model
    expect(again.logits).toEqual(first.logits);

    // "Retrained" weights: the last byte of the data file is the high byte of fc.bias[2].
    const data = join(folder, 'cnn.onnx.data');
    const bytes = readFileSync(data);
    bytes[bytes.length - 1] ^= 0x40;
    writeFileSync(data, bytes);
    expect(readFileSync(model)).toEqual(modelBytes); // the model file is unchanged
    const retrained = await pass();
    expect(retrained.identity).not.toBe(first.identity);
    expect(retrained.hits).toBe(0);
    expect(retrained.misses).toBeGreaterThan(0);
    expect(retrained.logits).not.toEqual(first.logits);
  });
});

describe('external weights are checked like inline ones', () => {
  it('a NaN in the data file is refused in one line naming the initializer', async () => {
    const folder = join(tmp, 'damaged');
    cpSync(join(DIR, 'one_file'), folder, { recursive: true });
    const data = join(folder, 'cnn.onnx.data');
    const bytes = readFileSync(data);
    // The data file starts with net.features.0.weight: its value 2 becomes a quiet NaN.
    bytes.writeFloatLE(NaN, 2 * 4);
    writeFileSync(data, bytes);
    const run = await runMain(['model', 'inspect', join(folder, 'cnn.onnx')]);
    expect(run.code).toBe(2);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(/initializer net\.features\.0\.weight holds NaN at index 2/);
  });
});

describe('what a model claims about its external data is checked', () => {
  const TENSOR = 'net.features.3.weight';
  const source = decodeModel(readFileSync(variant('one_file')));
  const dataSize = readFileSync(join(DIR, 'one_file', 'cnn.onnx.data')).length;
  const entry = (key: string) =>
    source
      .graph!.initializer!.find((t) => t.name === TENSOR)!
      .externalData!.find((e) => e.key === key)!.value!;
  const offset = Number(entry('offset'));
  const length = Number(entry('length'));
  let cases = 0;

  /**
   * The one-file model in a folder of its own (`case/model/`, beside `case/outside.data`, a valid
   * copy of the data), with TENSOR's external data replaced by `claims` and `edit` applied.
   */
  function model(claims: Record<string, string>, edit?: (folder: string) => void): string {
    const root = join(tmp, `case-${cases++}`);
    const folder = join(root, 'model');
    mkdirSync(folder, { recursive: true });
    copyFileSync(join(DIR, 'one_file', 'cnn.onnx.data'), join(folder, 'cnn.onnx.data'));
    copyFileSync(join(DIR, 'one_file', 'cnn.onnx.data'), join(root, 'outside.data'));
    const m = decodeModel(readFileSync(variant('one_file')));
    const tensor = m.graph!.initializer!.find((t) => t.name === TENSOR)!;
    tensor.externalData = Object.entries(claims).map(([key, value]) => ({ key, value }));
    edit?.(folder);
    const path = join(folder, 'cnn.onnx');
    writeFileSync(path, encodeModel(m));
    return path;
  }

  async function refused(path: string, problem: RegExp): Promise<void> {
    const run = await runMain(['model', 'inspect', path]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.errors).toHaveLength(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.errors[0]).toContain(`${path}: initializer ${TENSOR}: `);
    expect(run.errors[0]).toMatch(problem);
  }

  const at = { offset: String(offset), length: String(length) };

  it('accepts the same tensor where it is, and through a link inside the folder (controls)', async () => {
    const plain = model({ location: 'cnn.onnx.data', ...at });
    expect((await runMain(['model', 'inspect', plain])).code).toBe(0);
    const linked = model({ location: 'link.data', ...at }, (folder) =>
      symlinkSync('cnn.onnx.data', join(folder, 'link.data')),
    );
    expect((await runMain(['model', 'inspect', linked])).code).toBe(0);
    const up = model({ location: 'sub/../cnn.onnx.data', ...at }, (folder) =>
      mkdirSync(join(folder, 'sub')),
    );
    expect((await runMain(['model', 'inspect', up])).code).toBe(0);
  });

  it('refuses a location with .. leaving the folder (even to a valid file)', async () => {
    await refused(
      model({ location: '../outside.data', ...at }),
      /external data file \.\.\/outside\.data is outside the model's folder$/,
    );
  });

  it('refuses an absolute path', async () => {
    const outside = join(tmp, `case-${cases}`, 'outside.data');
    await refused(model({ location: outside, ...at }), /is an absolute path; it must be relative/);
  });

  it('refuses a symbolic link in the folder pointing outside (file or folder)', async () => {
    await refused(
      model({ location: 'escape.data', ...at }, (folder) =>
        symlinkSync(join(folder, '..', 'outside.data'), join(folder, 'escape.data')),
      ),
      /escape\.data is a symbolic link leading outside the model's folder/,
    );
    await refused(
      model({ location: 'sub/outside.data', ...at }, (folder) =>
        symlinkSync(join(folder, '..'), join(folder, 'sub')),
      ),
      /sub\/outside\.data is a symbolic link leading outside the model's folder/,
    );
  });

  it('refuses a missing data file, a missing location, a folder and a named pipe', async () => {
    await refused(model({ location: 'weights.data', ...at }), /weights\.data does not exist$/);
    await refused(model({ ...at }), /names no data file \(no location\)/);
    await refused(
      model({ location: 'sub', ...at }, (folder) => mkdirSync(join(folder, 'sub'))),
      /sub is not a regular file/,
    );
    // A named pipe would block the reader until something writes to it: refused unopened.
    await refused(
      model({ location: 'pipe.data', ...at }, (folder) =>
        execFileSync('mkfifo', [join(folder, 'pipe.data')]),
      ),
      /pipe\.data is not a regular file/,
    );
  });

  it("refuses a length that does not match the tensor's shape", async () => {
    await refused(
      model({ location: 'cnn.onnx.data', offset: at.offset, length: String(length - 4) }),
      new RegExp(
        `length ${length - 4} bytes, but a FLOAT tensor of shape \\[8, 8, 3, 3\\] takes ${length}`,
      ),
    );
    // No length: to the end of the file, which here is more than the tensor.
    await refused(
      model({ location: 'cnn.onnx.data', offset: at.offset }),
      new RegExp(`length ${dataSize - offset} bytes, but a FLOAT tensor`),
    );
    await refused(
      model({ location: 'cnn.onnx.data', offset: at.offset, length: '-1' }),
      /length -1 is not a byte count$/,
    );
  });

  it('refuses an offset beyond the end of the file, and bytes running past it', async () => {
    await refused(
      model({ location: 'cnn.onnx.data', offset: String(dataSize + 100), length: at.length }),
      new RegExp(`offset ${dataSize + 100} is beyond the end of the file \\(${dataSize} bytes\\)`),
    );
    await refused(
      model({ location: 'cnn.onnx.data', offset: String(dataSize - 8), length: at.length }),
      /run past the end of the file/,
    );
  });

  it('refuses a model whose inlined size is over 2 GiB, before reading anything', async () => {
    // A sparse data file (no disk used) and a tensor claiming 2^29 + 1 floats of it.
    const floats = 2 ** 29 + 1;
    const path = model({ location: 'huge.data', offset: '0' }, (folder) => {
      writeFileSync(join(folder, 'huge.data'), '');
      truncateSync(join(folder, 'huge.data'), floats * 4);
    });
    const m = decodeModel(readFileSync(path));
    m.graph!.initializer!.find((t) => t.name === TENSOR)!.dims = [floats];
    writeFileSync(path, encodeModel(m));
    expect(floats * 4).toBeGreaterThan(MAX_INLINED_BYTES);
    const before = process.memoryUsage().arrayBuffers;
    const run = await runMain(['model', 'inspect', path]);
    expect(run.code).toBe(2);
    expect(run.errors).toEqual([
      expect.stringMatching(
        /with its external data is 2\.00 GiB, over the 2\.00 GiB concept-lens can load/,
      ),
    ]);
    expect(run.errors[0]).toContain(path);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(2 ** 28);
  });

  it('reaches the tensors of If subgraphs and Constant attributes', () => {
    const { EXTERNAL } = onnx.TensorProto.DataLocation;
    type Graph = NonNullable<ModelProto['graph']>;
    const tensors = (g: Graph): TensorProto[] => [
      ...(g.initializer ?? []),
      ...(g.node ?? []).flatMap((n) =>
        (n.attribute ?? []).flatMap((a) => [
          ...(a.t ? [a.t] : []),
          ...(a.g ? tensors(a.g as Graph) : []),
        ]),
      ),
    ];
    const path = variant('subgraph');
    const bytes = readFileSync(path);
    const m = decodeModel(bytes);
    expect(tensors(m.graph!).filter((t) => t.dataLocation === EXTERNAL)).toHaveLength(7);
    const inlined = inlineExternalData(path, bytes, m);
    expect(inlined.tensors).toBe(7);
    expect(inlined.bytes).toBe(readFileSync(join(DIR, 'subgraph', 'weights.bin')).length - 3);
    expect(tensors(m.graph!).filter((t) => t.dataLocation === EXTERNAL)).toHaveLength(0);
    // The bias held by the then-branch's Constant node is the inline model's fc.bias, byte for byte.
    const bias = decodeModel(readFileSync(INLINE)).graph!.initializer!.find(
      (t) => t.name === 'net.fc.bias',
    )!;
    const thenBias = tensors(m.graph!).find((t) => t.name === 'then_bias')!;
    expect(Buffer.from(thenBias.rawData!)).toEqual(Buffer.from(bias.rawData!));
    const elseBias = tensors(m.graph!).find((t) => t.name === 'else_bias')!;
    expect(Buffer.from(elseBias.rawData!)).toEqual(Buffer.alloc(12));
  });
});
