import { resolve } from 'node:path';
import type { Excerpt } from '../corpus/types.ts';
import type { ConceptLens, LensItem } from '../lens/lens.ts';
import { activations } from '../model/activations.ts';
import { ActivationCache } from '../model/cache.ts';
import type { HubnessReport } from '../results/similar.ts';
import { UserError } from '../util/errors.ts';
import { FileSystemError, sha256, readUserFile } from '../util/files.ts';
import { warn } from '../util/warn.ts';
import { safeSegment } from '../util/paths.ts';
import { Rng } from '../util/random.ts';
import { decodeBundle, encodeBundle } from './bundle.ts';
import {
  distances,
  forEachDistanceBlock,
  meanRow,
  prepareVectors,
  sliceVectors,
  type Vectors,
} from './distance.ts';
import { kOccurrence, summarizeKOccurrence } from './hubness.ts';
import type { Owner } from './mp.ts';
import { effectivePooling, poolActivations, pooledSize } from './pool.ts';
import { PROFILE_ARRAYS, Profiles, referenceSample, type ProfileArray } from './profiles.ts';
import { scaledNeighbours, scaledRow } from './scaled.ts';
import type { Metric, Pooling, Scaling } from './types.ts';

/**
 * The retrieval index of a corpus at one layer: one (pooled) activation vector per window, and
 * for every window the profile of its distances to all the others (profiles.ts), which Mutual
 * Proximity needs. Built once per model, layer, settings and corpus content, stored in the cache
 * folder, and reused by every query.
 *
 * Memory and time, for ASAP at layer3 (18,908 windows): vectors pooled over time hold 384 values
 * (29 MB; unpooled they would hold 9,600, 726 MB, and retrieve worse); profiles keep 100 nearest
 * neighbours and 64 quantiles per window (24 MB). Building streams the corpus through the model
 * in chunks and computes the 18,908 x 18,908 distances block by block with onnxruntime's Gemm,
 * keeping only each row's profile; a query computes one row of distances (one Gemm) and its
 * secondary distances, so it needs no pass over the corpus.
 */
export interface IndexSettings {
  layer: string;
  pooling: Pooling;
  metric: Metric;
  /** Nearest neighbours kept per window (exact empirical MP within them). */
  near: number;
  /** Quantiles kept per window (the rest of its distance distribution). */
  levels: number;
  /** Windows sampled for those quantiles. */
  referenceSize: number;
}

export const INDEX_DEFAULTS: Omit<IndexSettings, 'layer'> = {
  pooling: 'time',
  metric: 'euclidean',
  near: 100,
  levels: 64,
  referenceSize: 2048,
};

/** Index files larger than this are refused unless the caller raises the limit. */
export const DEFAULT_MAX_INDEX_BYTES = 1024 * 1024 * 1024;

const FORMAT = 1;

/** Corpora whose activations at the layer take at most this much go through the activation cache. */
const MAX_CACHED_LAYER_BYTES = 200 * 1024 * 1024;

export interface IndexMeta {
  format: number;
  key: string;
  model: string;
  layer: string;
  shape: number[];
  pooling: Pooling;
  metric: Metric;
  dims: number;
  n: number;
  near: number;
  levels: number;
  referenceSize: number;
  /** Seconds the build took: in all, running the model, and computing the distance profiles. */
  buildSeconds: number;
  activationSeconds: number;
  distanceSeconds: number;
}

export interface Hit {
  /** Corpus window index. */
  index: number;
  distance: number;
  /** The ranking distance: `distance`, or 1 - MP. */
  scaled: number;
}

export interface OpenOptions {
  /** Folder of the activation cache (the index goes to `<dir>/retrieval`); false: no cache. */
  cacheDir?: string | false;
  /** Only these windows (default: every window of the lens's corpus). */
  excerpts?: Excerpt[];
  maxBytes?: number;
}

export interface SearchOptions {
  k: number;
  scaling: Scaling;
  /** Windows that may not be hits (the query's own file). */
  skip?: (i: number) => boolean;
}

export class RetrievalIndex {
  /** True when this object was built now (not read from the cache); seconds it took either way. */
  built = false;
  openSeconds = 0;

  private constructor(
    readonly meta: IndexMeta,
    readonly excerpts: Excerpt[],
    /** Prepared vectors (centred for Euclidean, unit length for cosine). */
    readonly vectors: Vectors,
    readonly centre: Float32Array,
    readonly profiles: Profiles,
    readonly reference: Int32Array,
    private readonly lens: ConceptLens,
    private readonly store: IndexStore | undefined,
  ) {}

  get n(): number {
    return this.meta.n;
  }

