import type { ConceptLens } from '../lens/lens.ts';
import { warn } from '../util/warn.ts';
import type { NullStore, StoredNull } from './layer.ts';

/**
 * Nulls and mean gradients kept between runs, in the activation cache (src/model/cache.ts: the
 * same checksummed files, the same "a bad entry is a miss" rule).
 *
 * Why: a null depends on the model, the layer, the pool, the target excerpts and mean gradients,
 * the bank of counterexample sets, the concept's size and the seed, never on the concept under
 * test (TcavLayer.prepare hashes all of it into the key). So a rerun with one new or edited concept
 * reads the nulls back and computes only that concept's CAVs and derivatives; a null extended by
 * sequential decisions is stored again at its new length, and a later run that needs fewer random
 * concepts reads its prefix (random concept m is the same in every extension). Mean gradients over
 * every window of a composer (effects.ts) are the other cost a rerun would repeat.
 */
const NAMESPACE = 'tcav';

export function nullStore(lens: ConceptLens): NullStore | undefined {
  const cache = lens.cache;
  if (!cache) return undefined;
  return {
    get: (key) => {
      const bytes = cache.getBlob(NAMESPACE, 'nulls', key);
      const value = bytes ? decodeNull(bytes) : undefined;
      // An entry that verifies but does not decode to finite numbers is recomputed.
      if (bytes && !value) nonFinite(lens);
      return value;
    },
    put: (key, value) => cache.putBlob(NAMESPACE, 'nulls', key, encodeNull(value)),
  };
}

/** A float vector computed once per content key (mean gradients). */
export async function cachedVector(
  lens: ConceptLens,
  kind: string,
  key: string,
  compute: () => Promise<Float32Array>,
): Promise<Float32Array> {
  const bytes = lens.cache?.getBlob(NAMESPACE, kind, key);
  if (bytes && bytes.length % 4 === 0) {
    const stored = new Float32Array(bytes.buffer.slice(0));
    // A non-finite value under a valid checksum (damaged or forged) is recomputed, never used.
    if (stored.every(Number.isFinite)) return stored;
    nonFinite(lens);
  }
  const values = await compute();
  lens.cache?.putBlob(
    NAMESPACE,
    kind,
    key,
    new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
  );
  return values;
}

/** u32 header bytes | JSON header | float64 effects [targets x count]. */
function encodeNull(value: StoredNull): Uint8Array {
  const header = Buffer.from(
    JSON.stringify({
      count: value.count,
      targets: value.effects.length,
      positive: value.positive,
      negative: value.negative,
      accuracies: value.accuracies.map((a) => (Number.isFinite(a) ? a : null)),
    }),
    'utf8',
  );
  const pad = (8 - ((4 + header.length) % 8)) % 8;
  const out = new Uint8Array(4 + header.length + pad + 8 * value.count * value.effects.length);
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 4);
  const data = new Float64Array(out.buffer, 4 + header.length + pad);
  value.effects.forEach((e, t) => data.set(e.subarray(0, value.count), t * value.count));
  return out;
}

function decodeNull(bytes: Uint8Array): StoredNull | undefined {
  try {
    const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
    const header = JSON.parse(Buffer.from(bytes.subarray(4, 4 + length)).toString('utf8')) as {
      count: number;
      targets: number;
      positive: number[][];
      negative: number[][];
      accuracies: (number | null)[];
    };
    const pad = (8 - ((4 + length) % 8)) % 8;
    const start = 4 + length + pad;
    if (bytes.length !== start + 8 * header.count * header.targets) return undefined;
    const data = new Float64Array(bytes.slice(start).buffer);
    const counts = [...header.positive.flat(), ...header.negative.flat()];
    if (!data.every(Number.isFinite) || !counts.every(Number.isFinite)) return undefined;
    return {
      count: header.count,
      effects: [...Array(header.targets).keys()].map((t) =>
        data.slice(t * header.count, (t + 1) * header.count),
      ),
      positive: header.positive,
      negative: header.negative,
      accuracies: header.accuracies.map((a) => a ?? NaN),
    };
  } catch {
    return undefined;
  }
}

function nonFinite(lens: ConceptLens): void {
  warn(
    `activation cache ${lens.cache?.dir}: a stored TCAV null or mean gradient holds NaN or infinite values (or does not decode) under a valid checksum; it is recomputed, not used (said once)`,
    'cache-nonfinite-tcav',
  );
}
