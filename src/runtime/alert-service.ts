/**
 * The alert pipeline in the running system: alerts arrive once durably stored
 * (Pipeline.onAlertsStored), are decided in batches by the pure AlertPipeline (src/alerts),
 * and its results are persisted: incidents (IncidentStore), their history and campaign links
 * (WorkflowStore), one outcome per alert, suppression hits; then evidence is scheduled for
 * every alert that opened or joined an incident (evidence.ts).
 *
 * One batch is decided at a time (a promise chain), in arrival order. The queue of alerts
 * waiting is bounded (MAX_QUEUED_ALERTS): past it alerts stay stored but undecided (outcome
 * `pending` in the API), counted in vigil_alert_pipeline_backlog_skipped_total. Persisting is
 * retried step by step (PERSIST_ATTEMPTS); a batch that still fails is counted in
 * vigil_alert_pipeline_errors_total and its alerts stay `pending`.
 *
 * At start the open-incident index is rebuilt from the store and the active suppressions are
 * loaded; suppressions are reloaded and incidents closed by analysts dropped from the index
 * at most every REFRESH_MS, before a batch.
 */
import type { Clock } from '../core/clock.js';
import type { Alert } from '../core/records.js';
import type { Store } from '../core/store.js';
import { EnrichmentCache, gatherEnrichment, type IntelMatch } from '../alerts/enrich.js';
import type { Incident } from '../alerts/model.js';
import { AlertPipeline, type AlertPipelineOptions, type AlertPipelineResult } from '../alerts/pipeline.js';
import type { AlertQueries, IncidentStore, NoiseRow, WorkflowStore } from '../alerts/ports.js';
import { DEFAULT_SLA, slaClockStart, slaDueAt, type SlaPolicy } from '../alerts/workflow.js';
import type { TwinView } from '../twin/twins.js';
import type { EvidenceCapture } from './evidence.js';
import type { Metrics } from './metrics.js';

/** Alerts waiting to be decided at most. */
export const MAX_QUEUED_ALERTS = 100_000;
/** Alerts decided per batch at most. */
export const MAX_BATCH_ALERTS = 5000;
/** How often suppressions are reloaded and closed incidents dropped from the index, at most. */
export const REFRESH_MS = 5000;
/** Tries per persist step before the batch is given up (its alerts stay `pending`). */
export const PERSIST_ATTEMPTS = 4;
/** Context keys the alert pipeline owns; every other key (set by the workflow) is kept on update. */
const PIPELINE_CONTEXT = ['identity', 'spread', 'score', 'intel', 'campaign'];

export interface AlertServiceOptions {
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly store: Pick<Store, 'getVehicle'>;
  readonly incidents: IncidentStore;
  readonly queries: AlertQueries;
  readonly workflow: WorkflowStore;
  readonly twin?: (tenant: string, vehicle: string) => Promise<TwinView | undefined>;
  readonly evidence?: EvidenceCapture;
  /** Intel matches of a batch's alerts, by alert id (src/api/alert-pipeline.ts: the vehicles' exposures, `exposureIntel`). */
  readonly intel?: (alerts: readonly Alert[]) => Promise<ReadonlyMap<string, readonly IntelMatch[]>>;
  readonly pipeline?: Omit<AlertPipelineOptions, 'clock'>;
}

/** Noise reduction of one tenant: per rule, and in total. */
export interface NoiseReport {
  readonly rules: readonly (NoiseRow & { readonly reductionPct: number })[];
  readonly totals: { readonly alerts: number; readonly duplicates: number; readonly suppressed: number; readonly incidents: number; readonly reductionPct: number };
}

export class AlertService {
  readonly pipeline: AlertPipeline;
  private queue: Alert[] = [];
  private chain: Promise<void> = Promise.resolve();
  private scheduled = false;
  private lastRefresh = -Infinity;
  private lastClosedCheck = 0;
  private readonly enrichCache = new EnrichmentCache();
  private readonly createdListeners: ((incidents: readonly Incident[]) => void)[] = [];
  /** The last failure, while batches fail. */
  lastError: Error | undefined;

  constructor(private readonly opts: AlertServiceOptions) {
    this.pipeline = new AlertPipeline({ ...opts.pipeline, clock: opts.clock });
    const m = opts.metrics;
    m.counter('vigil_alert_pipeline_alerts_total', 'Alerts decided by the alert pipeline', { rate: true });
    m.counter('vigil_alert_pipeline_duplicates_total', 'Alerts decided as duplicates of an earlier alert');
    m.counter('vigil_alert_pipeline_suppressed_total', 'Alerts hidden by an analyst suppression');
    m.counter('vigil_incidents_opened_total', 'Incidents opened by the alert pipeline');
    m.counter('vigil_alert_pipeline_errors_total', 'Alert batches whose results failed to persist');
    m.counter('vigil_alert_pipeline_backlog_skipped_total', 'Alerts left undecided because the alert queue was full (intentional)');
    m.gauge('vigil_alert_pipeline_queue', 'Alerts waiting for the alert pipeline', () => this.queue.length);
    m.gauge('vigil_alert_pipeline_open_incidents', 'Open incidents in the alert pipeline index', () => this.pipeline.state.openIncidents);
    m.gauge('vigil_alert_pipeline_dedup_keys', 'Deduplication keys remembered', () => this.pipeline.state.dedupKeys);
  }

