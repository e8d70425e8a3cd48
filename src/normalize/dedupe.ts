/**
 * Duplicate suppression by record id over a bounded recent window: two generations of
 * sets; when the young one fills, the old one is dropped. Memory is capped at 2 x `cap`
 * ids; a duplicate arriving after ~`cap` newer ids is no longer recognised (the store's
 * idempotent writes catch those for events; signals are keyed by time and vehicle).
 */
export const DEFAULT_DEDUPE_CAP = 500_000;

export class RecentIds {
  private young = new Set<string>();
  private old = new Set<string>();

  constructor(private readonly cap = DEFAULT_DEDUPE_CAP) {}

  /** True when the id was seen recently; otherwise remembers it and returns false. */
  seen(id: string): boolean {
    if (this.young.has(id) || this.old.has(id)) return true;
    if (this.young.size >= this.cap) {
      this.old = this.young;
      this.young = new Set();
    }
    this.young.add(id);
    return false;
  }
}
