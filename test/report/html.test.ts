import { describe, expect, it } from 'vitest';
import { esc, jsonForScript, relativeHref } from '../../src/report/escape.ts';
import { renderReport } from '../../src/report/html.ts';
import { displayRange, pianoRollSvg, type PlayNote } from '../../src/report/pianoroll.ts';
import { niceTicks } from '../../src/report/svg.ts';
import { tempDir } from '../helpers/cli.ts';
import { albertiNotes, HOSTILE_CONCEPT, HOSTILE_PIECE, sampleResults } from './sample.ts';

const outDir = tempDir('cl-report-unit-');
const count = (text: string, part: string) => text.split(part).length - 1;

describe('escaping', () => {
  it('escapes the five HTML metacharacters', () => {
    expect(esc(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });

  it('embeds JSON that cannot close a script element and parses back unchanged', () => {
    const value = { name: HOSTILE_PIECE, other: '<!-- \u2028 -->' };
    const json = jsonForScript(value);
    expect(json).not.toMatch(/[<>]/);
    expect(JSON.parse(json)).toEqual(value);
  });

  it('percent-encodes path segments of links but keeps the slashes', () => {
    expect(relativeHref('excerpts/a b/#1 "x".mid')).toBe('excerpts/a%20b/%231%20%22x%22.mid');
  });
});

describe('renderReport', () => {
  const results = sampleResults(outDir);
  const html = renderReport(results, { outDir });

  it('keeps hostile names as text', () => {
    expect(html).not.toContain(HOSTILE_CONCEPT);
    expect(html).toContain(esc(HOSTILE_CONCEPT));
    expect(html).toContain(esc(HOSTILE_PIECE));
    expect(html).not.toContain('<script>broken');
    // Only the page's own two scripts open and close.
    expect(count(html, '<script')).toBe(2);
    expect(count(html, '</script>')).toBe(2);
  });

  it('refers to nothing outside the page except the exported MIDI files', () => {
    const urls = [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
    for (const u of urls)
      expect(u === 'data:,' || u.startsWith('#') || u.startsWith('excerpts/')).toBe(true);
    expect(html.replaceAll('http://www.w3.org/2000/svg', '')).not.toMatch(
      /https?:|url\((?!#)|@import/,
    );
  });

  it('lists what was run, the layers, and the skipped files', () => {
    for (const text of [
      'tiny-resnet',
      '73.4 %',
      'asap-sample',
      '12 files, 5 pieces',
      '/layer3/Relu_1_output_0',
      'truncated: track 2',
    ])
      expect(html).toContain(text);
    expect(count(html, 'class="chart tcav-chart"')).toBe(2);
    // Structured run parameters read as text in words, not JSON or camelCase keys.
    expect(html).toContain('Method: nmf; Layers: avgpool; Concepts to discover: 4');
    const card = html.slice(
      html.indexOf('<section id="run">'),
      html.indexOf('</section>', html.indexOf('<section id="run">')),
    );
    expect(card).not.toContain('undefined');
    expect(card).not.toMatch(/<dt>[a-z]+[A-Z]/);
  });

  it('marks every non-significant cell n.s. (8 TCAV cells, 1 importance)', () => {
    expect(count(html, ' n.s.</text>')).toBe(8 + 1);
    expect(count(html, '⚠ unreliable CAV (accuracy 0.61)')).toBe(2);
  });

  it('embeds the notes read back from the exported MIDI file', () => {
    const json = html.match(/<script type="application\/json" id="cl-notes">(.*?)<\/script>/s)![1];
    const notes = JSON.parse(json) as Record<string, PlayNote[]>;
    expect(Object.keys(notes)).toEqual(['x0', 'x1', 'x2']);
    const written = albertiNotes().sort((a, b) => a.onset - b.onset || a.pitch - b.pitch);
    const read = notes.x0.slice().sort((a, b) => a[1] - b[1] || a[0] - b[0]);
    expect(read.length).toBe(written.length);
    read.forEach(([pitch, on, off, vel], i) => {
      expect(pitch).toBe(written[i].pitch);
      expect(Math.abs(on - written[i].onset)).toBeLessThan(1e-3);
      expect(Math.abs(off - written[i].offset)).toBeLessThan(1e-3);
      expect(vel).toBe(written[i].velocity);
    });
  });

  it('says "not run" for empty sections and survives a missing MIDI file', () => {
    const empty = { ...results, tcav: [], concepts: [], skipped: [] };
    const page = renderReport(empty, { outDir });
    expect(page).toContain('TCAV was not run');
    expect(page).toContain('Concept discovery was not run');
    expect(page).toContain('No files were skipped');
    const missing = structuredClone(results);
    missing.concepts[0].excerpts[0].midi = 'excerpts/gone.mid';
    const withMissing = renderReport(missing, { outDir });
    expect(withMissing).toContain('Cannot show this excerpt');
    expect(count(withMissing, 'class="play"')).toBe(2);
  });
});

describe('pianoRollSvg', () => {
  // Notes between C4 and E5 (60..76) plus a margin of 2 give 58..78, widened to two octaves:
  // pitches 56..80 are shown. A 2 x 4 grid over pitches 21..108 has
  // 22 pitches per column: column 1 is 43..64 and column 2 is 65..86 (both visible), column 0
  // (21..42) and column 3 (87..108) are not. Cells above 0.05 in visible columns: (0,1), (0,2), (1,2).
  const notes: PlayNote[] = [
    [60, 0, 1, 80],
    [64, 1, 2, 80],
    [76, 2, 3, 80],
  ];
  const svg = pianoRollSvg(notes, {
    duration: 4,
    width: 400,
    maxHeight: 200,
    color: '#123456',
    localization: { rows: 2, cols: 4, values: [0, 1, 0.5, 0, 0.02, 0, 1, 1] },
    gridPitches: [21, 108],
    excerptId: 'x9',
    label: 'test',
  });

  it('draws one rectangle per note and the visible localisation cells', () => {
    expect(displayRange(notes)).toEqual([56, 80]);
    expect(count(svg, 'fill="#123456"')).toBe(3);
    expect(count(svg, 'class="loc"')).toBe(3);
  });

  it('places time left to right over the duration', () => {
    // Plot from x = 30 over 400 - 32 = 368 px; 4 s: the note at 1 s starts at 30 + 92 = 122.
    expect(svg).toMatch(/<rect x="122\.0" [^>]*fill="#123456"/);
  });
});

describe('niceTicks', () => {
  it('picks round steps', () => {
    expect(niceTicks(0, 1, 4)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(niceTicks(-0.037, 0.037, 4)).toEqual([-0.02, 0, 0.02]);
  });
});
