/**
 * Evidence capture: for each alert that opens or joins an incident, what the analyst needs to
 * judge it, kept with the alert (IncidentStore.saveEvidence) before the raw data ages out:
 *
 * - the vehicle's signals from `beforeMs` before to `afterMs` after the alert (decoded, with
 *   their VSS paths), and the raw CAN frames of that window;
 * - the vehicle's IDS security events and back-end API / log lines in the window;
 * - the live twin as it stands at capture time (identity, cohort, last values).
 *
 * The "after" part exists only once time has passed: a capture waits in a queue until the
 * clock reaches alert time + `afterMs` (+ a grace for the store writer), then runs. `tick()`
 * runs what is due (a timer calls it every second; tests with a manual clock call it). The
 * queue is bounded (`maxPending`): past it, the capture waiting longest runs at once, with
 * what the window holds so far (`complete: false`), counted in vigil_evidence_early_total.
 * Each part of a capture is capped (EVIDENCE_LIMITS) and says when it was truncated.
 *
 * A noisy vehicle raises many alerts in the same minute; their windows are nearly the same.
 * An alert within COALESCE_MS of one of the same vehicle whose capture is still waiting shares
 * that capture: its evidence is `{ sharedWith: <alert id>, window }` (the API follows it), so
 * a burst costs one set of queries, not one per alert.
 */
import type { SignalCatalog } from '../core/catalog.js';
import type { Clock } from '../core/clock.js';
import type { Store } from '../core/store.js';
import type { AlertQueries, IncidentStore } from '../alerts/ports.js';
import type { TwinView } from '../twin/twins.js';
import type { Metrics } from './metrics.js';

export const DEFAULT_EVIDENCE_BEFORE_MS = 60_000;
export const DEFAULT_EVIDENCE_AFTER_MS = 60_000;
/** Captures waiting for their "after" window at most. */
export const MAX_PENDING_CAPTURES = 1000;
/** Rows per part of one capture; one more is read to know the part was truncated. */
export const EVIDENCE_LIMITS = { signals: 5000, frames: 2000, security: 200, api: 200 } as const;
/** Alerts of one vehicle this close in time share one capture. */
export const COALESCE_MS = 10_000;
/** Time given to the store writer to store the last rows of the window. */
const GRACE_MS = 2000;

export interface EvidenceOptions {
  readonly store: Store;
  readonly incidents: IncidentStore;
  readonly queries: AlertQueries;
  readonly catalog: SignalCatalog;
  readonly twin: (tenant: string, vehicle: string) => Promise<TwinView | undefined>;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly beforeMs?: number;
  readonly afterMs?: number;
  readonly maxPending?: number;
}

export interface EvidenceRequest {
  readonly tenant: string;
  readonly id: string;
  readonly vehicle?: string;
  readonly time: number;
  readonly rule: string;
}

interface Pending extends EvidenceRequest {
  readonly due: number;
}

export class EvidenceCapture {
  private readonly pending: Pending[] = [];
  private running: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private readonly beforeMs: number;
  private readonly afterMs: number;
  private readonly maxPending: number;

  constructor(private readonly opts: EvidenceOptions) {
    this.beforeMs = opts.beforeMs ?? DEFAULT_EVIDENCE_BEFORE_MS;
    this.afterMs = opts.afterMs ?? DEFAULT_EVIDENCE_AFTER_MS;
    this.maxPending = opts.maxPending ?? MAX_PENDING_CAPTURES;
    const m = opts.metrics;
    m.counter('vigil_evidence_captured_total', 'Alert evidence captures stored');
    m.counter('vigil_evidence_early_total', 'Evidence captured before its after-window ended, for the queue cap (intentional)');
    m.counter('vigil_evidence_errors_total', 'Evidence captures that failed');
    m.counter('vigil_evidence_shared_total', 'Alerts whose evidence is the capture of a nearby alert of the same vehicle');
    m.gauge('vigil_evidence_pending', 'Evidence captures waiting for their after-window', () => this.pending.length);
  }

