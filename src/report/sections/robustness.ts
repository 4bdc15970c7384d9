/**
 * The report's robustness section (`attack`, `explain --attack`): robust accuracy against the edit
 * budget for the greedy and the random search, the three cheapest successful attacks with their
 * piano rolls (edited notes outlined), players, MIDI and the edits in words, the median edits per
 * composer pair, and how the concepts moved.
 */
import { join } from 'node:path';
import { readMidiFile } from '../../midi/read.ts';
import type {
  AttackedExcerpt,
  AttackResults,
  ConceptRobustness,
  RobustnessCurve,
} from '../../results/attack.ts';
import type { RunResults } from '../../results/results.ts';
import { UserError } from '../../util/errors.ts';
import type { ComposerColors } from '../colors.ts';
import { esc, relativeHref } from '../escape.ts';
import { outputFileMessage, playButton } from '../page.ts';
import { pianoRollSvg, type PlayNote } from '../pianoroll.ts';
import { FONT, fmt } from '../svg.ts';

/** What the section needs from the page being rendered (see html.ts). */
export interface SectionContext {
  outDir: string;
  colors: ComposerColors;
  playable: Record<string, PlayNote[]>;
  nextId: number;
}

const SEARCH_STYLE = {
  greedy: { color: '#b2182b', dash: '', label: 'greedy (input-gradient ranked)' },
  random: { color: '#555555', dash: '5 3', label: 'random edits' },
} as const;

export function robustnessSection(results: RunResults, ctx: SectionContext): string {
  const a = results.attack;
  if (!a) return '';
  const head =
    '<section id="robustness"><h2>Robustness: small note edits that change the composer</h2>';
  const ranking =
    a.ranking === 'input-gradients'
      ? `ranks every possible edit by the input gradient of the margin and lets the model check the ${a.candidates} best`
      : `has no input gradients for this model, so the model checks ${a.candidates} random candidate edits`;
  const intro = `<p>For ${a.correct} of ${a.excerpts} excerpts of the ${esc(a.split)} split that the model classifies
correctly (clean accuracy ${pct(a.cleanAccuracy)}), the attack looks for the fewest musical edits (delete a note, add a note
of the local key with the notes already starting on a beat, move a note by a frame or two, lengthen or shorten it, move it an
octave) that make the model name another composer. At each step the greedy search ${esc(ranking)}, and keeps the edit that
moves the model furthest (the cheapest, when several change the composer); the random search makes random edits, as a
baseline. Every adversarial excerpt is an ordinary note list, written as MIDI and read back before it counts.</p>
${smallEdits(a)}`;
  const curves = `<figure>${curveChart(a)}<figcaption>Robust accuracy: the share of the ${a.excerpts} excerpts still
classified correctly when the attack may make at most that many edits (0: clean accuracy). Lower means more fragile.</figcaption></figure>
${curveTable(a)}`;
  return `${head}${intro}${curves}${worstExamples(a, ctx)}${pairTable(a)}${conceptPart(a)}</section>`;
}

/** What "small" means here, and how many attacks needed more than small edits. */
function smallEdits(a: AttackResults): string {
  const greedy = a.attacked.map((x) => x.outcomes.greedy).filter((o) => o?.success);
  const second = greedy.filter((o) => o?.tier === 'any').length;
  const tiers =
    greedy.length === 0
      ? ''
      : ` Here ${greedy.length - second} of the ${greedy.length} successful greedy attacks used small edits only;
${second === 0 ? 'none' : second} needed the larger ones, because no small-edit search changed the composer within ${Math.max(...a.budgets)} edits.`;
  return `<p>Each edit has a musical cost, counted in note changes. Small edits cost 1 or 1½: leaving out a note, adding a
note of the local key that is consonant with what sounds, nudging a note by one or two frames (50 or 100 ms), playing a note
longer or shorter within the note values around it. Larger changes cost more: moving a note an octave (4), adding a
dissonance with a note sounding (+2), holding a note longer than every note starting within two seconds of it (+3). No edit
ever makes two notes of the same pitch overlap. The search first tries small edits only, and allows the larger ones only for
an excerpt that small edits cannot flip.${tiers} Pitches are spelled in the local key (estimated from the notes of the whole
piece, bar by bar), positions are bars and beats of the score (seconds for performances, whose bars the file does not
know).</p>`;
}

