// The part of jStat (a maintained statistics library without bundled types) that concept-lens uses.
declare module 'jstat' {
  interface Distribution {
    cdf(x: number, ...params: number[]): number;
    inv(p: number, ...params: number[]): number;
  }
  export const jStat: { studentt: Distribution; normal: Distribution };
  const _default: { jStat: typeof jStat };
  export default _default;
}
