import type { Argv, CommandModule } from 'yargs';
import { detectPiece, TEXTURES, type BarTextures } from '../../detect/index.ts';
import { readMidiFile } from '../../midi/read.ts';
import { UserError } from '../../util/errors.ts';
import { log, printResult } from '../output.ts';

interface DetectArgs {
  midi: string;
  bars?: string;
  sustain: boolean;
  json: boolean;
}

/**
 * `concept-lens detect piece.mid [--bars a-b] [--json]`: per bar, the textures the symbolic
 * detectors (src/detect) find in the notes. No model: this is what the notes say, for a musician to
 * check against the score and against what a model's concept lanes claim.
 */
export const detectCommand: CommandModule<object, DetectArgs> = {
  command: 'detect <midi>',
  describe:
    'Per bar, which textures the notes hold (octaves, Alberti bass, trills, imitation...), by rules over the notes, no model',
  builder: (y) =>
    y
      .positional('midi', { type: 'string', demandOption: true, describe: 'MIDI file' })
      .option('bars', {
        type: 'string',
        describe: 'Only these bars: first-last (1-based, inclusive), e.g. 9-12, or one bar',
      })
      .option('sustain', {
        type: 'boolean',
        default: false,
        describe: 'Apply the sustain pedal (CC64) to note lengths',
      })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'Machine-readable output on stdout',
      }) as unknown as Argv<DetectArgs>,
  handler: (args) => {
    const range = parseBars(args.bars);
    const content = readMidiFile(args.midi, { sustain: args.sustain });
    if (!content.timeMap.explicitMeter)
      log(
        `${args.midi}: no time signature in the file; bars are counted in 4/4 at its tempo and may not match a score`,
      );
    const piece = detectPiece(content.notes, content.timeMap);
    const last = piece.bars.length;
    if (range && range[0] > last)
      throw new UserError(`--bars ${args.bars}: ${args.midi} has ${last} bars`);
    const bars = piece.bars.filter((b) => !range || (b.bar >= range[0] && b.bar <= range[1]));
    const json = {
      file: args.midi,
      bars: bars.map((b) => ({
        bar: b.bar,
        start: round(b.start),
        end: round(b.end),
        textures: TEXTURES.filter((t) => b.textures[t]),
        strength: Object.fromEntries(TEXTURES.map((t) => [t, round(b.strength[t])])),
      })),
    };
    printResult(args.json, json, () => formatBars(bars));
  },
};

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** `a-b` or `a` into an inclusive bar range. */
export function parseBars(spec: string | undefined): [number, number] | undefined {
  if (spec === undefined) return undefined;
  const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(String(spec));
  const a = m ? Number(m[1]) : NaN;
  const b = m ? Number(m[2] ?? m[1]) : NaN;
  if (!(a >= 1 && b >= a))
    throw new UserError(
      `--bars ${spec}: expected first-last, e.g. 9-12 (bars count from 1, the last not before the first)`,
    );
  return [a, b];
}

function formatBars(bars: readonly BarTextures[]): string {
  const lines = [
    'bar   textures (each sounds for at least a beat of the bar; see docs/detectors.md)',
  ];
  for (const b of bars) {
    const found = TEXTURES.filter((t) => b.textures[t]);
    lines.push(`${String(b.bar).padStart(4)}  ${found.length ? found.join(', ') : '-'}`);
  }
  return lines.join('\n');
}
