/**
 * The alert pipeline: raw alerts in, one outcome per alert and the incidents they form out.
 *
 *   const p = new AlertPipeline({ clock, campaignRules: new Set(['fleet.campaign-any-rule']) });
 *   p.restore(await incidents.openIncidents());
 *   const r = p.process(alerts, await gatherEnrichment(alerts, sources));
 *   // persist r.created, r.updated, r.attach, r.outcomes, r.events, r.links, r.hits
 *
 * Stages, per alert in event-time order: suppression (suppress.ts) -> deduplication (dedup.ts)
 * -> grouping (group.ts) -> scoring (scoring.ts) of every incident the batch touched. Pure and
 * synchronous: no I/O, decisions depend only on the alerts, the enrichment and the clock, so a
 * replay decides as the live run did. Stateful: the open-incident index and the dedup keys,
 * both capped (MAX_OPEN_INCIDENTS, MAX_DEDUP_KEYS).
 */
import type { Clock } from '../core/clock.js';
import { SEVERITIES, type Alert, type Severity } from '../core/records.js';
import { Deduplicator, DEFAULT_DEDUP_WINDOWS, MAX_DEDUP_KEYS, type DedupWindows } from './dedup.js';
import { vehicleKey, type Enrichment, type IntelMatch } from './enrich.js';
import {
  addVehicle, campaignVehicles, DEFAULT_CAMPAIGN_WINDOW_MS, DEFAULT_GROUP_WINDOW_MS, IncidentIndex, incidentId, MAX_OPEN_INCIDENTS,
  routeOf, type OpenIncident, type Route,
} from './group.js';
import type { AlertOutcome, Incident } from './model.js';
import type { IncidentEvent, IncidentLink } from './ports.js';
import { scoreRisk } from './scoring.js';
import { SuppressionMatcher, type VehicleFacts } from './suppress.js';
import { DEFAULT_SLA, isClosed, slaClockStart, slaDueAt, type SlaPolicy } from './workflow.js';
import type { Suppression } from './model.js';

/** Intel matches kept per incident context. */
const MAX_INTEL_PER_INCIDENT = 20;

export interface AlertPipelineOptions {
  readonly clock: Clock;
  /** Fleet-correlation rules (`source: alert`): their alerts form campaign incidents. */
  readonly campaignRules?: ReadonlySet<string>;
  readonly dedupWindows?: DedupWindows;
  /** How long after its last alert a vehicle incident takes more (default 1 h). */
  readonly groupWindowMs?: number;
  /** The same for campaign and intel incidents (default 24 h). */
  readonly campaignWindowMs?: number;
  readonly maxOpenIncidents?: number;
  readonly maxDedupKeys?: number;
  readonly sla?: SlaPolicy;
}

/** Links of alerts to one incident. */
export interface Attachment {
  readonly tenant: string;
  readonly incident: string;
  readonly alerts: { id: string; vehicle?: string }[];
}

export interface AlertPipelineResult {
  readonly outcomes: AlertOutcome[];
  /** Incidents opened by this batch, as they stand after it. */
  readonly created: Incident[];
  /** Incidents that existed before the batch and changed (alerts joined, campaign tag). */
  readonly updated: Incident[];
  readonly attach: Attachment[];
  readonly events: IncidentEvent[];
  readonly links: IncidentLink[];
  /** Suppression hits per tenant and suppression id. */
  readonly hits: Map<string, Map<string, number>>;
  /** Alerts that opened or joined an incident (evidence is captured for these). */
  readonly grouped: Alert[];
}

export interface AlertPipelineCounters {
  alerts: number;
  duplicates: number;
  suppressed: number;
  grouped: number;
  incidentsOpened: number;
}

export class AlertPipeline {
  private readonly dedup: Deduplicator;
  private readonly index: IncidentIndex;
  private readonly suppressions = new SuppressionMatcher();
  private readonly campaignRules: ReadonlySet<string>;
  readonly counters: AlertPipelineCounters = { alerts: 0, duplicates: 0, suppressed: 0, grouped: 0, incidentsOpened: 0 };

  constructor(private readonly opts: AlertPipelineOptions) {
    this.dedup = new Deduplicator(opts.dedupWindows ?? DEFAULT_DEDUP_WINDOWS, opts.maxDedupKeys ?? MAX_DEDUP_KEYS);
    this.index = new IncidentIndex(opts.maxOpenIncidents ?? MAX_OPEN_INCIDENTS);
    this.campaignRules = opts.campaignRules ?? new Set();
  }

  /** Sizes of the bounded state and what the caps dropped, for metrics and tests. */
  get state(): { openIncidents: number; dedupKeys: number; incidentsEvicted: number; dedupKeysEvicted: number; suppressions: number } {
    return { openIncidents: this.index.size, dedupKeys: this.dedup.size, incidentsEvicted: this.index.evicted, dedupKeysEvicted: this.dedup.evicted, suppressions: this.suppressions.size };
  }