  /** The index of these settings over the lens's corpus: read from the cache, or built (and cached). */
  static async open(
    lens: ConceptLens,
    settings: IndexSettings,
    options: OpenOptions = {},
  ): Promise<RetrievalIndex> {
    const started = Date.now();
    const layer = lens.classifier.layer(settings.layer);
    const excerpts = options.excerpts ?? lens.index.excerpts();
    if (excerpts.length < 3)
      throw new UserError(
        `the corpus has ${excerpts.length} window(s) of the model's composers; retrieval needs at least 3`,
      );
    const pooling = effectivePooling(settings.pooling, layer.shape, layer.axes);
    const dims = pooledSize(pooling, layer.shape, layer.axes);
    const bytes = excerpts.length * (dims * 4 + settings.near * 8 + settings.levels * 8 + 40);
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_INDEX_BYTES;
    if (bytes > maxBytes) {
      throw new UserError(
        `an index of ${excerpts.length} windows x ${dims} values at ${settings.layer} (pooling ${pooling}) needs ${mb(bytes)} MB, over the limit of ${mb(maxBytes)} MB; pool over time (--pool time) or raise --max-index-mb`,
      );
    }
    const resolved = { ...settings, pooling };
    const key = indexKey(lens, resolved, excerpts);
    // Kept in the cache folder, through the cache's checks (no symbolic link, nothing outside it).
    const store: IndexStore | undefined =
      options.cacheDir === false || options.cacheDir === undefined
        ? undefined
        : {
            cache:
              lens.cache && lens.cache.dir === resolve(options.cacheDir)
                ? lens.cache
                : new ActivationCache(options.cacheDir),
            rel: `retrieval/${safeSegment(settings.layer).slice(-40)}-${key.slice(0, 32)}.clrx`,
          };
    const cached = store ? RetrievalIndex.read(store, key, excerpts, lens) : null;
    const index = cached ?? (await RetrievalIndex.build(lens, resolved, excerpts, key, store));
    index.built = !cached;
    index.openSeconds = (Date.now() - started) / 1000;
    return index;
  }

  private static read(
    store: IndexStore,
    key: string,
    excerpts: Excerpt[],
    lens: ConceptLens,
  ): RetrievalIndex | null {
    const bundle = decodeBundle(store.cache.readFile(store.rel));
    if (!bundle) return null;
    const meta = bundle.header as IndexMeta;
    if (meta.format !== FORMAT || meta.key !== key || meta.n !== excerpts.length) return null;
    const a = bundle.arrays;
    // A checksum can be forged: a NaN or an infinity would give distances and neighbours that mean
    // nothing, so such an index is built again (as the activation cache does with its entries).
    const bad = Object.entries(a).find(([, values]) => !allFinite(values));
    if (bad) {
      warn(
        `retrieval index cache ${store.cache.dir}: the stored index holds NaN or infinite values (${bad[0]}) under a valid checksum (damaged or forged); it is built again`,
        'retrieval-nonfinite',
      );
      return null;
    }
    const profiles = new Profiles(
      meta.n,
      { near: meta.near, levels: meta.levels },
      Object.fromEntries(PROFILE_ARRAYS.map((k) => [k, a[`profile.${k}`]])) as unknown as Record<
        ProfileArray,
        ArrayLike<number>
      >,
    );
    const squares = a.squares as Float32Array;
    const vectors: Vectors = {
      n: meta.n,
      dims: meta.dims,
      metric: meta.metric,
      data: a.vectors as Float32Array,
      squares,
    };
    return new RetrievalIndex(
      meta,
      excerpts,
      vectors,
      a.centre as Float32Array,
      profiles,
      a.reference as Int32Array,
      lens,
      store,
    );
  }

