/**
 * A bounded list of the best `k` candidates seen so far, by a score where lower is better, ties
 * broken by a second key (the primary distance) and then by index, so results never depend on
 * the order candidates arrive in.
 */
export class TopK {
  readonly ids: Int32Array;
  readonly scores: Float64Array;
  readonly seconds: Float64Array;
  size = 0;

  constructor(readonly k: number) {
    this.ids = new Int32Array(k).fill(-1);
    this.scores = new Float64Array(k).fill(Infinity);
    this.seconds = new Float64Array(k).fill(Infinity);
  }

  /** The score a candidate must beat to enter (Infinity while the list is not full). */
  get threshold(): number {
    return this.size < this.k ? Infinity : this.scores[this.k - 1];
  }

  offer(id: number, score: number, second: number): boolean {
    if (this.k === 0) return false;
    if (this.size === this.k && !before(score, second, id, this, this.k - 1)) return false;
    // Insertion into the sorted list (k is small).
    let at = Math.min(this.size, this.k - 1);
    while (at > 0 && before(score, second, id, this, at - 1)) {
      this.ids[at] = this.ids[at - 1];
      this.scores[at] = this.scores[at - 1];
      this.seconds[at] = this.seconds[at - 1];
      at--;
    }
    this.ids[at] = id;
    this.scores[at] = score;
    this.seconds[at] = second;
    if (this.size < this.k) this.size++;
    return true;
  }
}

function before(score: number, second: number, id: number, t: TopK, at: number): boolean {
  const s = t.scores[at];
  if (score !== s) return score < s;
  const p = t.seconds[at];
  if (second !== p) return second < p;
  return id < t.ids[at];
}