  /** Index open incidents (from the store at start), oldest last alert first. */
  restore(incidents: readonly Incident[]): void {
    const sorted = [...incidents].filter((i) => !isClosed(i.state)).sort((a, b) => a.lastAlertAt - b.lastAlertAt);
    for (const i of sorted) this.index.add(i);
  }

  /** The active suppressions (from the store); replaces the previous list. */
  setSuppressions(list: readonly Suppression[]): void {
    this.suppressions.replace(list);
  }

  /** An analyst closed an incident: later alerts open a new one. */
  closed(tenant: string, id: string): boolean {
    return this.index.remove(tenant, id);
  }

  /** The incident as stored now (state, tags, assignee changed by analysts); a closed one leaves the index. */
  refresh(incident: Incident): void {
    if (isClosed(incident.state)) {
      this.index.remove(incident.tenant, incident.id);
      return;
    }
    const open = this.index.byId(incident.tenant, incident.id);
    if (open) open.incident = incident;
  }

  /** Decide a batch of alerts. */
  process(alerts: readonly Alert[], enrichment: Enrichment): AlertPipelineResult {
    const now = this.opts.clock.now();
    const ordered = [...alerts].sort((a, b) => a.time - b.time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const outcomes: AlertOutcome[] = [];
    const created = new Map<string, OpenIncident>();
    const touched = new Map<string, OpenIncident>();
    const attach = new Map<string, Attachment>();
    const events: IncidentEvent[] = [];
    const links: IncidentLink[] = [];
    const grouped: Alert[] = [];
    const tagsOf = new Map<string, Set<string>>();
    const campaigns: [OpenIncident, Alert][] = [];

    for (const alert of ordered) {
      this.counters.alerts++;
      const facts = alert.vehicle === undefined ? undefined : enrichment.vehicles.get(vehicleKey(alert.tenant, alert.vehicle));
      const decide = (outcome: AlertOutcome['outcome'], ref: string): void => {
        outcomes.push({ tenant: alert.tenant, alert: alert.id, rule: alert.rule, outcome, ref, at: now });
      };
      const hidden = this.suppressions.match(alert, facts, now);
      if (hidden) {
        this.counters.suppressed++;
        decide('suppressed', hidden.id);
        continue;
      }
      const first = this.dedup.check(alert);
      if (first !== undefined) {
        this.counters.duplicates++;
        decide('duplicate', first);
        continue;
      }
      const route = routeOf(alert, this.campaignRules);
      const window = route.kind === 'vehicle' ? (this.opts.groupWindowMs ?? DEFAULT_GROUP_WINDOW_MS) : (this.opts.campaignWindowMs ?? DEFAULT_CAMPAIGN_WINDOW_MS);
      let open = this.index.find(alert.tenant, route, alert.time, window);
      if (!open) {
        open = this.index.add(this.newIncident(alert, route, facts, now));
        created.set(key(open), open);
        this.counters.incidentsOpened++;
        events.push(event(open.incident, 'created', now, { alert: alert.id, rule: alert.rule, kind: route.kind, groupKey: route.groupKey }));
      } else {
        this.join(open, alert, now);
      }
      if (facts?.moving) open.moving = true;
      this.mergeIntel(open, enrichment.intel.get(alert.id));
      touched.set(key(open), open);
      const tags = tagsOf.get(key(open)) ?? new Set<string>();
      for (const t of alert.tags) tags.add(t);
      tagsOf.set(key(open), tags);
      let a = attach.get(key(open));
      if (!a) attach.set(key(open), (a = { tenant: alert.tenant, incident: open.incident.id, alerts: [] }));
      a.alerts.push({ id: alert.id, ...(alert.vehicle !== undefined ? { vehicle: alert.vehicle } : {}) });
      this.counters.grouped++;
      grouped.push(alert);
      decide('incident', open.incident.id);
      if (this.campaignRules.has(alert.rule)) campaigns.push([open, alert]);
    }
    // After the whole batch: the vehicle alerts a campaign alert counted often arrive with it.
    for (const [open, alert] of campaigns) this.linkCampaign(open, alert, now, touched, events, links);

    for (const [k, open] of touched) {
      const i = open.incident;
      const f = scoreRisk({
        severity: i.severity, rules: i.rules, tags: [...(tagsOf.get(k) ?? [])], moving: open.moving, alertCount: i.alertCount,
        vehicles: i.vehicleCount, fleet: enrichment.fleet.get(i.tenant) ?? 0,
      });
      const fleet = enrichment.fleet.get(i.tenant) ?? 0;
      open.incident = {
        ...i,
        risk: Math.max(f.risk, created.has(k) ? 0 : i.risk),
        context: { ...i.context, spread: { vehicles: i.vehicleCount, fleet }, score: { severity: f.severity, criticality: f.criticality, exposure: f.exposure, spread: f.spread, moving: open.moving } },
      };
      const a = attach.get(k);
      if (a && !created.has(k)) events.push(event(open.incident, 'alerts', now, { alerts: a.alerts.map((x) => x.id).slice(0, 100), count: a.alerts.length }, `alerts:${a.alerts[0]!.id}`));
    }
    return {
      outcomes,
      created: [...created.values()].map((o) => o.incident),
      updated: [...touched].filter(([k]) => !created.has(k)).map(([, o]) => o.incident),
      attach: [...attach.values()],
      events,
      links,
      hits: this.suppressions.takeHits(),
      grouped,
    };
  }

  private newIncident(alert: Alert, route: Route, facts: VehicleFacts | undefined, now: number): Incident {
    const id = incidentId(alert.tenant, route, alert.id);
    const vehicle = route.kind === 'vehicle' ? alert.vehicle : undefined;
    // An intel incident is titled by its item; a STIX indicator's id is a UUID, and the alert's title already names the indicator.
    const intelTitle = route.intel?.startsWith('indicator--') ? `Threat indicator: ${alert.title}` : `${route.intel}: ${alert.title}`;
    const title = route.kind === 'campaign' ? `Campaign: ${alert.title}` : route.kind === 'intel' ? intelTitle : alert.title;
    const due = slaDueAt('new', alert.severity, now, this.opts.sla ?? DEFAULT_SLA);
    const identity = facts && vehicle !== undefined ? { identity: { ...facts } } : {};
    return {
      tenant: alert.tenant,
      id,
      kind: route.kind,
      groupKey: route.groupKey,
      title,
      state: 'new',
      severity: alert.severity,
      risk: 0,
      tags: [],
      ...(vehicle !== undefined ? { vehicle } : {}),
      rules: [alert.rule],
      vehicleCount: alert.vehicle !== undefined ? 1 : 0,
      alertCount: 1,
      firstAlertAt: alert.time,
      lastAlertAt: alert.time,
      createdAt: now,
      updatedAt: now,
      ...(due !== undefined ? { slaDueAt: due } : {}),
      context: { ...identity, ...(route.intel !== undefined ? { intel: [{ id: route.intel }] } : {}) },
    };
  }

  private join(open: OpenIncident, alert: Alert, now: number): void {
    const i = open.incident;
    const severity = maxSeverity(i.severity, alert.severity);
    const due = severity !== i.severity ? slaDueAt(i.state, severity, slaClockStart(i), this.opts.sla ?? DEFAULT_SLA) : i.slaDueAt;
    open.incident = {
      ...i,
      severity,
      rules: i.rules.includes(alert.rule) ? i.rules : [...i.rules, alert.rule],
      alertCount: i.alertCount + 1,
      vehicleCount: addVehicle(open, alert.vehicle),
      firstAlertAt: Math.min(i.firstAlertAt, alert.time),
      lastAlertAt: Math.max(i.lastAlertAt, alert.time),
      updatedAt: now,
      ...(due !== undefined ? { slaDueAt: due } : {}),
    };
  }

  private mergeIntel(open: OpenIncident, matches: readonly IntelMatch[] | undefined): void {
    if (!matches?.length) return;
    const have = (open.incident.context['intel'] as IntelMatch[] | undefined) ?? [];
    const ids = new Set(have.map((m) => m.id));
    const more = matches.filter((m) => !ids.has(m.id));
    if (!more.length) return;
    open.incident = { ...open.incident, context: { ...open.incident.context, intel: [...have, ...more].slice(0, MAX_INTEL_PER_INCIDENT) } };
  }

  /** Tag the open vehicle incidents of the vehicles a campaign alert counted, and link them to it. */
  private linkCampaign(campaign: OpenIncident, alert: Alert, now: number, touched: Map<string, OpenIncident>, events: IncidentEvent[], links: IncidentLink[]): void {
    const tag = `campaign:${campaign.incident.id}`;
    let vehicles = campaign.incident.vehicleCount;
    for (const v of campaignVehicles(alert.details)) {
      vehicles = addVehicle(campaign, v);
      const open = this.index.vehicleIncident(alert.tenant, v);
      if (!open || open.incident.tags.includes(tag)) continue;
      open.incident = { ...open.incident, tags: [...open.incident.tags, tag], context: { ...open.incident.context, campaign: campaign.incident.id }, updatedAt: now };
      touched.set(key(open), open);
      links.push({ tenant: alert.tenant, a: campaign.incident.id, b: open.incident.id, relation: 'campaign', createdBy: 'system', createdAt: now });
      events.push(event(open.incident, 'link', now, { campaign: campaign.incident.id, relation: 'campaign' }, `campaign:${campaign.incident.id}`));
    }
    campaign.incident = { ...campaign.incident, vehicleCount: vehicles };
  }
}

function key(open: OpenIncident): string {
  return `${open.incident.tenant}\u0000${open.incident.id}`;
}

function event(i: Incident, kind: string, time: number, body: Record<string, unknown>, id: string = kind): IncidentEvent {
  return { tenant: i.tenant, incident: i.id, id, time, actor: 'system', kind, body };
}

function maxSeverity(a: Severity, b: Severity): Severity {
  return SEVERITIES.indexOf(a) >= SEVERITIES.indexOf(b) ? a : b;
}
