import { loadCorpus, requireLabels } from '../corpus/manifest.ts';
import type { Excerpt } from '../corpus/types.ts';
import { renderRoll } from '../midi/render.ts';
import { PianoRoll, type RollLayout } from '../midi/roll.ts';
import type { Note } from '../midi/types.ts';
import { activations } from '../model/activations.ts';
import { ActivationCache } from '../model/cache.ts';
import { ComposerClassifier } from '../model/classifier.ts';
import type { DerivativeMethod, HeadModel } from '../model/head.ts';
import { rollLayoutOf } from '../model/input.ts';
import type { ModelOverrides } from '../model/spec.ts';
import type { LayerDerivatives } from '../results/results.ts';
import { UserError } from '../util/errors.ts';
import { yieldToSignals } from '../util/interrupt.ts';
import { sha256 } from '../util/files.ts';
import { silentProgress, type Progress } from '../util/progress.ts';
import { CorpusIndex } from './corpus-index.ts';

/** Something the model can look at: a corpus window or a concept example, with a stable id. */
export interface LensItem {
  id: string;
  roll: PianoRoll;
}

/** Logits and layer activations of a list of items, row-major [n x size]. */
export interface ItemActivations {
  n: number;
  logits: Float32Array;
  layers: Record<string, Float32Array>;
  sizes: Record<string, number>;
}

export interface LensOptions {
  model: string;
  corpus: string;
  root?: string;
  /** Restrict the corpus to these composers (default: the model's labels present in it). */
  composers?: string[];
  overrides?: ModelOverrides;
  /** Activation cache folder; `false` disables the cache. */
  cacheDir?: string | false;
  sustain?: boolean;
  progress?: Progress;
  batchSize?: number;
  /** How heads take derivatives (default 'exact', falling back to finite differences per layer). */
  derivatives?: DerivativeMethod;
  /** Where one-line notices go (a layer falling back to finite differences); default: nowhere. */
  log?: (line: string) => void;
}

/**
 * The interpreter object (in the manner of Captum's TCAV class): one model, one corpus, one
 * activation cache, shared by TCAV and discovery so that nothing is computed twice in a run.
 */
export class ConceptLens {
  private readonly noted = new Set<string>();
  private constructor(
    readonly classifier: ComposerClassifier,
    readonly index: CorpusIndex,
    readonly layout: RollLayout,
    readonly cache: ActivationCache | undefined,
    readonly progress: Progress,
    private readonly batchSize: number,
    private readonly log: (line: string) => void,
  ) {}

  static async open(options: LensOptions): Promise<ConceptLens> {
    const classifier = await ComposerClassifier.load(options.model, options.overrides);
    classifier.derivatives = options.derivatives ?? 'exact';
    const corpus = loadCorpus(options.corpus, { root: options.root, composers: options.composers });
    requireLabels(corpus, options.corpus, 'this command');
    const known = new Set(classifier.labels);
    const usable = corpus.entries.filter((e) => known.has(e.composer));
    if (usable.length === 0) {
      const composers = [...new Set(corpus.entries.map((e) => e.composer))].sort().join(', ');
      throw new UserError(
        `${options.corpus}: none of its composers (${composers}) is a label of the model (${classifier.labels.join(', ')})`,
      );
    }
    const layout = rollLayoutOf(classifier.input);
    const progress = options.progress ?? silentProgress;
    const cache = options.cacheDir === false ? undefined : new ActivationCache(options.cacheDir);
    const index = await CorpusIndex.build(
      { ...corpus, entries: usable },
      layout,
      classifier.input.windowFrames,
      { sustain: options.sustain, progress, cache },
    );
    return new ConceptLens(
      classifier,
      index,
      layout,
      cache,
      progress,
      options.batchSize ?? 32,
      options.log ?? (() => {}),
    );
  }

  get labels(): string[] {
    return this.classifier.labels;
  }

  /** Composers that are both model labels and present in the corpus. */
  targets(requested?: string[]): string[] {
    const present = this.index.composers();
    if (!requested || requested.length === 0) return this.labels.filter((l) => present.includes(l));
    const bad = requested.filter((t) => !present.includes(t));
    if (bad.length > 0) {
      throw new UserError(
        `--targets: ${bad.join(', ')} not among the model's labels present in the corpus (${present.join(', ')})`,
      );
    }
    return requested;
  }

  /** Corpus windows as lens items; the id carries a hash of the roll, so a changed file is recomputed. */
  corpusItems(excerpts: readonly Excerpt[]): LensItem[] {
    return this.index.rolls(excerpts).map((roll, i) => item(excerpts[i].id, roll));
  }

