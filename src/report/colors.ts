/**
 * One colour per composer, the same in every chart of a report. The first eight are the Okabe-Ito
 * palette (distinguishable with the common colour-vision deficiencies); more composers get
 * further hand-picked colours, then evenly spaced hues.
 */
const PALETTE = [
  '#0072B2', // blue
  '#D55E00', // vermilion
  '#009E73', // bluish green
  '#CC79A7', // reddish purple
  '#E69F00', // orange
  '#56B4E9', // sky blue
  '#8C6D31', // brown
  '#332288', // indigo
  '#117733', // green
  '#AA4499', // purple
  '#882255', // wine
  '#44AA99', // teal
  '#999933', // olive
  '#6699CC', // steel blue
  '#EE7733', // orange red
  '#555555', // dark grey
];

export type ComposerColors = (composer: string) => string;

/** Colours assigned in the order composers are first named (model labels first, so runs agree). */
export function composerColors(...lists: readonly (readonly string[])[]): ComposerColors {
  const assigned = new Map<string, string>();
  const add = (name: string) => {
    if (assigned.has(name)) return;
    const i = assigned.size;
    const hue = Math.round((i * 137.508) % 360);
    assigned.set(name, i < PALETTE.length ? PALETTE[i] : `hsl(${hue}, 55%, 42%)`);
  };
  for (const list of lists) list.forEach(add);
  return (composer) => {
    add(composer);
    return assigned.get(composer)!;
  };
}
