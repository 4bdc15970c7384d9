/**
 * Print the notes of some bars of a MIDI file as text, for labelling textures by reading the notes
 * (test/fixtures/detect/labels.yaml): the labeller reads this, never the detectors' output.
 *
 *   npx tsx scripts/print-bars.ts <file.mid> <first bar> [last bar]
 *
 * Per bar: the meter, then each hand (the staff tracks of a score MIDI: RH = the track with the
 * higher mean pitch; one-track files are split at middle C, as the detectors do) as attacks
 * `beat:pitches(duration)`: the beat is 1-based within the bar and the duration is in beats, both
 * in the meter's denominator (so in 6/8, beat 4 is the second dotted quarter). Pitches use sharps.
 */
import { readMidiFile } from '../src/midi/read.ts';
import { barToSeconds, secondsToBar } from '../src/midi/timemap.ts';
import type { Note, TimeMap } from '../src/midi/types.ts';
import { onsetGroups, splitHands } from '../src/detect/notes.ts';

const NAMES = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];
export const pitchName = (p: number) => `${NAMES[p % 12]}${Math.floor(p / 12) - 1}`;

function fmt(x: number): string {
  const r = Math.round(x * 100) / 100;
  return String(r);
}

export function printBars(notes: readonly Note[], map: TimeMap, first: number, last: number) {
  const lines: string[] = [];
  const hands = splitHands(notes);
  for (let bar = first; bar <= last; bar++) {
    const start = barToSeconds(map, bar);
    const end = barToSeconds(map, bar + 1);
    const ts = [...map.timeSignatures].reverse().find((t) => t.bar <= bar)!;
    lines.push(`bar ${bar} (${ts.numerator}/${ts.denominator})`);
    for (const [name, part] of [
      ['RH', hands.upper],
      ['LH', hands.lower],
    ] as const) {
      const inBar = part.filter((n) => n.onset >= start - 1e-6 && n.onset < end - 1e-6);
      const heldIn = part.filter((n) => n.onset < start - 1e-6 && n.offset > start + 1e-3);
      const beatSec = (t: number) => secondsToBar(map, t);
      const beatLen = (n: Note) => {
        // Duration in beats of the meter at the note's onset.
        const b0 = beatSec(n.onset);
        const b1 = beatSec(n.offset);
        return (b1.bar - b0.bar) * ts.numerator + (b1.beat - b0.beat);
      };
      const groups = onsetGroups(inBar).map((g) => {
        const beat = beatSec(g.onset).beat;
        const notes = [...g.notes].sort((a, b) => a.pitch - b.pitch);
        const durs = new Set(notes.map((n) => fmt(beatLen(n))));
        const body =
          durs.size === 1
            ? `${notes.map((n) => pitchName(n.pitch)).join(' ')}(${[...durs][0]})`
            : notes.map((n) => `${pitchName(n.pitch)}(${fmt(beatLen(n))})`).join(' ');
        return `${fmt(beat)}:${body}`;
      });
      const held = heldIn.length
        ? ` [held: ${heldIn.map((n) => pitchName(n.pitch)).join(' ')}]`
        : '';
      lines.push(`  ${name}${held} ${groups.join(' | ')}`);
    }
  }
  return lines.join('\n');
}

const isEntry = process.argv[1] && /print-bars\.ts$/.test(process.argv[1]);
if (isEntry) {
  const [file, a, b] = process.argv.slice(2);
  if (!file || !a) {
    process.stderr.write(
      'usage: npx tsx scripts/print-bars.ts <file.mid> <first bar> [last bar]\n',
    );
    process.exit(2);
  }
  const content = readMidiFile(file);
  process.stdout.write(printBars(content.notes, content.timeMap, Number(a), Number(b ?? a)) + '\n');
}
