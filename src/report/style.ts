/** The report's stylesheet, inlined into the page. System fonts only: nothing is fetched. */
export const REPORT_CSS = `
:root { --ink: #1d1d1f; --muted: #6b6b6b; --rule: #e2ddd2; --paper: #fffdf8; --accent: #7a4b12;
  --serif: Charter, 'Bitstream Charter', 'Sitka Text', Cambria, 'Iowan Old Style', Georgia, 'Times New Roman', serif;
  --sans: system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif; }
* { box-sizing: border-box; }
html { scroll-behavior: smooth; }
body { margin: 0; background: var(--paper); color: var(--ink); font: 16px/1.55 var(--serif); }
header, main, footer { max-width: 1000px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 28px; }
h1 { font-size: 1.7rem; line-height: 1.25; margin: 0 0 4px; }
h2 { font-size: 1.35rem; margin: 40px 0 12px; padding-bottom: 4px; border-bottom: 2px solid var(--rule); }
h3 { font-size: 1.1rem; margin: 24px 0 8px; }
h4 { font: 600 0.95rem var(--sans); margin: 18px 0 8px; color: var(--accent); }
.sub, .meta, .muted { color: var(--muted); }
.sub { margin: 0; font-family: var(--sans); font-size: 0.9rem; }
nav { position: sticky; top: 0; z-index: 2; background: rgba(255, 253, 248, 0.96); border-bottom: 1px solid var(--rule);
  font: 0.9rem var(--sans); padding: 8px 24px; display: flex; gap: 18px; flex-wrap: wrap; justify-content: center; }
nav a { color: var(--accent); text-decoration: none; }
nav a:hover { text-decoration: underline; }
section { scroll-margin-top: 48px; }
code { font: 0.85em ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace; background: #f3efe6; padding: 0 3px; border-radius: 3px; word-break: break-all; }
.hash { font-size: 0.72em; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); gap: 14px; align-items: start; }
.card { background: #fff; border: 1px solid var(--rule); border-radius: 6px; padding: 4px 14px 10px; }
.card h3 { margin-top: 8px; }
.card dl { margin: 0; font: 0.86rem/1.45 var(--sans); }
.card dt { color: var(--muted); margin-top: 6px; }
.card dd { margin: 0; overflow-wrap: anywhere; }
dl.concepts { font-size: 0.95rem; }
dl.concepts dt { font-weight: 600; }
dl.concepts dd { margin: 0 0 6px 18px; }
figure { margin: 8px 0 14px; overflow-x: auto; }
figcaption { font: 0.85rem/1.45 var(--sans); color: var(--muted); max-width: 760px; margin-top: 4px; }
svg.chart { display: block; max-width: 100%; height: auto; }
.notrun { font-style: italic; color: var(--muted); }
details { margin: 6px 0 18px; font-family: var(--sans); font-size: 0.85rem; }
summary { cursor: pointer; color: var(--accent); }
table { border-collapse: collapse; margin: 8px 0; font: 0.85rem var(--sans); }
th, td { text-align: left; padding: 3px 10px 3px 0; border-bottom: 1px solid var(--rule); vertical-align: top; }
th { font-weight: 600; }
article.concept { border-top: 1px solid var(--rule); margin-top: 22px; }
.excerpts { display: flex; flex-wrap: wrap; gap: 16px; }
.excerpt { background: #fff; border: 1px solid var(--rule); border-radius: 6px; padding: 8px; width: 438px; font: 0.82rem/1.4 var(--sans); }
.excerpt.small { width: 258px; font-size: 0.76rem; }
.excerpt svg.roll { display: block; max-width: 100%; height: auto; }
.controls { display: flex; align-items: center; flex-wrap: wrap; gap: 4px 12px; margin: 6px 0 4px; }
.controls a { color: var(--accent); }
button.play { font: 600 0.8rem var(--sans); border: 1px solid var(--accent); color: var(--accent); background: #fff; border-radius: 14px; padding: 2px 12px; cursor: pointer; }
button.play[aria-pressed="true"] { background: var(--accent); color: #fff; }
.loc-key { color: #8a6d00; font-size: 0.75rem; }
.what strong { font-weight: 600; }
.how { color: var(--muted); }
.file { display: inline-block; max-width: 100%; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; vertical-align: bottom; }
.missing { color: #a33; }
footer { margin-top: 48px; padding: 16px 24px 40px; color: var(--muted); font: 0.8rem var(--sans); border-top: 1px solid var(--rule); }
`;
