import { distances, meanRow, prepareVectors } from './distance.ts';
import { Profiles, referenceSample } from './profiles.ts';
import { scaledRow } from './scaled.ts';
import type { Scaling } from './types.ts';

/**
 * Secondary distances between cluster centres and the points they cluster (discovery's k-means
 * with Mutual Proximity): [k x n], centre c's row first. The points are the "corpus" (each with
 * its exact distance profile: a discovery run clusters a few thousand parts at most), a centre is
 * a point outside it. Euclidean, as k-means.
 */
export async function centreDistances(
  points: readonly (readonly number[])[],
  centres: readonly (readonly number[])[],
  scaling: Scaling,
): Promise<Float64Array> {
  const n = points.length;
  const dims = points[0]?.length ?? 0;
  const data = Float32Array.from(points.flat());
  const centre = meanRow(data, n, dims);
  const corpus = prepareVectors(data, n, dims, 'euclidean', centre);
  const q = prepareVectors(
    Float32Array.from(centres.flat()),
    centres.length,
    dims,
    'euclidean',
    centre,
  );
  const rows = await distances(q, corpus);
  const own = await distances(corpus, corpus);
  const profiles = new Profiles(n, { near: n, levels: 16 });
  const reference = referenceSample(n, n, () => 0);
  for (let i = 0; i < n; i++)
    profiles.setFromRow(i, own.subarray(i * n, (i + 1) * n), i, reference);
  const out = new Float64Array(centres.length * n);
  for (let c = 0; c < centres.length; c++) {
    const row = rows.subarray(c * n, (c + 1) * n);
    const owner = new Profiles(1, profiles.shape);
    owner.setFromRow(0, row, -1, reference);
    out.set(scaledRow({ row, profiles: owner, at: 0, self: -1 }, profiles, scaling), c * n);
  }
  return out;
}
