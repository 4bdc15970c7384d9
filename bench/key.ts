/**
 * The key finder (src/key) on pieces whose key is known: the preludes and fugues of the
 * Well-Tempered Clavier in ASAP, whose key follows from the BWV number (test/shared/wtc-keys.ts).
 *
 *   npm run bench:key                     global key of each score MIDI file, both profile pairs
 *   npm run bench:key -- --performances   the performance MIDI files too
 *
 * Options: --corpus <asap root> (default ../shared/corpora/asap). Prints one row per piece and the
 * accuracy: exact (tonic and mode), and the usual partial credits (relative, parallel, fifth away).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { estimateKey, keyName, PROFILE_NAMES, type Key } from '../src/key/index.ts';
import { readMidiFile } from '../src/midi/read.ts';
import { wtcPieces, type WtcKey } from '../test/shared/wtc-keys.ts';
import { args, opt } from './args.ts';

const corpus = opt('corpus', '../shared/corpora/asap');
const performances = args.includes('--performances');

/** How an estimate relates to the true key: exact, a fifth away, relative, parallel, or other. */
export function relation(found: Key, truth: WtcKey): string {
  if (found.tonic === truth.tonic && found.mode === truth.mode) return 'exact';
  const d = (found.tonic - truth.tonic + 12) % 12;
  if (found.mode === truth.mode && (d === 7 || d === 5)) return 'fifth';
  if (truth.mode === 'major' && found.mode === 'minor' && d === 9) return 'relative';
  if (truth.mode === 'minor' && found.mode === 'major' && d === 3) return 'relative';
  if (found.mode !== truth.mode && d === 0) return 'parallel';
  return 'other';
}

const pieces = wtcPieces(corpus);
if (pieces.length === 0) {
  console.error(`no Bach/Prelude or Bach/Fugue folders of BWV 846-893 under ${corpus}`);
  process.exit(2);
}
const rows: { piece: string; truth: string; found: Record<string, string> }[] = [];
const tally: Record<string, Record<string, number>> = {};
for (const kind of performances ? ['score', 'performance'] : ['score'])
  for (const profile of PROFILE_NAMES) tally[`${kind}/${profile}`] = {};
for (const p of pieces) {
  const files = readdirSync(p.folder)
    .filter((f) => f.endsWith('.mid'))
    .sort()
    .filter((f) => performances || f === 'midi_score.mid');
  for (const f of files) {
    const kind = f === 'midi_score.mid' ? 'score' : 'performance';
    const notes = readMidiFile(join(p.folder, f)).notes;
    const found: Record<string, string> = {};
    for (const profile of PROFILE_NAMES) {
      const k = estimateKey(notes, profile)!.key;
      const r = relation(k, p.key);
      const t = tally[`${kind}/${profile}`];
      t[r] = (t[r] ?? 0) + 1;
      t.total = (t.total ?? 0) + 1;
      found[profile] = `${keyName(k)}${r === 'exact' ? '' : ` (${r})`}`;
    }
    rows.push({
      piece: `${p.form} BWV ${p.bwv}${kind === 'score' ? '' : ` ${f}`}`,
      truth: p.key.name,
      found,
    });
  }
}

console.log(`| piece | key (BWV) | ${PROFILE_NAMES.join(' | ')} |`);
console.log(`| --- | --- | ${PROFILE_NAMES.map(() => '---').join(' | ')} |`);
for (const r of rows)
  console.log(`| ${r.piece} | ${r.truth} | ${PROFILE_NAMES.map((n) => r.found[n]).join(' | ')} |`);
console.log('\n| files | profiles | exact | fifth | relative | parallel | other | total |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const [name, t] of Object.entries(tally)) {
  const [kind, profile] = name.split('/');
  const pct = (x = 0) => `${x} (${((100 * x) / t.total).toFixed(1)} %)`;
  console.log(
    `| ${kind} | ${profile} | ${pct(t.exact)} | ${pct(t.fifth)} | ${pct(t.relative)} | ${pct(t.parallel)} | ${pct(t.other)} | ${t.total} |`,
  );
}