  private static async build(
    lens: ConceptLens,
    settings: IndexSettings,
    excerpts: Excerpt[],
    key: string,
    store: IndexStore | undefined,
  ): Promise<RetrievalIndex> {
    const started = Date.now();
    const layer = lens.classifier.layer(settings.layer);
    const dims = pooledSize(settings.pooling, layer.shape, layer.axes);
    const n = excerpts.length;
    const data = new Float32Array(n * dims);
    // Windows in chunks: rolls of one chunk at a time, activations pooled batch by batch, never
    // stored whole. Small corpora go through the activation cache (TCAV and discovery may have
    // computed many of those windows already); large ones bypass it, which at layer3 of ASAP
    // would otherwise take 726 MB of disk.
    const chunk = 512;
    const layerBytes = n * layer.shape.reduce((a, b) => a * b, 1) * 4;
    const viaCache = lens.cache !== undefined && layerBytes <= MAX_CACHED_LAYER_BYTES;
    const progress = lens.progress;
    const stage = `${settings.layer}: index activations`;
    if (!viaCache) progress.start(stage, n);
    try {
      for (let start = 0; start < n; start += chunk) {
        const part = excerpts.slice(start, start + chunk);
        const out = (from: number, count: number) =>
          data.subarray((start + from) * dims, (start + from + count) * dims);
        if (viaCache) {
          const acts = await lens.activations(lens.corpusItems(part), [settings.layer], stage);
          const values = acts.layers[settings.layer];
          poolActivations(
            values,
            part.length,
            layer.shape,
            layer.axes,
            settings.pooling,
            out(0, part.length),
          );
          continue;
        }
        const rolls = lens.index.rolls(part);
        const layers = [settings.layer];
        for await (const batch of activations(
          lens.classifier,
          part.length,
          (i) => rolls[i],
          layers,
        )) {
          const values = batch.activations[settings.layer];
          poolActivations(
            values,
            batch.n,
            layer.shape,
            layer.axes,
            settings.pooling,
            out(batch.start, batch.n),
          );
          progress.tick(batch.n);
        }
      }
    } finally {
      if (!viaCache) progress.stop();
    }
    const activationSeconds = (Date.now() - started) / 1000;
    const centre =
      settings.metric === 'euclidean' ? meanRow(data, n, dims) : new Float32Array(dims);
    const vectors = prepareVectors(data, n, dims, settings.metric, centre);
    const rng = new Rng(`${key}/reference`);
    const reference = referenceSample(n, settings.referenceSize, () => rng.next());
    const profiles = new Profiles(n, { near: settings.near, levels: settings.levels });
    progress.start(`${settings.layer}: index distances`, n);
    try {
      await forEachDistanceBlock(vectors, vectors, (start, count, block) => {
        for (let r = 0; r < count; r++)
          profiles.setFromRow(start + r, block.subarray(r * n, (r + 1) * n), start + r, reference);
        progress.tick(count);
      });
    } finally {
      progress.stop();
    }
    const meta: IndexMeta = {
      format: FORMAT,
      key,
      model: lens.classifier.sha256,
      layer: settings.layer,
      shape: layer.shape,
      pooling: settings.pooling,
      metric: settings.metric,
      dims,
      n,
      near: settings.near,
      levels: settings.levels,
      referenceSize: reference.length,
      buildSeconds: (Date.now() - started) / 1000,
      activationSeconds,
      distanceSeconds: (Date.now() - started) / 1000 - activationSeconds,
    };
    if (store) {
      storeQuietly(store, () =>
        encodeBundle(meta, {
          vectors: vectors.data,
          squares: vectors.squares,
          centre,
          reference,
          ...Object.fromEntries(
            Object.entries(profiles.arrays()).map(([k, v]) => [`profile.${k}`, v]),
          ),
        }),
      );
    }
    return new RetrievalIndex(meta, excerpts, vectors, centre, profiles, reference, lens, store);
  }

  /** Pooled activation vectors of items (through the lens's activation cache), [m x dims], raw. */
  async embed(items: readonly LensItem[], stage = 'query activations'): Promise<Float32Array> {
    const layer = this.lens.classifier.layer(this.meta.layer);
    const acts = await this.lens.activations(items, [this.meta.layer], stage);
    return poolActivations(
      acts.layers[this.meta.layer],
      items.length,
      layer.shape,
      layer.axes,
      this.meta.pooling,
    );
  }

  /** Distances from raw query vectors [m x dims] to every window: [m x n]. */
  async queryRows(raw: Float32Array, m: number): Promise<Float32Array> {
    const q = prepareVectors(raw.slice(), m, this.meta.dims, this.meta.metric, this.centre);
    return distances(q, this.vectors);
  }

  /** Distances from corpus windows [start, start + count) to every window. */
  corpusRows(start: number, count: number): Promise<Float32Array> {
    return distances(sliceVectors(this.vectors, start, count), this.vectors);
  }

  /** The owner of a distance row: a corpus window (`self`), or a point outside the corpus. */
  owner(row: Float32Array, self = -1): Owner {
    if (self >= 0) return { row, profiles: this.profiles, at: self, self };
    const profiles = new Profiles(1, this.profiles.shape);
    profiles.setFromRow(0, row, -1, this.reference);
    return { row, profiles, at: 0, self: -1 };
  }

  /** The k best windows for one distance row (see `owner`), best first. */
  search(row: Float32Array, options: SearchOptions, self = -1): Hit[] {
    const owner = this.owner(row, self);
    const top = scaledNeighbours(owner, this.profiles, options.scaling, options.k, options.skip);
    const hits: Hit[] = [];
    for (let r = 0; r < top.size; r++) {
      const i = top.ids[r];
      hits.push({ index: i, distance: row[i], scaled: top.scores[r] });
    }
    return hits;
  }

  /** Secondary distances from one row to every window (for evaluations that need all of them). */
  scaledRow(row: Float32Array, scaling: Scaling, self = -1): Float64Array {
    return scaledRow(this.owner(row, self), this.profiles, scaling);
  }