  /** Run due captures every `everyMs` of wall time. */
  start(everyMs = 1000): void {
    this.timer ??= setInterval(() => void this.tick(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  get waiting(): number {
    return this.pending.length;
  }

  /** Queue captures; each runs once the clock has passed its alert time + afterMs. */
  schedule(requests: readonly EvidenceRequest[]): void {
    const early: Pending[] = [];
    const shared: { r: EvidenceRequest; with: Pending }[] = [];
    for (const r of requests) {
      const near = r.vehicle === undefined ? undefined : this.pending.find((p) => p.vehicle === r.vehicle && p.tenant === r.tenant && Math.abs(p.time - r.time) <= COALESCE_MS);
      if (near) {
        shared.push({ r, with: near });
        continue;
      }
      this.pending.push({ ...r, due: r.time + this.afterMs + GRACE_MS });
      if (this.pending.length > this.maxPending) {
        this.pending.sort((a, b) => a.due - b.due);
        early.push(this.pending.shift()!);
      }
    }
    if (early.length) {
      this.opts.metrics.inc('vigil_evidence_early_total', early.length);
      void this.enqueue(early);
    }
    if (shared.length) void this.share(shared);
  }

  private share(list: readonly { r: EvidenceRequest; with: Pending }[]): Promise<number> {
    const run = this.running.then(async () => {
      const now = this.opts.clock.now();
      for (const { r, with: p } of list) {
        const window = { from: r.time - this.beforeMs, to: r.time + this.afterMs, beforeMs: this.beforeMs, afterMs: this.afterMs };
        try {
          await this.opts.incidents.saveEvidence(r.tenant, r.id, { alert: r.id, rule: r.rule, vehicle: r.vehicle, window, sharedWith: p.id }, now);
          this.opts.metrics.inc('vigil_evidence_shared_total');
        } catch {
          this.opts.metrics.inc('vigil_evidence_errors_total');
        }
      }
      return list.length;
    });
    this.running = run.catch(() => 0);
    return run;
  }

  /** Capture everything due now; resolves with how many were captured. */
  tick(): Promise<number> {
    const now = this.opts.clock.now();
    const due: Pending[] = [];
    for (let i = this.pending.length - 1; i >= 0; i--) {
      if (this.pending[i]!.due <= now) due.push(...this.pending.splice(i, 1));
    }
    return this.enqueue(due.reverse());
  }

  /** Capture everything now, due or not (at shutdown). */
  flush(): Promise<number> {
    return this.enqueue(this.pending.splice(0));
  }

  /** Resolves when no capture is running. */
  idle(): Promise<unknown> {
    return this.running;
  }

  private enqueue(list: readonly Pending[]): Promise<number> {
    if (!list.length) return this.running.then(() => 0);
    const run = this.running.then(async () => {
      let n = 0;
      for (const p of list) {
        try {
          await this.capture(p);
          n++;
          this.opts.metrics.inc('vigil_evidence_captured_total');
        } catch {
          this.opts.metrics.inc('vigil_evidence_errors_total');
        }
      }
      return n;
    });
    this.running = run.catch(() => 0);
    return run;
  }

  private async capture(p: Pending): Promise<void> {
    const { store, queries, catalog } = this.opts;
    const now = this.opts.clock.now();
    const from = p.time - this.beforeMs;
    const to = p.time + this.afterMs;
    const window = { from, to, beforeMs: this.beforeMs, afterMs: this.afterMs };
    const complete = now >= p.due;
    if (p.vehicle === undefined) {
      await this.opts.incidents.saveEvidence(p.tenant, p.id, { alert: p.id, rule: p.rule, window, complete, vehicle: null, note: 'a fleet or back-end alert: no vehicle window' }, now);
      return;
    }
    const q = { tenant: p.tenant, vehicle: p.vehicle, from, to };
    const [signals, frames, security, api, twin] = await Promise.all([
      store.querySignals({ ...q, limit: EVIDENCE_LIMITS.signals + 1 }),
      store.queryCanFrames({ ...q, limit: EVIDENCE_LIMITS.frames + 1 }),
      queries.securityEventsIn({ ...q, limit: EVIDENCE_LIMITS.security + 1 }),
      queries.apiEventsIn({ ...q, limit: EVIDENCE_LIMITS.api + 1 }),
      this.opts.twin(p.tenant, p.vehicle),
    ]);
    const part = <T, U>(rows: readonly T[], limit: number, map: (r: T) => U): { rows: U[]; truncated: boolean } => ({
      rows: rows.slice(0, limit).map(map),
      truncated: rows.length > limit,
    });
    const evidence = {
      alert: p.id,
      rule: p.rule,
      vehicle: p.vehicle,
      window,
      complete,
      signals: part(signals, EVIDENCE_LIMITS.signals, (s) => ({
        time: s.time, path: catalog.byIdOf(s.signal)?.path ?? `#${s.signal}`, value: s.value, ...(s.text !== null ? { text: s.text } : {}),
      })),
      frames: part(frames, EVIDENCE_LIMITS.frames, (f) => ({ time: f.time, id: f.id, data: Buffer.from(f.data).toString('hex'), ...(f.label ? { label: f.label } : {}) })),
      security: part(security, EVIDENCE_LIMITS.security, (e) => ({ ...e })),
      api: part(api, EVIDENCE_LIMITS.api, (e) => ({ ...e })),
      twin: twin === undefined ? null : {
        capturedAt: now,
        identity: twin.identity,
        ...(twin.cohort !== undefined ? { cohort: twin.cohort } : {}),
        firstSeen: twin.firstSeen ?? null,
        lastSeen: twin.lastSeen ?? null,
        signals: twin.signals.map((s) => ({ path: s.path, value: s.value, time: s.time })),
      },
    };
    await this.opts.incidents.saveEvidence(p.tenant, p.id, evidence, now);
  }
}