function curveChart(a: AttackResults): string {
  const W = 640;
  const H = 250;
  const left = 52;
  const right = W - 170;
  const top = 16;
  const bottom = H - 36;
  const xs = [0, ...a.budgets];
  const x = (i: number) => left + (i / (xs.length - 1)) * (right - left);
  const y = (v: number) => bottom - v * (bottom - top);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart robust-chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="Robust accuracy against the edit budget" font-family="${esc(FONT)}">`,
    '<style>.tick{font-size:10px;fill:#666}.lab{font-size:11px;fill:#222}</style>',
  ];
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(
      `<line x1="${left}" x2="${right}" y1="${y(v)}" y2="${y(v)}" stroke="${v === 0 ? '#999' : '#e3e3e3'}"/><text x="${left - 6}" y="${y(v) + 3}" text-anchor="end" class="tick">${fmt(v)}</text>`,
    );
  }
  xs.forEach((b, i) =>
    parts.push(
      `<text x="${x(i)}" y="${bottom + 14}" text-anchor="middle" class="tick">${b}</text>`,
    ),
  );
  parts.push(
    `<text x="${(left + right) / 2}" y="${H - 4}" text-anchor="middle" class="lab">edits allowed</text>`,
  );
  a.curves.forEach((c, k) => {
    const s = SEARCH_STYLE[c.search];
    const values = [a.cleanAccuracy, ...c.byEdits.map((b) => b.robustAccuracy)];
    const d = values
      .map((v, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)} ${y(v).toFixed(1)}`)
      .join('');
    parts.push(
      `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
    );
    values.forEach((v, i) =>
      parts.push(
        `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${s.color}"><title>${esc(`${s.label}: robust accuracy ${fmt(v, 3)} with at most ${xs[i]} edit${xs[i] === 1 ? '' : 's'}`)}</title></circle>`,
      ),
    );
    const ly = top + 8 + k * 18;
    parts.push(
      `<line x1="${right + 14}" x2="${right + 40}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/><text x="${right + 46}" y="${ly + 4}" class="lab">${esc(c.search)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

function curveTable(a: AttackResults): string {
  const row = (c: RobustnessCurve) =>
    `<tr><td>${esc(c.search)}</td><td>${pct(a.cleanAccuracy)}</td>${c.byEdits.map((b) => `<td>${pct(b.robustAccuracy)}</td>`).join('')}<td>${c.medianEdits ?? '–'}</td><td>${fmt(c.seconds, 1)} s</td></tr>`;
  const shareRow = (c: RobustnessCurve) =>
    `<tr><td>${esc(c.search)}</td>${c.byShare.map((b) => `<td>${pct(b.robustAccuracy)}</td>`).join('')}</tr>`;
  return `<details><summary>The numbers</summary>
<table><thead><tr><th>Search</th><th>Clean</th>${a.budgets.map((b) => `<th>≤ ${b} edit${b === 1 ? '' : 's'}</th>`).join('')}<th>Median edits (successful)</th><th>Time</th></tr></thead><tbody>${a.curves.map(row).join('')}</tbody></table>
<p>Budget as a share of the excerpt's notes (the search stops at ${Math.max(...a.budgets)} edits, so large shares of long excerpts are capped there):</p>
<table><thead><tr><th>Search</th>${a.shares.map((s) => `<th>≤ ${fmt(s * 100, 1)} % of notes</th>`).join('')}</tr></thead><tbody>${a.curves.map(shareRow).join('')}</tbody></table>
</details>`;
}

function worstExamples(a: AttackResults, ctx: SectionContext): string {
  const worst = a.attacked
    .filter((x) => x.outcomes.greedy?.success && x.outcomes.greedy.midi)
    .sort(
      (p, q) =>
        p.outcomes.greedy!.edits - q.outcomes.greedy!.edits ||
        (p.outcomes.greedy!.cost ?? 0) - (q.outcomes.greedy!.cost ?? 0) ||
        q.outcomes.greedy!.marginBefore - p.outcomes.greedy!.marginBefore,
    )
    .slice(0, 3);
  if (worst.length === 0)
    return '<h3>The most fragile excerpts</h3><p class="muted">No greedy attack succeeded within the budget.</p>';
  return `<h3>The most fragile excerpts</h3><p>The three excerpts the greedy search flipped with the fewest edits. Outlined
in red: the notes as they were; in green: the notes as the attack left them.</p>${worst.map((x) => example(x, ctx)).join('')}`;
}

function example(x: AttackedExcerpt, ctx: SectionContext): string {
  const o = x.outcomes.greedy!;
  const where = x.bars
    ? `bars ${x.bars.start}–${x.bars.end}`
    : `${fmt(x.start, 1)}–${fmt(x.end, 1)} s`;
  const before = (o.list ?? []).flatMap((e) =>
    e.from ? [[e.from.pitch, e.from.onset, e.from.offset] as const] : [],
  );
  const after = (o.list ?? []).flatMap((e) =>
    e.to ? [[e.to.pitch, e.to.onset, e.to.offset] as const] : [],
  );
  const roll = (rel: string, label: string, color: string, marks: typeof before, mark: string) => {
    const id = `x${ctx.nextId++}`;
    try {
      const notes = readMidiFile(join(ctx.outDir, rel)).notes.map(
        (n) => [n.pitch, ms(n.onset), ms(n.offset), n.velocity] as PlayNote,
      );
      ctx.playable[id] = notes;
      const svg = pianoRollSvg(notes, {
        duration: Math.max(x.end - x.start, ...notes.map((n) => n[2])),
        width: 420,
        maxHeight: 180,
        color,
        gridPitches: [21, 108],
        excerptId: id,
        label: `${label}: ${x.composer}, ${x.piece}, ${where}`,
        highlight: { notes: marks, color: mark },
      });
      return `<div class="excerpt large">${svg}<div class="controls">${playButton(id)}<a href="${esc(relativeHref(rel))}" download>MIDI</a> <span>${esc(label)}</span></div></div>`;
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      return `<p class="missing">Cannot show ${esc(label)}: ${esc(outputFileMessage(err, join(ctx.outDir, rel), rel))}</p>`;
    }
  };
  const edits = (o.list ?? [])
    .map((e) => {
      const text = e.costText ? e.text.slice(0, e.text.lastIndexOf(`; ${e.costText}`)) : e.text;
      const cost = e.costText ? ` <span class="cost">(${esc(e.costText)})</span>` : '';
      return `<li>${esc(text)}${cost}</li>`;
    })
    .join('');
  const total =
    o.cost !== undefined
      ? ` · musical cost ${+o.cost.toFixed(2)} note change${o.cost === 1 ? '' : 's'}${o.tier === 'any' ? ' (small edits alone did not change the composer)' : ' (small edits only)'}`
      : '';
  return `<article class="attack"><h4>${esc(x.composer)} → ${esc(o.predicted)} after ${o.edits} edit${o.edits === 1 ? '' : 's'}: ${esc(x.piece)}, ${esc(where)}</h4>
<div class="excerpts">${roll(o.midi!.original, 'original', ctx.colors(x.composer), before, '#c0392b')}${roll(o.midi!.adversarial, `after ${o.edits} edit${o.edits === 1 ? '' : 's'}`, ctx.colors(o.predicted), after, '#1a9850')}</div>
<ol class="edits">${edits}</ol><p class="how">${esc(x.file)} · margin ${fmt(o.marginBefore)} → ${fmt(o.marginAfter)}${esc(total)} · <a href="${esc(relativeHref(o.midi!.edits))}">edits as text</a></p></article>`;
}

function pairTable(a: AttackResults): string {
  if (a.pairs.length === 0) return '';
  const rows = a.pairs
    .map(
      (p) =>
        `<tr><td>${esc(p.search)}</td><td>${esc(p.from)}</td><td>${esc(p.to)}</td><td>${p.count}</td><td>${fmt(p.medianEdits, 1)}</td></tr>`,
    )
    .join('');
  return `<h3>Edits needed per composer pair</h3><details><summary>Median edits of the successful attacks, by true and new composer</summary><table><thead><tr><th>Search</th><th>Composer</th><th>Heard as</th><th>Attacks</th><th>Median edits</th></tr></thead><tbody>${rows}</tbody></table></details>`;
}

function conceptPart(a: AttackResults): string {
  const c = a.concepts;
  if (!c) return '';
  if (c.attacks === 0 || c.shifts.length === 0)
    return '<h3>How the concepts moved</h3><p class="muted">No successful greedy attack to analyse.</p>';
  const shifts = c.shifts
    .map(
      (s) =>
        `<tr><td>${esc(s.concept)}</td><td>${fmt(s.before)}</td><td>${fmt(s.after)}</td><td>${fmt(s.shift)} ± ${fmt(s.shiftStd)}</td></tr>`,
    )
    .join('');
  const pushLine = (t: ConceptRobustness['towards'][number]) => {
    const top = t.concepts.filter((p) => p.push > 0).slice(0, 3);
    return `<li><strong>${esc(t.from)} → ${esc(t.to)}</strong> (${t.count} attack${t.count === 1 ? '' : 's'}): ${
      top.length
        ? top
            .map(
              (p) =>
                `${esc(p.concept)} (${p.shift >= 0 ? 'more' : 'less'} present, push ${fmt(p.push, 3)})`,
            )
            .join(', ')
        : '<span class="muted">no concept moved towards the new composer</span>'
    }</li>`;
  };
  // The most frequent pairs in view, the rest folded away.
  const shown = c.towards.slice(0, 6).map(pushLine).join('');
  const rest = c.towards.slice(6).map(pushLine).join('');
  const towards = `${shown}${rest ? `<li><details><summary>${c.towards.length - 6} more composer pairs</summary><ul>${rest}</ul></details></li>` : ''}`;
  const tcav = c.tcav
    .map(
      (t) =>
        `<tr><td>${esc(t.concept)}</td><td>${esc(t.composer)}</td><td>${t.excerpts}</td><td>${fmt(t.original)}</td><td>${fmt(t.adversarial)}</td></tr>`,
    )
    .join('');
  return `<h3>How the concepts moved</h3>
<p>Presence of each concept (projection of the excerpt on the concept's direction at layer <code>${esc(c.layer)}</code>) before
and after the ${c.attacks} successful greedy attacks. The concepts that the edits pushed towards the new composer explain the
attack in musical terms: the edits made the music more (or less) like the concept, in the direction that favours the
composer the model now hears.</p>
<ul class="towards">${towards}</ul>
<details><summary>Presence before and after, per concept</summary><table><thead><tr><th>Concept</th><th>Before</th><th>After</th><th>Shift</th></tr></thead><tbody>${shifts}</tbody></table></details>
<details><summary>TCAV scores on the attacked excerpts, original vs adversarial</summary><table><thead><tr><th>Concept</th><th>Composer</th><th>Excerpts</th><th>Original</th><th>Adversarial</th></tr></thead><tbody>${tcav}</tbody></table></details>`;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)} %`;
}

function ms(t: number): number {
  return Math.round(t * 1000) / 1000;
}
