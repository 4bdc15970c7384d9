import type { ConceptLens } from '../lens/lens.ts';
import { secondsToBar } from '../midi/timemap.ts';
import type { MidiContent, Note } from '../midi/types.ts';
import { excerptNotes, writeMidiFile } from '../midi/write.ts';
import type { DiscoveredConcept, ExcerptRef } from '../results/results.ts';
import { yieldToSignals } from '../util/interrupt.ts';
import { safeSegment } from '../util/paths.ts';
import type { FoundConcept, FoundExcerpt } from './run.ts';

/**
 * Discovered concepts as musicologists receive them: every typical (and least typical) excerpt
 * written as a MIDI file named by concept, rank, composer and piece, e.g.
 *   excerpts/nmf-layer4-01/01-Chopin-Etudes_op_10-3-bars-12-15.mid
 * plus, where the concept has a localisation map, the notes where it is active alone
 * (`...-localized.mid`). Paths in the returned references are relative to the output folder.
 * Every name in a path (concept id, which holds the layer's name from the ONNX file; composer;
 * piece) passes through safeSegment, so no name can lead a file out of the output folder.
 */
export async function exportConcepts(
  lens: ConceptLens,
  found: FoundConcept[],
  writeFile: (rel: string) => string,
): Promise<DiscoveredConcept[]> {
  const contents = new Map<string, MidiContent>();
  const content = (file: string) => {
    if (!contents.has(file)) contents.set(file, lens.index.content(file));
    return contents.get(file)!;
  };
  const { fps, lowPitch, highPitch } = lens.classifier.input;
  const ref = (concept: FoundConcept, x: FoundExcerpt, name: string): ExcerptRef => {
    const c = content(x.excerpt.file);
    const start = x.excerpt.start + x.box.frames[0] / fps;
    const end = Math.min(x.excerpt.end, x.excerpt.start + x.box.frames[1] / fps);
    const windowNotes = excerptNotes(c.notes, x.excerpt.start, x.excerpt.end);
    const bars = x.excerpt.bars
      ? {
          start: secondsToBar(c.timeMap, start).bar,
          end: secondsToBar(c.timeMap, Math.max(start, end - 1e-6)).bar,
        }
      : undefined;
    const where = bars
      ? `bars-${bars.start}-${bars.end}`
      : `${Math.round(start)}s-${Math.round(end)}s`;
    const base = `excerpts/${safeSegment(concept.id)}/${name}-${slug(x.excerpt.composer)}-${slug(x.excerpt.piece)}-${where}`;
    const title = `${concept.id}: ${x.excerpt.composer}, ${x.excerpt.piece}, ${bars ? `bars ${bars.start}-${bars.end}` : `${start.toFixed(1)}-${end.toFixed(1)} s`}`;
    writeMidiFile(writeFile(`${base}.mid`), windowNotes, { name: title });
    const out: ExcerptRef = {
      composer: x.excerpt.composer,
      piece: x.excerpt.piece,
      file: x.excerpt.file,
      start: round(start),
      end: round(end),
      window: { start: round(x.excerpt.start), end: round(x.excerpt.end) },
      midi: `${base}.mid`,
      typicality: round(x.typicality),
      segment: x.segment,
    };
    if (bars) out.bars = bars;
    if (x.localization) {
      const { rows, cols, values } = x.localization;
      out.localization = { rows, cols, values: values.map(round) };
      // Notes whose onset falls in a cell where the concept is at least half as active as at its peak.
      const windowSeconds = x.excerpt.frames / fps;
      const active = (n: Note) => {
        const r = Math.min(rows - 1, Math.max(0, Math.floor((n.onset / windowSeconds) * rows)));
        const col = Math.min(
          cols - 1,
          Math.max(0, Math.floor(((n.pitch - lowPitch) / (highPitch - lowPitch + 1)) * cols)),
        );
        return values[r * cols + col] >= 0.5;
      };
      const localized = windowNotes.filter(active);
      if (localized.length > 0 && localized.length < windowNotes.length) {
        out.midiLocalized = `${base}-localized.mid`;
        writeMidiFile(writeFile(out.midiLocalized), localized, {
          name: `${title} (where the concept is active)`,
        });
      }
    }
    return out;
  };
  const out: DiscoveredConcept[] = [];
  for (const concept of found) {
    out.push({
      id: concept.id,
      layer: concept.layer,
      method: concept.method,
      importance: concept.importance,
      pieces: concept.pieces,
      excerpts: concept.typical.map((x, i) => ref(concept, x, String(i + 1).padStart(2, '0'))),
      leastTypical: concept.least.map((x, i) => ref(concept, x, `least-${i + 1}`)),
    });
    await yieldToSignals();
  }
  return out;
}

/** A file-name-safe form of a composer or piece name (safeSegment, shorter, no trailing `_`). */
export function slug(s: string): string {
  return safeSegment(s).slice(0, 60).replace(/_+$/, '') || 'x';
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
