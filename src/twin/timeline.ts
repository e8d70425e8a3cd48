/**
 * Notable events per vehicle (alerts, IDS security events, software changes),
 * newest kept. Only twins with events have a timeline; "first seen" is not stored but read
 * from the twin. Both the per-vehicle and the per-worker size are capped, so a noisy vehicle
 * or a noisy fleet cannot exhaust memory.
 */

/** Events kept per vehicle; older ones are dropped. */
export const MAX_TIMELINE_EVENTS = 64;
/** Events kept per worker; past it the vehicle whose timeline started earliest loses it. */
export const MAX_TIMELINE_EVENTS_PER_WORKER = 500_000;

export type TimelineKind = 'first_seen' | 'alert' | 'security' | 'software';

export interface TimelineEvent {
  /** Event time (epoch ms). */
  readonly time: number;
  readonly kind: TimelineKind;
  readonly summary: string;
  /** Id of the record behind it (alert, security event), when there is one. */
  readonly ref?: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export class Timelines {
  private readonly byTwin = new Map<number, TimelineEvent[]>();
  private total = 0;
  /** Events dropped by either cap. */
  dropped = 0;

  add(twin: number, e: TimelineEvent): void {
    let list = this.byTwin.get(twin);
    if (!list) this.byTwin.set(twin, (list = []));
    // Kept in time order: events mostly arrive in order, so this is an append.
    let i = list.length;
    while (i > 0 && list[i - 1]!.time > e.time) i--;
    list.splice(i, 0, e);
    this.total++;
    if (list.length > MAX_TIMELINE_EVENTS) {
      list.shift();
      this.total--;
      this.dropped++;
    }
    while (this.total > MAX_TIMELINE_EVENTS_PER_WORKER) {
      const [first, events] = this.byTwin.entries().next().value as [number, TimelineEvent[]];
      this.byTwin.delete(first);
      this.total -= events.length;
      this.dropped += events.length;
    }
  }

  of(twin: number): readonly TimelineEvent[] {
    return this.byTwin.get(twin) ?? [];
  }

  delete(twin: number): void {
    const list = this.byTwin.get(twin);
    if (!list) return;
    this.total -= list.length;
    this.byTwin.delete(twin);
  }

  entries(): IterableIterator<[number, TimelineEvent[]]> {
    return this.byTwin.entries();
  }

  get size(): number {
    return this.total;
  }
}
