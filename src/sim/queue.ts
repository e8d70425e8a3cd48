/**
 * A min-heap of items by event time (ties keep insertion order): back-end events produced
 * ahead of time (a scenario's whole timeline, a login retry a few seconds later) wait here
 * until the simulation clock reaches them.
 */
export class TimeQueue<T> {
  private readonly heap: { ts: number; n: number; item: T }[] = [];
  private n = 0;

  get size(): number {
    return this.heap.length;
  }

  push(ts: number, item: T): void {
    const h = this.heap;
    h.push({ ts, n: this.n++, item });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  /** Remove and hand over every item with time <= `to`, earliest first. */
  popUntil(to: number, emit: (item: T) => void): void {
    const h = this.heap;
    while (h.length > 0 && h[0]!.ts <= to) {
      const top = h[0]!;
      const last = h.pop()!;
      if (h.length > 0) {
        h[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < h.length && this.less(l, m)) m = l;
          if (r < h.length && this.less(r, m)) m = r;
          if (m === i) break;
          [h[i], h[m]] = [h[m]!, h[i]!];
          i = m;
        }
      }
      emit(top.item);
    }
  }

  private less(a: number, b: number): boolean {
    const x = this.heap[a]!;
    const y = this.heap[b]!;
    return x.ts < y.ts || (x.ts === y.ts && x.n < y.n);
  }
}
