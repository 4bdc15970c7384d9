import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PianoRoll } from '../../src/midi/roll.ts';
import { activations, type ActivationBatch } from '../../src/model/activations.ts';
import { ActivationCache, LOGITS } from '../../src/model/cache.ts';
import { ComposerClassifier } from '../../src/model/classifier.ts';
import { rollLayoutOf } from '../../src/model/input.ts';
import { Rng } from '../../src/util/random.ts';
import { loadFixture, maxAbsDiff, TINY_RESNET } from './fixtures.ts';

const COUNT = 7;

function randomRolls(c: ComposerClassifier): PianoRoll[] {
  const rng = new Rng(11);
  return Array.from({ length: COUNT }, () => {
    const roll = new PianoRoll(rollLayoutOf(c.input), c.input.windowFrames);
    roll.data.forEach((_, i) => (roll.data[i] = rng.next() < 0.15 ? 1 : 0));
    return roll;
  });
}

async function collect(stream: AsyncGenerator<ActivationBatch>) {
  const batches: ActivationBatch[] = [];
  for await (const b of stream) batches.push(b);
  const concat = (get: (b: ActivationBatch) => Float32Array) =>
    Float32Array.from(batches.flatMap((b) => Array.from(get(b))));
  return { batches, logits: concat((b) => b.logits), layer2: concat((b) => b.activations.layer2) };
}

describe('streamed activations and their cache', () => {
  it('streams bounded batches that equal one big run', async () => {
    const c = await ComposerClassifier.load(TINY_RESNET);
    const rolls = randomRolls(c);
    const { batches, logits, layer2 } = await collect(
      activations(c, COUNT, (i) => rolls[i], ['layer2'], { batchSize: 3 }),
    );
    expect(batches.map((b) => [b.start, b.n])).toEqual([
      [0, 3],
      [3, 3],
      [6, 1],
    ]);
    const whole = await c.run(Float32Array.from(rolls.flatMap((r) => Array.from(r.data))), COUNT, [
      'layer2',
    ]);
    expect(maxAbsDiff(logits, whole.logits)).toBe(0);
    expect(maxAbsDiff(layer2, whole.activations.layer2)).toBe(0);
    // The fixture's inputs through the stream match PyTorch.
    const f = loadFixture('tiny_resnet.json');
    const fixtureRolls = [0, 1, 2].map(
      (i) =>
        new PianoRoll(rollLayoutOf(c.input), 64, f.inputs.data.slice(i * 1536, (i + 1) * 1536)),
    );
    const fromFixture = await collect(
      activations(c, 3, (i) => fixtureRolls[i], ['layer2'], { batchSize: 2 }),
    );
    expect(maxAbsDiff(fromFixture.layer2, f.layer2.data)).toBeLessThan(1e-5);
    await c.release();
  });

  it('does not run the model again, and recomputes corrupt entries to the same values', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cl-cache-'));
    const cache = new ActivationCache(dir);
    const c = await ComposerClassifier.load(TINY_RESNET);
    const rolls = randomRolls(c);
    const ids = (i: number) => `piece${i}.mid@${i * 64}+64`;
    const opts = { batchSize: 3, cache, ids };

    const first = await collect(activations(c, COUNT, (i) => rolls[i], ['layer2'], opts));
    expect(c.runCount).toBe(3);
    const second = await collect(activations(c, COUNT, (i) => rolls[i], ['layer2'], opts));
    expect(c.runCount).toBe(3); // all from disk
    expect(cache.stats.hits).toBe(2 * COUNT);
    expect(second.layer2).toEqual(first.layer2);
    expect(second.logits).toEqual(first.logits);

    // Damage three entries: truncate one, flip a data byte of another, swap in another excerpt's file.
    const ns = cache.namespace(c.sha256, c.input);
    const tensor = c.layer('layer2').tensor;
    truncateSync(cache.path(ns, tensor, ids(1)), 100);
    const flipped = cache.path(ns, tensor, ids(4));
    const bytes = readFileSync(flipped);
    bytes[bytes.length - 5] ^= 0x40;
    writeFileSync(flipped, bytes);
    writeFileSync(cache.path(ns, LOGITS, ids(6)), readFileSync(cache.path(ns, LOGITS, ids(5))));

    const rendered: number[] = [];
    const third = await collect(
      activations(c, COUNT, (i) => (rendered.push(i), rolls[i]), ['layer2'], opts),
    );
    expect(cache.stats.rejected).toBe(3);
    // One run per batch holding a damaged item (items 1, 4, 6 in batches of 3), on that item alone.
    expect(c.runCount).toBe(6);
    expect(rendered).toEqual([1, 4, 6]);
    expect(third.layer2).toEqual(first.layer2);
    expect(third.logits).toEqual(first.logits);
    await c.release();
  });
});
