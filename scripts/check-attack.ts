/**
 * Checks an attack's edits against the notes, independently of the attack's code (issue 20,
 * "musically small edits"). It reads the attack's results.json and, for every successful attack,
 * the excerpt's notes from the corpus file itself, applies the listed edits (the note before and
 * after each, `from` / `to`) and counts, per search:
 *
 *  - octave displacements: an edited note whose pitch moved by 12 semitones or more; those made in
 *    the small-edit tier (where none is allowed) are counted apart from those of the second tier
 *    (made only after the small-edit search failed within the budget);
 *  - added notes, or notes moved to another pitch class, whose pitch class is outside the local key (the key estimated from the
 *    whole file's notes, src/key, at the note's onset; scales written out here) and not marked
 *    chromatic;
 *  - same-pitch overlaps: an edited or added note overlapping another note of its pitch;
 *  - positions: the beat outside 1 .. numerator of its bar, the bar or beat not what this script
 *    computes from the file's own tempo and meter events, or a score excerpt's edit without a bar;
 *  - for information: notes held longer than every note starting within 2 s, and added notes
 *    dissonant (second, tritone, seventh) with a note sounding, with and without the attack's flag.
 *
 *   npx tsx scripts/check-attack.ts --results /tmp/attack/results.json --corpus ../shared/corpora/asap
 *
 * Exit code 1 when a forbidden violation is found (small-tier octave, out-of-key note, overlap,
 * bad position), 0 otherwise.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { localKeys, type LocalKeys } from '../src/key/estimate.ts';
import { readMidiFile } from '../src/midi/read.ts';
import type { MidiContent } from '../src/midi/types.ts';
import type { AttackResults } from '../src/results/attack.ts';

function opt(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && process.argv[i + 1]) return process.argv[i + 1];
  if (fallback === undefined) {
    console.error(`check-attack: --${name} is required`);
    process.exit(2);
  }
  return fallback;
}

const resultsPath = opt('results');
const corpus = opt('corpus', '../shared/corpora/asap');
const raw = JSON.parse(readFileSync(resultsPath, 'utf8')) as { attack?: AttackResults };
const attack = raw.attack ?? (raw as unknown as AttackResults);

/** Pitch classes of a key written out here (major scale; minor: natural plus raised 6th and 7th). */
function keyClasses(tonic: number, mode: string): Set<number> {
  const steps = mode === 'major' ? [0, 2, 4, 5, 7, 9, 11] : [0, 2, 3, 5, 7, 8, 9, 10, 11];
  return new Set(steps.map((s) => (tonic + s) % 12));
}

/**
 * Seconds at a bar and beat, and the meter's numerator there, from the file's own tempo and meter
 * events, computed here from ticks.
 */
function secondsAt(
  content: MidiContent,
  bar: number,
  beat: number,
): { seconds: number; num: number } {
  const map = content.timeMap;
  let ts = map.timeSignatures[0];
  for (const t of map.timeSignatures) if (t.bar <= bar) ts = t;
  const beatTicks = (map.ticksPerBeat * 4) / ts.denominator;
  const tick = ts.tick + (bar - ts.bar) * ts.numerator * beatTicks + (beat - 1) * beatTicks;
  let tempo = map.tempos[0];
  for (const t of map.tempos) if (t.tick <= tick) tempo = t;
  const seconds =
    tempo.seconds + ((tick - tempo.tick) * tempo.microsecondsPerBeat) / 1e6 / map.ticksPerBeat;
  return { seconds, num: ts.numerator };
}

interface Span {
  pitch: number;
  onset: number;
  offset: number;
}

const counts: Record<string, Record<string, number>> = {};
const examples = new Map<string, string[]>();
const count = (search: string, what: string, example?: string) => {
  counts[search] ??= {};
  counts[search][what] = (counts[search][what] ?? 0) + 1;
  const key = `${search}: ${what}`;
  if (!examples.has(key)) examples.set(key, []);
  if (example && examples.get(key)!.length < 3) examples.get(key)!.push(example);
};