  /** Rebuild the open-incident index and load the suppressions. */
  async start(): Promise<void> {
    const now = this.opts.clock.now();
    this.pipeline.restore(await this.opts.incidents.openIncidents());
    this.pipeline.setSuppressions(await this.opts.incidents.activeSuppressions(now));
    this.lastRefresh = now;
    this.lastClosedCheck = now;
  }

  /** Take stored alerts (the Pipeline.onAlertsStored listener). */
  offer(alerts: readonly Alert[]): void {
    const room = MAX_QUEUED_ALERTS - this.queue.length;
    if (alerts.length > room) this.opts.metrics.inc('vigil_alert_pipeline_backlog_skipped_total', alerts.length - Math.max(0, room));
    if (room > 0) this.queue.push(...alerts.slice(0, room));
    if (this.scheduled) return;
    this.scheduled = true;
    this.chain = this.chain.then(() => this.drainQueue());
  }

  /** Resolves when every alert offered so far is decided and persisted. */
  async idle(): Promise<void> {
    while (this.scheduled) await this.chain;
  }

  /**
   * Call `listener` with the incidents each batch created, once they and their alert links are
   * stored (automatic playbooks start there). Returns a function that removes it.
   */
  onIncidentsCreated(listener: (incidents: readonly Incident[]) => void): () => void {
    this.createdListeners.push(listener);
    return () => {
      const i = this.createdListeners.indexOf(listener);
      if (i >= 0) this.createdListeners.splice(i, 1);
    };
  }

  /** Reload suppressions now (after one was created or expired through the API). */
  async refreshSuppressions(): Promise<void> {
    this.pipeline.setSuppressions(await this.opts.incidents.activeSuppressions(this.opts.clock.now()));
  }

  /** AlertPipelineHooks of the incident routes: suppressions were added or ended. */
  suppressionsChanged(): Promise<void> {
    return this.refreshSuppressions();
  }

  /** An analyst closed an incident: later alerts of its key open a new one. */
  incidentClosed(tenant: string, id: string): void {
    this.pipeline.closed(tenant, id);
  }

  /** Alerts in, incidents out, per rule and in total, since `since`. */
  async noise(tenant: string, since?: number): Promise<NoiseReport> {
    const [rows, incidents] = await Promise.all([this.opts.incidents.noise(tenant, since), this.opts.queries.noiseIncidents(tenant, since)]);
    const pct = (alerts: number, out: number): number => (alerts === 0 ? 0 : Math.round((1000 * (alerts - out)) / alerts) / 10);
    const sum = (f: (r: NoiseRow) => number): number => rows.reduce((s, r) => s + f(r), 0);
    const alerts = sum((r) => r.alerts);
    return {
      rules: rows.map((r) => ({ ...r, reductionPct: pct(r.alerts, r.incidents) })),
      totals: { alerts, duplicates: sum((r) => r.duplicates), suppressed: sum((r) => r.suppressed), incidents, reductionPct: pct(alerts, incidents) },
    };
  }

