/**
 * The keys of the Well-Tempered Clavier, from the BWV catalogue (W. Schmieder, Bach-Werke-
 * Verzeichnis, 1950; the titles of Bach's autographs: "Das wohltemperirte Clavier", 1722, and
 * the London autograph of Book II): Book I is BWV 846-869, Book II BWV 870-893; in each book the
 * prelude-and-fugue pairs ascend chromatically from C, major before minor. Each BWV number is one
 * prelude and its fugue, in the same key. Written out by hand here as the truth the key finder is
 * measured against; nothing in src/ reads it.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const BOOK = [
  'C major',
  'C minor',
  'C♯ major',
  'C♯ minor',
  'D major',
  'D minor',
  'E♭ major',
  'E♭ minor', // Book I: prelude in E♭ minor, fugue in D♯ minor (the same pitch classes)
  'E major',
  'E minor',
  'F major',
  'F minor',
  'F♯ major',
  'F♯ minor',
  'G major',
  'G minor',
  'A♭ major',
  'G♯ minor',
  'A major',
  'A minor',
  'B♭ major',
  'B♭ minor',
  'B major',
  'B minor',
];

/** Tonic pitch class of each tonic name above (enharmonic names share one). */
const TONIC: Record<string, number> = {
  C: 0,
  'C♯': 1,
  D: 2,
  'E♭': 3,
  E: 4,
  F: 5,
  'F♯': 6,
  G: 7,
  'A♭': 8,
  'G♯': 8,
  A: 9,
  'B♭': 10,
  B: 11,
};

export interface WtcKey {
  bwv: number;
  book: 1 | 2;
  name: string;
  tonic: number;
  mode: 'major' | 'minor';
}

/** The key of BWV 846-893, or undefined for another number. */
export function wtcKey(bwv: number): WtcKey | undefined {
  const book = bwv >= 846 && bwv <= 869 ? 1 : bwv >= 870 && bwv <= 893 ? 2 : undefined;
  if (!book) return undefined;
  const name = BOOK[bwv - (book === 1 ? 846 : 870)];
  const [tonic, mode] = name.split(' ');
  return { bwv, book, name, tonic: TONIC[tonic], mode: mode as 'major' | 'minor' };
}

/** The Well-Tempered Clavier's pieces in an ASAP folder: Bach/{Prelude,Fugue}/bwv_NNN. */
export function wtcPieces(
  asap: string,
): { form: 'Prelude' | 'Fugue'; bwv: number; folder: string; key: WtcKey }[] {
  const out: { form: 'Prelude' | 'Fugue'; bwv: number; folder: string; key: WtcKey }[] = [];
  for (const form of ['Prelude', 'Fugue'] as const) {
    const dir = join(asap, 'Bach', form);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const bwv = Number(/^bwv_(\d+)$/.exec(name)?.[1]);
      const key = wtcKey(bwv);
      if (key) out.push({ form, bwv, folder: join(dir, name), key });
    }
  }
  return out;
}