const contents = new Map<string, MidiContent>();
const keysOf = new Map<string, LocalKeys | null>();
for (const x of attack.attacked) {
  for (const [search, o] of Object.entries(x.outcomes)) {
    if (!o?.success || !o.list) continue;
    count(search, 'successful attacks');
    if (!contents.has(x.file)) contents.set(x.file, readMidiFile(join(corpus, x.file)));
    const content = contents.get(x.file)!;
    const keyId = `${x.file}/${x.bars ? 'bars' : 'seconds'}`;
    if (!keysOf.has(keyId))
      keysOf.set(keyId, localKeys(content.notes, { timeMap: content.timeMap, bars: !!x.bars }));
    const keys = keysOf.get(keyId)!;
    // The excerpt's notes, seconds from its start, clipped to the model's window.
    const end = x.start + 20;
    const notes: (Span & { edited?: boolean; kind?: string; flags?: string[]; from?: Span })[] =
      content.notes
        .map((n) => ({
          pitch: n.pitch,
          onset: Math.max(n.onset, x.start) - x.start,
          offset: Math.min(n.offset, end) - x.start,
        }))
        .filter((n) => n.offset > n.onset);
    const original = notes.slice();
    const near = (a: Span, b: Span) =>
      a.pitch === b.pitch &&
      Math.abs(a.onset - b.onset) < 4e-3 &&
      Math.abs(a.offset - b.offset) < 4e-3;
    const where = `${x.file} ${x.start}-${x.end} s`;
    for (const e of o.list) {
      count(search, 'edits');
      count(search, `kind ${e.kind}`);
      if (e.from) {
        const i = notes.findIndex((n) => !n.edited && near(n, e.from!));
        if (i < 0) count(search, 'edited note not found in the file', `${where}: ${e.text}`);
        else notes.splice(i, 1);
      }
      if (e.to)
        notes.push({ ...e.to, edited: true, kind: e.kind, flags: e.flags ?? [], from: e.from });
      if (e.from && e.to && Math.abs(e.to.pitch - e.from.pitch) >= 12) {
        count(search, 'octave displacements');
        count(
          search,
          o.tier === 'any'
            ? 'octave displacements, second tier'
            : 'octave displacements, small tier',
          `${where}: ${e.text}`,
        );
      }
      // A new pitch class: an added note, or a note moved to another pitch class (an octave keeps
      // the score's own pitch class, chromatic or not).
      const newPitch = e.to && (!e.from || e.to.pitch % 12 !== e.from.pitch % 12);
      if (newPitch && keys) {
        const k = keys.keyAt(x.start + e.to!.onset);
        if (!keyClasses(k.tonic, k.mode).has(e.to!.pitch % 12)) {
          if (e.flags?.includes('chromatic')) count(search, 'out of key, marked chromatic');
          else count(search, 'added/moved note out of key, not marked', `${where}: ${e.text}`);
        }
      }
      if (x.bars) {
        if (!e.bar) count(search, 'score edit without a bar', `${where}: ${e.text}`);
        else {
          const p = secondsAt(content, e.bar.bar, e.bar.beat);
          if (!(e.bar.beat >= 1 && e.bar.beat < p.num + 1))
            count(search, 'beat beyond its bar', `${where}: ${e.text}`);
          // The time rounded to 1 ms, the beat floored to 1/1000, the excerpt's grid 1/960 s.
          if (Math.abs(p.seconds - e.time) > 3e-3)
            count(
              search,
              'bar/beat not the file’s',
              `${where}: ${e.text} (file: ${p.seconds.toFixed(3)} s)`,
            );
          const shown = /beat (\d+)/.exec(e.text);
          if (shown && Number(shown[1]) > p.num)
            count(search, 'beat beyond its bar in the text', `${where}: ${e.text}`);
        }
      }
    }
    // Overlaps, long notes and dissonances of the edited notes in the edited excerpt.
    for (const n of notes.filter((m) => m.edited)) {
      const other = notes.filter((m) => m !== n);
      if (
        other.some(
          (m) => m.pitch === n.pitch && m.onset < n.offset - 1e-6 && n.onset < m.offset - 1e-6,
        )
      )
        count(
          search,
          'same-pitch overlaps',
          `${where}: ${n.pitch} ${n.onset.toFixed(3)}-${n.offset.toFixed(3)}`,
        );
      const around = other.filter((m) => Math.abs(m.onset - n.onset) <= 2);
      if (
        around.length &&
        n.offset - n.onset > Math.max(...around.map((m) => m.offset - m.onset)) + 1e-3
      )
        count(
          search,
          `info: ${n.kind} note longer than the notes around it, ${n.flags?.includes('long') ? 'flagged' : n.from && Math.abs(n.from.offset - n.from.onset - (n.offset - n.onset)) < 2e-3 ? 'its length as in the score' : 'not flagged'}`,
          `${where}: ${n.pitch} at ${n.onset.toFixed(3)}-${n.offset.toFixed(3)} s`,
        );
      const sounding = other.filter((m) => m.onset <= n.onset + 1e-6 && m.offset > n.onset + 1e-6);
      const dissonant = <T extends Span>(p: number, list: T[]) =>
        list.filter((m) => [1, 2, 6, 10, 11].includes(Math.abs(m.pitch - p) % 12));
      const clashing = dissonant(n.pitch, sounding);
      // An added note judged consonant may clash with a note a later edit put there (that edit
      // carries the flag); only a clash with an unedited note of the score must be flagged. A
      // moved or resized note that clashed at its onset in the score already adds no dissonance.
      const withScore = clashing.some((m) => !m.edited);
      const before = n.from
        ? dissonant(
            n.from.pitch,
            original.filter(
              (m) =>
                m !== n.from &&
                !near(m, n.from!) &&
                m.onset <= n.from!.onset + 1e-6 &&
                m.offset > n.from!.onset + 1e-6,
            ),
          ).length > 0
        : false;
      if (clashing.length > 0)
        count(
          search,
          n.kind === 'add'
            ? `info: added note dissonant with a sounding note, ${n.flags?.includes('dissonant') ? 'flagged' : withScore ? 'not flagged' : 'clashing only with later edits'}`
            : `info: ${n.kind} note dissonant with a sounding note, ${before ? 'as in the score' : 'new'}`,
          `${where}: ${n.pitch} at ${n.onset.toFixed(3)} s with ${sounding.map((m) => m.pitch).join(' ')}`,
        );
    }
  }
}

const forbidden = [
  'octave displacements, small tier',
  'added/moved note out of key, not marked',
  'same-pitch overlaps',
  'beat beyond its bar',
  'beat beyond its bar in the text',
  'bar/beat not the file’s',
  'score edit without a bar',
  'edited note not found in the file',
];
const rows = [...new Set(Object.values(counts).flatMap((c) => Object.keys(c)))].sort();
const searches = Object.keys(counts);
console.log(`| check | ${searches.join(' | ')} |`);
console.log(`| --- | ${searches.map(() => '---').join(' | ')} |`);
for (const r of rows)
  console.log(`| ${r} | ${searches.map((s) => counts[s][r] ?? 0).join(' | ')} |`);
for (const r of forbidden)
  if (!rows.includes(r)) console.log(`| ${r} | ${searches.map(() => 0).join(' | ')} |`);
const shown = [...examples].filter(([, list]) => list.length > 0);
if (shown.length)
  console.log(
    `\nExamples (up to three of each):\n${shown.map(([k, list]) => list.map((e) => `  ${k}: ${e}`).join('\n')).join('\n')}`,
  );
const bad = searches.some((s) => forbidden.some((f) => (counts[s][f] ?? 0) > 0));
process.exit(bad ? 1 : 0);
