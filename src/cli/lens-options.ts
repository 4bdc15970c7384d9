import type { Argv } from 'yargs';
import { ConceptLens } from '../lens/lens.ts';
import { DEFAULT_CACHE_DIR } from '../model/cache.ts';
import type { DerivativeMethod } from '../model/head.ts';
import { stderrProgress } from '../util/progress.ts';
import {
  derivativesOption,
  modelOptions,
  overridesFromFlags,
  type ModelFlags,
} from './commands/model.ts';
import { log } from './output.ts';

// `--derivatives` lives with the model flags (model gradient uses it too); re-exported here.
export { derivativesOption };

/** Flags shared by the commands that open a model over a corpus (tcav, discover, explain). */
export interface LensFlags extends ModelFlags {
  model: string;
  corpus: string;
  root?: string;
  'cache-dir': string;
  cache: boolean;
  sustain: boolean;
  quiet: boolean;
  derivatives: DerivativeMethod;
}

export function lensOptions<T>(y: Argv<T>, defaults: { model?: string; corpus?: string } = {}) {
  return modelOptions(y)
    .option('model', {
      type: 'string',
      demandOption: !defaults.model,
      default: defaults.model,
      describe: 'ONNX composer classifier',
    })
    .option('corpus', {
      type: 'string',
      demandOption: !defaults.corpus,
      default: defaults.corpus,
      describe: 'Corpus: folder, manifest YAML, or `synthetic`',
    })
    .option('root', { type: 'string', describe: "Corpus root folder (overrides the manifest's)" })
    .option('cache-dir', {
      type: 'string',
      default: DEFAULT_CACHE_DIR,
      describe: 'Activation cache folder',
    })
    .option('cache', {
      type: 'boolean',
      default: true,
      describe: 'Use the activation cache (--no-cache to disable)',
    })
    .option('sustain', {
      type: 'boolean',
      default: false,
      describe: 'Apply the sustain pedal (CC64) to note lengths',
    })
    .option('quiet', { type: 'boolean', default: false, describe: 'No progress on stderr' })
    .option('derivatives', derivativesOption);
}

export function openLens(f: LensFlags): Promise<ConceptLens> {
  return ConceptLens.open({
    model: f.model,
    corpus: f.corpus,
    root: f.root,
    overrides: overridesFromFlags(f),
    cacheDir: f.cache ? f['cache-dir'] : false,
    sustain: f.sustain,
    progress: stderrProgress(!f.quiet),
    derivatives: f.derivatives,
    log,
  });
}
