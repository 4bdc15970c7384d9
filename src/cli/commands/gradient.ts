import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { gradientOfExcerpt, parseBarRange } from '../../attribution/gradient.ts';
import { readMidiFile } from '../../midi/read.ts';
import { barToSeconds } from '../../midi/timemap.ts';
import { excerptNotes } from '../../midi/write.ts';
import { ComposerClassifier } from '../../model/classifier.ts';
import type { DerivativeMethod } from '../../model/head.ts';
import type { GradientResult } from '../../results/gradient.ts';
import { publicPath } from '../../results/public-path.ts';
import { renderGradientPage } from '../../report/gradient-page.ts';
import { UserError } from '../../util/errors.ts';
import { log, printResult } from '../output.ts';
import { stagedRun } from '../staged-run.ts';
import { derivativesOption, modelOptions, overridesFromFlags, type ModelFlags } from './model.ts';

interface GradientArgs extends ModelFlags {
  model: string;
  midi: string;
  seconds?: number[];
  bars?: (string | number)[];
  composer: string;
  out: string;
  sustain: boolean;
  derivatives: DerivativeMethod;
  json: boolean;
}

function range(flag: string, values: number[] | undefined): [number, number] | undefined {
  if (values === undefined) return undefined;
  if (values.length !== 2 || !values.every(Number.isFinite) || !(values[1] > values[0]))
    throw new UserError(`--${flag}: give two numbers, start < end (got ${values.join(' ')})`);
  return [values[0], values[1]];
}

export const gradientCmd: CommandModule<object, GradientArgs> = {
  command: 'gradient <model>',
  describe:
    "The gradient of a composer's logit over one excerpt's piano roll, as a heat map in an HTML page",
  builder: (y) =>
    modelOptions(
      y.positional('model', { type: 'string', demandOption: true, describe: 'ONNX model file' }),
    )
      .option('midi', { type: 'string', demandOption: true, describe: 'MIDI file' })
      .option('seconds', {
        type: 'number',
        array: true,
        describe: 'Excerpt: start and end, seconds (default: the first model window)',
      })
      .option('bars', {
        type: 'string',
        array: true,
        describe: 'Excerpt: first and last bar, e.g. 9-12 or 9 12 (1-based, inclusive)',
      })
      .conflicts('seconds', 'bars')
      .option('composer', {
        type: 'string',
        demandOption: true,
        describe: "Whose logit (one of the model's labels)",
      })
      .option('out', { type: 'string', default: 'out/gradient', describe: 'Output folder' })
      .option('sustain', {
        type: 'boolean',
        default: false,
        describe: 'Apply the sustain pedal (CC64) to note lengths',
      })
      .option('derivatives', derivativesOption)
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'Print gradient.json (without the gradient array) on stdout',
      }) as unknown as Argv<GradientArgs>,
  handler: async (args) => {
    const seconds = range('seconds', args.seconds);
    const bars = args.bars === undefined ? undefined : parseBarRange(args.bars);
    // Inputs first: a bad model, file, range or composer leaves nothing behind.
    const classifier = await ComposerClassifier.load(args.model, overridesFromFlags(args));
    try {
      classifier.derivatives = args.derivatives;
      if (!classifier.labels.includes(args.composer))
        throw new UserError(
          `--composer ${args.composer}: not a label of ${args.model} (${classifier.labels.join(', ')})`,
        );
      const content = readMidiFile(args.midi, { sustain: args.sustain });
      const window = classifier.input.windowFrames / classifier.input.fps;
      let [start, end] = seconds ?? [0, Math.min(window, content.durationSeconds)];
      if (bars) {
        start = barToSeconds(content.timeMap, bars[0]);
        end = barToSeconds(content.timeMap, bars[1] + 1);
      }
      end = Math.min(end, content.durationSeconds);
      if (!(end > start))
        throw new UserError(
          `${args.midi}: the excerpt lies outside the file (${content.durationSeconds.toFixed(1)} s long)`,
        );
      const notes = excerptNotes(content.notes, start, end);
      if (notes.length === 0) throw new UserError(`${args.midi}: the excerpt holds no notes`);
      if (end - start > window + 1e-9)
        log(
          `the excerpt is ${(end - start).toFixed(1)} s; the model hears it as ${Math.ceil((end - start) / window - 1e-9)} windows of ${window.toFixed(1)} s laid end to end`,
        );
      const result = await stagedRun(args.out, async (output) => {
        const { result: partial, gradient } = await gradientOfExcerpt(
          classifier,
          notes,
          args.composer,
          end - start,
          { timeMap: content.timeMap, start },
        );
        if (partial.derivativesNote) log(partial.derivativesNote);
        const r: GradientResult = {
          model: { path: publicPath(args.model), sha256: classifier.sha256 },
          source: {
            file: publicPath(args.midi),
            start,
            end,
            ...(bars ? { bars } : {}),
            seen: end - start,
          },
          ...partial,
        };
        const bytes = Buffer.from(gradient.buffer, gradient.byteOffset, gradient.byteLength);
        output.writeText(
          'gradient.json',
          `${JSON.stringify({ ...r, gradient: { f32: bytes.toString('base64') } }, null, 1)}\n`,
        );
        output.writeText('gradient.html', renderGradientPage(r, gradient));
        return r;
      });
      printResult(args.json, result, () => {
        const c = result.classIndex;
        return `wrote ${resolve(args.out, 'gradient.html')}: ${result.composer} logit ${result.logits[c].toFixed(2)} (probability ${result.probabilities[c].toFixed(2)}), ${result.derivatives} gradient`;
      });
    } finally {
      await classifier.release();
    }
  },
};