  private async drainQueue(): Promise<void> {
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, MAX_BATCH_ALERTS);
        try {
          await this.decide(batch);
          this.lastError = undefined;
        } catch (e) {
          this.lastError = e as Error;
          this.opts.metrics.inc('vigil_alert_pipeline_errors_total');
        }
      }
    } finally {
      this.scheduled = false;
    }
  }

  private async decide(batch: readonly Alert[]): Promise<void> {
    const { queries, metrics, clock } = this.opts;
    await this.refresh();
    const fresh = await this.undecided(batch);
    if (!fresh.length) return;
    const enrichment = await gatherEnrichment(fresh, {
      storedVehicle: (t, v) => this.opts.store.getVehicle(t, v),
      ...(this.opts.twin ? { liveTwin: this.opts.twin } : {}),
      fleetSize: (t) => queries.fleetSize(t),
      ...(this.opts.intel ? { intel: this.opts.intel } : {}),
    }, { store: this.enrichCache, now: clock.now() });
    const before = { ...this.pipeline.counters };
    const r = this.pipeline.process(fresh, enrichment);
    const c = this.pipeline.counters;
    metrics.inc('vigil_alert_pipeline_alerts_total', c.alerts - before.alerts);
    metrics.inc('vigil_alert_pipeline_duplicates_total', c.duplicates - before.duplicates);
    metrics.inc('vigil_alert_pipeline_suppressed_total', c.suppressed - before.suppressed);
    metrics.inc('vigil_incidents_opened_total', c.incidentsOpened - before.incidentsOpened);
    await this.persist(r, clock.now());
    // A listener's failure must not fail the batch that is already stored.
    for (const listener of r.created.length ? this.createdListeners : []) {
      try {
        listener(r.created);
      } catch (e) {
        this.lastError = e as Error;
      }
    }
    this.opts.evidence?.schedule(r.grouped.map((a) => ({ tenant: a.tenant, id: a.id, time: a.time, rule: a.rule, ...(a.vehicle !== undefined ? { vehicle: a.vehicle } : {}) })));
  }

  /** Alerts without an outcome yet: a replayed or re-delivered alert is decided once. */
  private async undecided(batch: readonly Alert[]): Promise<Alert[]> {
    const byTenant = new Map<string, Alert[]>();
    for (const a of batch) {
      let list = byTenant.get(a.tenant);
      if (!list) byTenant.set(a.tenant, (list = []));
      list.push(a);
    }
    const out: Alert[] = [];
    for (const [tenant, list] of byTenant) {
      const done = await this.opts.queries.decidedAlerts(tenant, list.map((a) => a.id));
      const seen = new Set<string>();
      for (const a of list) {
        if (done.has(a.id) || seen.has(a.id)) continue;
        seen.add(a.id);
        out.push(a);
      }
    }
    return out;
  }

  private async refresh(): Promise<void> {
    const now = this.opts.clock.now();
    if (now - this.lastRefresh < REFRESH_MS && now >= this.lastRefresh) return;
    this.lastRefresh = now;
    await this.refreshSuppressions();
    // A minute of slack: closing twice is harmless, missing one is not.
    for (const c of await this.opts.queries.closedSince(this.lastClosedCheck - 60_000)) this.pipeline.closed(c.tenant, c.id);
    this.lastClosedCheck = now;
  }

  /**
   * Store a batch's results, step by step; a failed step is retried (PERSIST_ATTEMPTS, with
   * backoff) from where it failed, so a step that succeeded is not repeated (hits stay exact).
   */
  private async persist(r: AlertPipelineResult, now: number): Promise<void> {
    const { incidents, workflow } = this.opts;
    const steps: (() => Promise<unknown>)[] = [
      () => (r.created.length ? incidents.insertIncidents(r.created) : Promise.resolve()),
      async () => {
        if (!r.updated.length) return;
        const next = new Map(r.updated.map((i) => [`${i.tenant}\u0000${i.id}`, i]));
        const sla = this.opts.pipeline?.sla ?? DEFAULT_SLA;
        const saved = await incidents.updateIncidents(r.updated, (stored) => mergePatch(stored, next.get(`${stored.tenant}\u0000${stored.id}`)!, sla), now);
        for (const i of saved) this.pipeline.refresh(i);
      },
      () => incidents.attachAlertsMany(r.attach, now),
      () => (r.events.length ? workflow.appendEvents(r.events) : Promise.resolve()),
      ...r.links.map((l) => () => workflow.insertLink(l)),
      ...[...r.hits].map(([tenant, hits]) => () => incidents.addSuppressionHits(tenant, hits)),
      // Last: an alert counts as decided only once everything it caused is stored.
      () => incidents.recordOutcomes(r.outcomes),
    ];
    for (const step of steps) {
      for (let attempt = 1; ; attempt++) {
        try {
          await step();
          break;
        } catch (e) {
          if (attempt >= PERSIST_ATTEMPTS) throw e;
          await new Promise((resolve) => setTimeout(resolve, 50 * 4 ** attempt));
        }
      }
    }
  }
}

/**
 * What the pipeline changes of an incident that exists: its alert-derived fields; tags are
 * added (never removed: analysts' tags stay) and only the pipeline's own context keys replaced.
 */
function mergePatch(stored: Incident, next: Incident, sla: SlaPolicy): Parameters<IncidentStore['updateIncident']>[2] {
  const own = Object.fromEntries(Object.entries(next.context).filter(([k]) => PIPELINE_CONTEXT.includes(k)));
  return {
    severity: next.severity,
    risk: next.risk,
    rules: next.rules,
    alertCount: Math.max(stored.alertCount, next.alertCount),
    vehicleCount: Math.max(stored.vehicleCount, next.vehicleCount),
    lastAlertAt: Math.max(stored.lastAlertAt, next.lastAlertAt),
    tags: [...new Set([...stored.tags, ...next.tags])],
    context: { ...stored.context, ...own },
    // A higher severity shortens the SLA of the state the incident is in now.
    ...(next.severity !== stored.severity ? { slaDueAt: slaDueAt(stored.state, next.severity, slaClockStart(stored), sla) ?? null } : {}),
  };
}
