import { describe, expect, it } from 'vitest';
import {
  generateTexture,
  TEXTURE_NAMES,
  textureParams,
} from '../../src/concepts/patterns/index.ts';
import { UserError } from '../../src/util/errors.ts';

/** Parameter sets that every texture must honour. */
const CASES: Record<string, unknown>[] = [
  {},
  {
    register: { low: 36, high: 80 },
    key: { tonic: 9, mode: 'minor' },
    beatsPerBar: 3,
    vary: true,
    seed: 5,
  },
  {
    register: { low: 21, high: 60 },
    tempo: 160,
    bars: 3,
    progression: ['ii', 'V7', 'I'],
    vary: true,
  },
  {
    register: { low: 70, high: 108 },
    seconds: 7.3,
    tempo: 72,
    key: { tonic: 6, mode: 'major' },
    vary: true,
  },
];

describe('texture generators', () => {
  for (const name of TEXTURE_NAMES) {
    describe(name, () => {
      it('is deterministic for a seed and changes with it', () => {
        const params = { seed: 11, vary: true, bars: 4 };
        const a = generateTexture(name, params);
        expect(generateTexture(name, params)).toEqual(a);
        expect(generateTexture(name, { ...params, seed: 12 })).not.toEqual(a);
        expect(a.length).toBeGreaterThan(8);
      });

      it('keeps every note in its register, on the piano and inside the length', () => {
        for (const raw of CASES) {
          const p = textureParams(name, raw);
          const end = p.seconds ?? (p.bars ?? 4) * p.beatsPerBar * (60 / p.tempo);
          const notes = generateTexture(name, raw);
          expect(notes.length).toBeGreaterThan(0);
          for (const n of notes) {
            expect(n.pitch).toBeGreaterThanOrEqual(Math.max(21, p.register.low));
            expect(n.pitch).toBeLessThanOrEqual(Math.min(108, p.register.high));
            expect(n.onset).toBeGreaterThanOrEqual(0);
            expect(n.offset).toBeGreaterThan(n.onset);
            expect(n.offset).toBeLessThanOrEqual(end + 1e-6);
            expect(n.velocity).toBeGreaterThanOrEqual(1);
            expect(n.velocity).toBeLessThanOrEqual(127);
            expect([n.track, n.channel]).toEqual([0, 0]);
          }
          // The texture fills its length: something sounds in the last bar.
          const lastBar = end - p.beatsPerBar * (60 / p.tempo);
          expect(notes.some((n) => n.onset >= lastBar - 1e-6)).toBe(true);
        }
      });

      it('varies velocities musically (accents), even without vary', () => {
        const velocities = new Set(generateTexture(name, { bars: 2 }).map((n) => n.velocity));
        expect(velocities.size).toBeGreaterThan(2);
      });
    });
  }
});

describe('texture parameters', () => {
  const cases: [string, unknown, RegExp][] = [
    ['alberti', { register: { low: 10, high: 50 } }, /^pattern alberti: register\.low: /],
    [
      'alberti',
      { register: { low: 60, high: 65 } },
      /^pattern alberti: register: high must be at least an octave/,
    ],
    [
      'chorale',
      { register: { low: 40, high: 60 } },
      /^pattern chorale: register: spans 20 semitones, the texture needs at least 26/,
    ],
    [
      'arpeggio',
      { octaves: 3, register: { low: 36, high: 60 } },
      /^pattern arpeggio: register: .* needs at least 47/,
    ],
    ['scales', { tempo: 'fast' }, /^pattern scales: tempo: /],
    [
      'stride',
      { progression: ['I', 'IX'] },
      /^pattern stride: progression\[1\]: expected a roman numeral/,
    ],
    ['canon', { interval: 7 }, /^pattern canon: interval: /],
    ['trill', { bars: 2, seconds: 3 }, /^pattern trill: give bars or seconds, not both/],
    ['octaves', { colour: 'red' }, /^pattern octaves: .*colour/],
    ['bogus', {}, /^unknown pattern 'bogus' \(known: alberti, /],
  ];
  for (const [name, raw, message] of cases) {
    it(`rejects ${name} ${JSON.stringify(raw)}`, () => {
      expect(() => generateTexture(name, raw)).toThrow(UserError);
      expect(() => generateTexture(name, raw)).toThrow(message);
    });
  }

  it('accepts scale degrees as well as roman numerals', () => {
    expect(generateTexture('chorale', { progression: [1, 4, 5, 1] })).toEqual(
      generateTexture('chorale', { progression: ['I', 'IV', 'V', 'I'] }),
    );
  });
});
