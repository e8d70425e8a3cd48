/**
 * Deduplication: the same rule on the same vehicle with the same key, within a window, is one
 * alert. The key is the alert's group (`details.group`, what the rule grouped by) when it has
 * one, else rule + vehicle. Windows are per severity (default 10 min each) and measured on the
 * alerts' event times, so a replay decides exactly as the live run did.
 *
 * Stateful: it remembers the first alert of each key, at most `maxKeys` of them (a noisy fleet
 * cannot grow it without bound); beyond that, expired keys are swept and then the oldest are
 * forgotten, counted in `evicted`.
 */
import type { Alert, Severity } from '../core/records.js';

/** Keys remembered at most by default. */
export const MAX_DEDUP_KEYS = 50_000;
/** Default dedup window of every severity: 10 minutes. */
export const DEFAULT_DEDUP_WINDOW_MS = 10 * 60_000;

export type DedupWindows = Readonly<Record<Severity, number>>;

export const DEFAULT_DEDUP_WINDOWS: DedupWindows = {
  info: DEFAULT_DEDUP_WINDOW_MS,
  low: DEFAULT_DEDUP_WINDOW_MS,
  medium: DEFAULT_DEDUP_WINDOW_MS,
  high: DEFAULT_DEDUP_WINDOW_MS,
  critical: DEFAULT_DEDUP_WINDOW_MS,
};

interface First {
  readonly alert: string;
  readonly time: number;
  readonly until: number;
}

export class Deduplicator {
  private readonly firsts = new Map<string, First>();
  /** Keys forgotten for the cap before their window ended (intentional, counted). */
  evicted = 0;

  constructor(
    private readonly windows: DedupWindows = DEFAULT_DEDUP_WINDOWS,
    private readonly maxKeys: number = MAX_DEDUP_KEYS,
  ) {}

  get size(): number {
    return this.firsts.size;
  }

  /**
   * The id of the first alert `alert` duplicates, or undefined when it is the first of its key
   * in the window (it is then remembered as the new first).
   */
  check(alert: Alert): string | undefined {
    const key = dedupKey(alert);
    const first = this.firsts.get(key);
    // Within the window either side of the first: an alert arriving out of order (older than
    // the first) is the same event seen late, not the start of a new one.
    if (first && first.alert !== alert.id && alert.time < first.until && alert.time > first.time - this.windowOf(alert)) return first.alert;
    this.firsts.delete(key);
    if (this.firsts.size >= this.maxKeys) this.makeRoom(alert.time);
    this.firsts.set(key, { alert: alert.id, time: alert.time, until: alert.time + this.windowOf(alert) });
    return undefined;
  }

  private windowOf(alert: Alert): number {
    return this.windows[alert.severity] ?? DEFAULT_DEDUP_WINDOW_MS;
  }

  /** Drop the keys whose window has ended by `now`; if none had, the oldest tenth. */
  private makeRoom(now: number): void {
    for (const [key, f] of this.firsts) if (f.until <= now) this.firsts.delete(key);
    if (this.firsts.size < this.maxKeys) return;
    let n = Math.max(1, Math.floor(this.maxKeys / 10));
    for (const key of this.firsts.keys()) {
      if (n-- <= 0) break;
      this.firsts.delete(key);
      this.evicted++;
    }
  }
}

/** tenant, rule, vehicle and the rule's group: what makes two alerts "the same". */
export function dedupKey(alert: Alert): string {
  return `${alert.tenant}\u0000${alert.rule}\u0000${alert.vehicle ?? ''}\u0000${groupOf(alert.details) ?? ''}`;
}

/** The alert's group (`details.group`) as a stable string, or undefined. */
export function groupOf(details: Readonly<Record<string, unknown>>): string | undefined {
  const g = details['group'];
  if (g === undefined || g === null) return undefined;
  return stableJson(g);
}

/** JSON with object keys sorted, so equal values give equal strings. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