  /**
   * The k-occurrence of the corpus's windows under each scaling, for each k: every window's k
   * nearest other windows (one more pass over all distances, block by block, with the pruned
   * search of scaled.ts). Cached beside the index.
   */
  async hubness(
    ks: readonly number[] = [5, 10],
    scalings: readonly Scaling[] = ['none', 'mp-empirical', 'mp-gaussian'],
  ): Promise<HubnessReport> {
    const reportStore = this.store && {
      cache: this.store.cache,
      rel: `${this.store.rel}.hubness-${ks.join('-')}-${scalings.join('-')}.json`,
    };
    const stored = reportStore?.cache.readFile(reportStore.rel);
    if (stored) {
      try {
        const cached = JSON.parse(stored.toString('utf8')) as {
          key: string;
          report: HubnessReport;
        };
        // JSON cannot hold NaN, but 1e999 parses to Infinity: such a report is computed again.
        if (cached.key === this.meta.key && finiteNumbers(cached.report)) return cached.report;
      } catch {
        // Rebuilt below.
      }
    }
    const lists = await this.neighbourLists(Math.max(...ks), scalings);
    const report: HubnessReport = {
      layer: this.meta.layer,
      pooling: this.meta.pooling,
      metric: this.meta.metric,
      windows: this.n,
      scalings: scalings.map((scaling) => ({
        scaling,
        occurrence: ks.map((k) =>
          summarizeKOccurrence(kOccurrence(lists[scaling], this.n, Math.max(...ks), k), k),
        ),
      })),
    };
    if (reportStore)
      storeQuietly(reportStore, () =>
        Buffer.from(JSON.stringify({ key: this.meta.key, report }), 'utf8'),
      );
    return report;
  }

  /** Every window's `width` nearest other windows under each scaling: [n x width] each. */
  async neighbourLists(
    width: number,
    scalings: readonly Scaling[],
  ): Promise<Record<Scaling, Int32Array>> {
    const n = this.n;
    const lists = Object.fromEntries(
      scalings.map((s) => [s, new Int32Array(n * width).fill(-1)]),
    ) as Record<Scaling, Int32Array>;
    const progress = this.lens.progress;
    progress.start(`${this.meta.layer}: hubness`, n);
    try {
      await forEachDistanceBlock(this.vectors, this.vectors, (start, count, block) => {
        for (let r = 0; r < count; r++) {
          const i = start + r;
          const owner: Owner = {
            row: block.subarray(r * n, (r + 1) * n),
            profiles: this.profiles,
            at: i,
            self: i,
          };
          for (const s of scalings) {
            const top = scaledNeighbours(owner, this.profiles, s, width);
            lists[s].set(top.ids, i * width);
          }
        }
        progress.tick(count);
      });
    } finally {
      progress.stop();
    }
    return lists;
  }
}

/**
 * What the index depends on: the model (bytes and input spec), the layer and settings, whether
 * the pedal was applied, and the corpus's content (each file's bytes and the windows taken).
 */
function indexKey(
  lens: ConceptLens,
  settings: IndexSettings,
  excerpts: readonly Excerpt[],
): string {
  const files = [...new Set(excerpts.map((x) => x.file))].sort();
  const contents = files.map((f) => {
    const entry = lens.index.entries.get(f)!;
    const hash = lens.index.fileHashes?.get(f) ?? sha256(readUserFile(entry.path));
    return `${f}\t${entry.composer}\t${entry.piece}\t${hash}`;
  });
  return sha256(
    JSON.stringify({
      format: FORMAT,
      model: lens.classifier.sha256,
      input: lens.classifier.input,
      settings,
      sustain: lens.index.sustain,
      files: contents,
      windows: sha256(excerpts.map((x) => x.id).join('\n')),
    }),
  );
}

/** Where an index is kept: a file below the cache folder, written and read through its checks. */
interface IndexStore {
  cache: ActivationCache;
  rel: string;
}

/**
 * A cache write that cannot fail the run (as the activation cache): a full or read-only disk
 * leaves the index in memory for this run, with one warning; a link in the way, the cache's own
 * warning.
 */
function storeQuietly(store: IndexStore, encode: () => Uint8Array): void {
  try {
    store.cache.writeFile(store.rel, encode());
  } catch (err) {
    if (!(err instanceof FileSystemError)) throw err;
    warn(
      `retrieval index cache ${store.cache.dir}: ${err.message}; carrying on without storing it`,
      'retrieval-cache',
    );
  }
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}

function allFinite(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}

/** Whether every number in a parsed JSON value is finite. */
function finiteNumbers(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(finiteNumbers);
  if (value && typeof value === 'object') return Object.values(value).every(finiteNumbers);
  return true;
}