  /**
   * `corpusItems` for long stages: lets a pending Ctrl-C act between files. Prefer it wherever
   * more than a few dozen windows are rendered (tens of corpus files take seconds to read).
   */
  async corpusItemsAsync(excerpts: readonly Excerpt[]): Promise<LensItem[]> {
    const rolls = await this.index.rollsAsync(excerpts);
    const out: LensItem[] = [];
    for (const [i, roll] of rolls.entries()) {
      out.push(item(excerpts[i].id, roll));
      await yieldToSignals();
    }
    return out;
  }

  /** Notes (starting at 0) rendered into one model window. */
  notesItem(id: string, notes: readonly Note[]): LensItem {
    const roll = renderRoll(notes, this.layout).slice(0, this.classifier.input.windowFrames);
    return item(id, roll);
  }

  /** Logits and activations of items at the given layers, through the cache. */
  async activations(
    items: readonly LensItem[],
    layers: string[],
    stage = 'activations',
  ): Promise<ItemActivations> {
    const sizes = Object.fromEntries(
      layers.map((l) => [l, this.classifier.layer(l).shape.reduce((a, b) => a * b, 1)]),
    );
    const out: ItemActivations = {
      n: items.length,
      logits: new Float32Array(items.length * this.classifier.classes),
      layers: Object.fromEntries(layers.map((l) => [l, new Float32Array(items.length * sizes[l])])),
      sizes,
    };
    const progress = stageProgress(this.progress, stage);
    for await (const batch of activations(
      this.classifier,
      items.length,
      (i) => items[i].roll,
      layers,
      {
        batchSize: this.batchSize,
        cache: this.cache,
        ids: (i) => items[i].id,
        progress,
      },
    )) {
      out.logits.set(batch.logits, batch.start * this.classifier.classes);
      for (const l of layers) out.layers[l].set(batch.activations[l], batch.start * sizes[l]);
    }
    return out;
  }

  /**
   * Activations of many corpus windows at one layer, chunk by chunk and without the cache: for
   * passes over thousands of windows whose activations are used once (TCAV's mean gradients), so
   * neither memory nor the cache folder grows with the corpus.
   */
  async *streamActivations(
    excerpts: readonly Excerpt[],
    layer: string,
    chunk = 256,
  ): AsyncGenerator<{ acts: Float32Array; n: number }> {
    for (let first = 0; first < excerpts.length; first += chunk) {
      const part = excerpts.slice(first, first + chunk);
      const rolls = await this.index.rollsAsync(part);
      for await (const batch of activations(
        this.classifier,
        part.length,
        (i) => rolls[i],
        [layer],
        {
          batchSize: this.batchSize,
        },
      )) {
        yield { acts: batch.activations[layer], n: batch.n };
      }
    }
  }

  /** Say `line` once per `key` through the lens's log (stderr in the CLI). */
  note(key: string, line: string): void {
    if (this.noted.has(key)) return;
    this.noted.add(key);
    this.log(line);
  }

  /** The head from a layer; says once, through `log`, when its derivatives fell back to finite differences. */
  async head(layer: string): Promise<HeadModel> {
    const head = await this.classifier.head(layer);
    if (head.derivativesNote && !this.noted.has(layer)) {
      this.noted.add(layer);
      this.log(`${layer}: ${head.derivativesNote}`);
    }
    return head;
  }

  /** How each layer's derivatives were taken, for results.json (layers whose heads were built). */
  async derivativesRecord(layers: string[]): Promise<LayerDerivatives[]> {
    const out: LayerDerivatives[] = [];
    for (const name of layers) {
      const head = await this.classifier.head(name);
      out.push({
        name,
        shape: head.layer.shape,
        derivatives: head.derivatives,
        ...(head.derivativesNote ? { note: head.derivativesNote } : {}),
      });
    }
    return out;
  }

  async close(): Promise<void> {
    await this.classifier.release();
  }
}

function item(id: string, roll: PianoRoll): LensItem {
  const bytes = new Uint8Array(roll.data.buffer, roll.data.byteOffset, roll.data.byteLength);
  return { id: `${id}#${sha256(bytes).slice(0, 16)}`, roll };
}

/** Name the progress stage (the generic one says "activations"). */
function stageProgress(progress: Progress, stage: string): Progress {
  return {
    start: (_s, total) => progress.start(stage, total),
    tick: (n) => progress.tick(n),
    stop: () => progress.stop(),
  };
}
