/**
 * Runs response actions and playbooks against the ports: every action run is stored
 * (`action_runs`), put on the incident's history (an event of kind `action`) and audited,
 * whether it succeeded, failed or was skipped by its `when`. A failing step stops its playbook
 * unless the step says `continueOnError`.
 *
 * The actions (parameters in playbooks.ts):
 * - `webhook`: signed JSON POST of the incident to a configured webhook channel;
 * - `ota_campaign`: a response request for the OTA back end, sent to it as a signed webhook
 *   when one is configured (`playbooks.ota`), otherwise left `requested` for it to poll;
 * - `revoke_token`: revokes a Vigil API token of the incident's tenant (TokenStore port);
 * - `raise_collection`: an active response request until it expires, published to each vehicle
 *   on `vigil/<tenant>/<vehicle>/commands` when an MQTT broker runs;
 * - `notify`: a message to a configured channel (webhook or syslog).
 * Deliveries retry with backoff and every attempt is in the delivery log.
 */
import type { AuditLog, Principal, TokenStore } from '../core/access.js';
import { systemPrincipal } from '../core/access.js';
import type { Clock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import type { Severity, VehicleRecord } from '../core/records.js';
import { DeliveryLog } from './delivery-log.js';
import type { Incident } from './model.js';
import type { Notification, Notifier } from './notifier.js';
import {
  checkActionParams, checkPlaybook, conditionHolds, fillTemplates, MAX_REQUEST_VEHICLES, triggersOn,
  type ActionParams, type Playbook, type RunContext, type VehicleSetSpec,
} from './playbooks.js';
import type { IncidentStore, WorkflowStore } from './ports.js';
import type { ActionKind, ActionRun, DeliveryRecord, ResponseStore, RunStatus } from './response.js';

/** Sends a command to one vehicle (the embedded MQTT broker); false when it could not. */
export interface CommandPublisher {
  publish(tenant: string, vehicle: string, command: Readonly<Record<string, unknown>>): Promise<boolean>;
}

export interface ResponderDeps {
  readonly store: ResponseStore;
  readonly incidents: Pick<IncidentStore, 'getIncident'>;
  readonly workflow: Pick<WorkflowStore, 'appendEvents'>;
  readonly audit: Pick<AuditLog, 'append'>;
  readonly tokens?: Pick<TokenStore, 'get' | 'revoke'>;
  /** The tenant's vehicles, for `vehicles: { filter }` (pages of the Store). */
  readonly vehicles: { listVehicles(tenant: string, page: { limit: number; offset?: number }): Promise<VehicleRecord[]> };
  /** Named channels (config `playbooks.channels`). */
  readonly channels: ReadonlyMap<string, Notifier>;
  /** The OTA back end's webhook (config `playbooks.ota`). */
  readonly ota?: Notifier;
  readonly commands?: CommandPublisher;
  /** Playbooks shipped with Vigil or read from `playbooks.dir`, for every tenant (a tenant's own of the same id wins). */
  readonly shipped?: readonly Playbook[];
  readonly clock: Clock;
  readonly newId?: () => string;
  /** Told of every delivery attempt (metrics). */
  readonly onDeliveryAttempt?: (row: DeliveryRecord) => void;
}

/** One run of a playbook on an incident. */
export interface PlaybookRun {
  readonly playbook: string;
  readonly incident: string;
  readonly status: 'succeeded' | 'failed';
  /** The step that failed and stopped the playbook. */
  readonly stoppedAt?: number;
  readonly runs: readonly ActionRun[];
}

/** Where a playbook comes from: the tenant's own (`stored`) or shipped (`file`). */
export interface PlaybookEntry {
  readonly playbook: Playbook;
  readonly source: 'stored' | 'file';
  readonly updatedBy?: string;
  readonly updatedAt?: number;
}

/** Automatic playbooks run on at most this many new incidents per call. */
const MAX_AUTOMATIC_INCIDENTS = 1000;
/**
 * Automatic playbooks answer what is happening now: an incident whose newest alert is older than
 * this (historical alerts imported and triaged) starts none; it can still be run by hand.
 */
export const AUTOMATIC_MAX_AGE_MS = 24 * 3600_000;
/** Vehicles read per page for a filter. */
const VEHICLE_PAGE = 5000;

export class Responder {
  readonly deliveries: DeliveryLog;
  private readonly newId: () => string;
  /** The last failure of an automatic run (they have no caller to tell). */
  lastError: Error | undefined;
  /** New incidents too old for automatic playbooks (AUTOMATIC_MAX_AGE_MS), and those past MAX_AUTOMATIC_INCIDENTS. */
  automaticSkipped = 0;

  constructor(private readonly deps: ResponderDeps) {
    this.deliveries = new DeliveryLog(deps.store, deps.onDeliveryAttempt);
    this.newId = deps.newId ?? (() => crypto.randomUUID());
  }

  /** Names of the configured channels. */
  get channelNames(): ReadonlySet<string> {
    return new Set(this.deps.channels.keys());
  }

  /** The tenant's playbooks: its own, and the shipped ones it has not replaced. */
  async playbooks(tenant: string): Promise<PlaybookEntry[]> {
    const own = await this.deps.store.listPlaybooks(tenant);
    const out = new Map<string, PlaybookEntry>();
    for (const p of this.deps.shipped ?? []) out.set(p.id, { playbook: p, source: 'file' });
    for (const s of own) {
      const c = checkPlaybook(s.definition);
      if (c.playbook) out.set(s.id, { playbook: c.playbook, source: 'stored', updatedBy: s.updatedBy, updatedAt: s.updatedAt });
    }
    return [...out.values()].sort((a, b) => (a.playbook.id < b.playbook.id ? -1 : 1));
  }

  async playbook(tenant: string, id: string): Promise<PlaybookEntry | undefined> {
    return (await this.playbooks(tenant)).find((e) => e.playbook.id === id);
  }

  /**
   * Run one action on its own, for an incident. Bad parameters (or an unknown channel) throw
   * ConfigError before anything is recorded; a failure of the action itself is a `failed` run.
   */
  async runAction(tenant: string, incident: Incident, action: ActionKind, params: unknown, principal: Principal): Promise<ActionRun> {
    const checked = checkActionParams(action, params);
    if (!checked.params) throw new ConfigError(`invalid ${action} parameters`, checked.problems);
    this.checkChannel(checked.params);
    return this.execute({ tenant, incident, action, params: checked.params, principal });
  }

  /** Run a playbook on an incident, step by step. */
  async runPlaybook(tenant: string, incident: Incident, playbook: Playbook, principal: Principal, inputs: Readonly<Record<string, unknown>> = {}): Promise<PlaybookRun> {
    const unknown = Object.keys(inputs).filter((k) => !(k in playbook.inputs));
    if (unknown.length) throw new ConfigError('unknown playbook inputs', unknown.map((k) => `inputs.${k}: not declared by playbook ${playbook.id} (declared: ${Object.keys(playbook.inputs).join(', ') || 'none'})`));
    const steps: Record<string, { status: string; result?: Readonly<Record<string, unknown>> }> = {};
    const ctx: RunContext = { incident: incidentView(incident), inputs, playbook: { id: playbook.id, title: playbook.title }, steps };
    const runs: ActionRun[] = [];
    let stoppedAt: number | undefined;
    for (const [i, step] of playbook.steps.entries()) {
      const base = { tenant, incident, action: step.action, principal, playbook: playbook.id, step: i };
      let run: ActionRun;
      if (!conditionHolds(step.when, ctx)) {
        run = await this.record({ ...base, params: step.params as Record<string, unknown> }, 'skipped', { reason: 'when did not hold', when: step.when });
      } else {
        const checked = checkActionParams(step.action, fillTemplates(step.params, ctx));
        const missing = checked.params ? this.channelProblem(checked.params) : undefined;
        if (!checked.params || missing) {
          run = await this.record({ ...base, params: step.params as Record<string, unknown> }, 'failed', { error: checked.problems.length ? checked.problems.join('; ') : missing });
        } else {
          run = await this.execute({ ...base, params: checked.params });
        }
      }
      runs.push(run);
      if (step.id !== undefined) steps[step.id] = { status: run.status, ...(run.result ? { result: run.result } : {}) };
      if (run.status === 'failed' && !step.continueOnError) {
        stoppedAt = i;
        break;
      }
    }
    const status = stoppedAt === undefined ? 'succeeded' : 'failed';
    await this.deps.audit.append([{
      principal, tenant, action: 'playbook.run', targetType: 'incident', targetId: incident.id,
      details: { playbook: playbook.id, status, runs: runs.map((r) => r.id), ...(stoppedAt !== undefined ? { stoppedAt } : {}) },
    }]);
    return { playbook: playbook.id, incident: incident.id, status, runs, ...(stoppedAt !== undefined ? { stoppedAt } : {}) };
  }

  /**
   * The incidents the alert pipeline just created: run every automatic playbook whose trigger
   * matches, as Vigil itself (`system`). Failures are kept in `lastError`, never thrown.
   */
  async incidentsCreated(incidents: readonly Incident[]): Promise<PlaybookRun[]> {
    const out: PlaybookRun[] = [];
    const byTenant = new Map<string, PlaybookEntry[]>();
    this.automaticSkipped += Math.max(0, incidents.length - MAX_AUTOMATIC_INCIDENTS);
    for (const incident of incidents.slice(0, MAX_AUTOMATIC_INCIDENTS)) {
      if (this.deps.clock.now() - incident.lastAlertAt > AUTOMATIC_MAX_AGE_MS) {
        this.automaticSkipped++;
        continue;
      }
      try {
        let entries = byTenant.get(incident.tenant);
        if (!entries) byTenant.set(incident.tenant, (entries = await this.playbooks(incident.tenant)));
        for (const { playbook } of entries) {
          if (triggersOn(playbook, incident)) out.push(await this.runPlaybook(incident.tenant, incident, playbook, systemPrincipal(incident.tenant)));
        }
      } catch (e) {
        this.lastError = e as Error;
      }
    }
    return out;
  }

  async close(): Promise<void> {
    await this.deliveries.flush();
  }

  private checkChannel(params: ActionParams[ActionKind]): void {
    const problem = this.channelProblem(params);
    if (problem) throw new ConfigError('unknown channel', [`params.channel: ${problem}`]);
  }

  private channelProblem(params: ActionParams[ActionKind]): string | undefined {
    if (!('channel' in params) || this.deps.channels.has(params.channel)) return undefined;
    return `no channel "${params.channel}" is configured (playbooks.channels: ${[...this.deps.channels.keys()].join(', ') || 'none'})`;
  }

  private async execute<K extends ActionKind>(r: Run<K>): Promise<ActionRun> {
    const started = this.deps.clock.now();
    let status: RunStatus;
    let result: Record<string, unknown>;
    try {
      ({ status, result } = await this.perform(r));
    } catch (e) {
      status = 'failed';
      result = { error: (e as Error).message };
    }
    return this.record(r, status, result, started);
  }

  /** Store the run, put it on the incident, audit it. */
  private async record(r: Run<ActionKind>, status: RunStatus, result: Record<string, unknown>, started = this.deps.clock.now()): Promise<ActionRun> {
    const now = this.deps.clock.now();
    const run: ActionRun = {
      tenant: r.tenant, id: this.newId(), incident: r.incident.id, action: r.action, status, params: r.params as Record<string, unknown>, result,
      actor: r.principal.tokenId, startedAt: started, finishedAt: now,
      ...(r.playbook !== undefined ? { playbook: r.playbook } : {}), ...(r.step !== undefined ? { step: r.step } : {}),
    };
    await this.deps.store.insertActionRun(run);
    const summary = { run: run.id, action: run.action, status, params: run.params, result, ...(r.playbook !== undefined ? { playbook: r.playbook, step: r.step } : {}) };
    await this.deps.workflow.appendEvents([{ tenant: r.tenant, incident: r.incident.id, id: `action-${run.id}`, time: now, actor: r.principal.tokenId, kind: 'action', body: summary }]);
    await this.deps.audit.append([{ principal: r.principal, tenant: r.tenant, action: `action.${r.action}`, targetType: 'incident', targetId: r.incident.id, details: summary }]);
    return run;
  }

  private async perform<K extends ActionKind>(r: Run<K>): Promise<{ status: RunStatus; result: Record<string, unknown> }> {
    const p = r.params as ActionParams[ActionKind];
    switch (r.action) {
      case 'notify': {
        const q = p as ActionParams['notify'];
        const severity: Severity = q.severity === 'incident' ? r.incident.severity : q.severity;
        return this.send(this.deps.channels.get(q.channel)!, r, 'notify', severity, q.message, { playbook: r.playbook ?? null });
      }
      case 'webhook': {
        const q = p as ActionParams['webhook'];
        const channel = this.deps.channels.get(q.channel)!;
        if (channel.kind !== 'webhook') return { status: 'failed', result: { error: `channel ${q.channel} is ${channel.kind}, not a webhook` } };
        return this.send(channel, r, q.event, r.incident.severity, `${r.incident.title} (${r.incident.id})`, { playbook: r.playbook ?? null, ...q.data });
      }
      case 'revoke_token':
        return this.revokeToken(r, p as ActionParams['revoke_token']);
      case 'ota_campaign':
        return this.otaCampaign(r, p as ActionParams['ota_campaign']);
      case 'raise_collection':
        return this.raiseCollection(r, p as ActionParams['raise_collection']);
    }
    throw new Error(`unknown action ${String(r.action)}`);
  }

  private async send(channel: Notifier, r: Run<ActionKind>, event: string, severity: Severity, message: string, data: Record<string, unknown>): Promise<{ status: RunStatus; result: Record<string, unknown> }> {
    const n: Notification = {
      id: this.newId(), tenant: r.tenant, event, severity, message, time: this.deps.clock.now(),
      data: { incident: r.incident.id, title: r.incident.title, state: r.incident.state, incidentSeverity: r.incident.severity, risk: r.incident.risk, vehicle: r.incident.vehicle ?? null, rules: r.incident.rules, ...data },
    };
    const last = await this.deliveries.deliver(channel, n);
    const result = { delivery: n.id, channel: channel.channel, attempts: last.attempt, ...(last.httpStatus !== undefined ? { httpStatus: last.httpStatus } : {}), ...(last.error !== undefined ? { error: last.error } : {}) };
    return { status: last.status === 'delivered' ? 'succeeded' : 'failed', result };
  }

  private async revokeToken(r: Run<ActionKind>, p: ActionParams['revoke_token']): Promise<{ status: RunStatus; result: Record<string, unknown> }> {
    const tokens = this.deps.tokens;
    if (!tokens) return { status: 'failed', result: { error: 'no token store: API tokens are not enabled' } };
    const token = await tokens.get(p.token);
    // A token of another tenant (or an operator token) is "not found": an incident never reaches past its tenant.
    if (!token || token.tenant !== r.tenant) return { status: 'failed', result: { error: `no token ${p.token} in tenant ${r.tenant}` } };
    const revoked = await tokens.revoke(p.token, this.deps.clock.now());
    await this.deps.audit.append([{ principal: r.principal, tenant: r.tenant, action: 'token.revoke', targetType: 'token', targetId: p.token, details: { incident: r.incident.id, reason: p.reason ?? 'response action', alreadyRevoked: !revoked } }]);
    return { status: 'succeeded', result: { token: p.token, name: token.name, alreadyRevoked: !revoked } };
  }

  private async otaCampaign(r: Run<ActionKind>, p: ActionParams['ota_campaign']): Promise<{ status: RunStatus; result: Record<string, unknown> }> {
    const vehicles = await this.resolveVehicles(r.tenant, r.incident, p.vehicles);
    if (!vehicles.length) return { status: 'failed', result: { error: 'no vehicles match' } };
    const id = this.newId();
    const params = { ecu: p.ecu ?? null, targetVersion: p.targetVersion ?? null, reason: p.reason };
    await this.deps.store.insertResponseRequest({ tenant: r.tenant, id, kind: 'ota_campaign', incident: r.incident.id, vehicles, params, status: 'requested', createdBy: r.principal.tokenId, createdAt: this.deps.clock.now() });
    if (!this.deps.ota) return { status: 'succeeded', result: { request: id, vehicles: vehicles.length, sent: false } };
    const sent = await this.send(this.deps.ota, r, 'ota.campaign', r.incident.severity, `OTA campaign requested for ${vehicles.length} vehicle(s): ${p.reason}`, { request: id, vehicles, ...params });
    await this.deps.store.setRequestStatus(r.tenant, id, sent.status === 'succeeded' ? 'sent' : 'failed');
    return { status: sent.status, result: { request: id, vehicles: vehicles.length, sent: sent.status === 'succeeded', ...sent.result } };
  }

  private async raiseCollection(r: Run<ActionKind>, p: ActionParams['raise_collection']): Promise<{ status: RunStatus; result: Record<string, unknown> }> {
    const vehicles = await this.resolveVehicles(r.tenant, r.incident, p.vehicles);
    if (!vehicles.length) return { status: 'failed', result: { error: 'no vehicles match' } };
    const id = this.newId();
    const now = this.deps.clock.now();
    const expiresAt = now + p.durationS * 1000;
    const params = { durationS: p.durationS, signals: p.signals ?? null, canFrames: p.canFrames, rateHz: p.rateHz ?? null, reason: p.reason ?? null };
    await this.deps.store.insertResponseRequest({ tenant: r.tenant, id, kind: 'data_collection', incident: r.incident.id, vehicles, params, status: 'active', createdBy: r.principal.tokenId, createdAt: now, expiresAt });
    let published = 0;
    if (this.deps.commands) {
      const command = { type: 'data_collection', request: id, expiresAt: new Date(expiresAt).toISOString(), ...params };
      for (const v of vehicles) if (await this.deps.commands.publish(r.tenant, v, command).catch(() => false)) published++;
    }
    return { status: 'succeeded', result: { request: id, vehicles: vehicles.length, expiresAt, published } };
  }

  /** The vehicle keys a set names, at most MAX_REQUEST_VEHICLES. */
  private async resolveVehicles(tenant: string, incident: Incident, set: VehicleSetSpec): Promise<string[]> {
    if (set === 'incident') {
      const keys = new Set(await this.deps.store.incidentVehicles(tenant, incident.id));
      if (incident.vehicle) keys.add(incident.vehicle);
      return [...keys].slice(0, MAX_REQUEST_VEHICLES);
    }
    if ('ids' in set) {
      if (!Array.isArray(set.ids)) throw new Error(`vehicles.ids: the template ${set.ids} gave no list`);
      return [...new Set(set.ids)];
    }
    const f = set.filter;
    const out: string[] = [];
    for (let offset = 0; out.length < MAX_REQUEST_VEHICLES; offset += VEHICLE_PAGE) {
      const page = await this.deps.vehicles.listVehicles(tenant, { limit: VEHICLE_PAGE, offset });
      for (const v of page) {
        if (f.make !== undefined && v.make !== f.make) continue;
        if (f.model !== undefined && v.model !== f.model) continue;
        if (f.year !== undefined && v.year !== f.year) continue;
        if (f.region !== undefined && v.region !== f.region) continue;
        if (f.software && !Object.entries(f.software).every(([ecu, version]) => v.software?.[ecu] === version)) continue;
        out.push(v.id);
      }
      if (page.length < VEHICLE_PAGE) break;
    }
    return out.slice(0, MAX_REQUEST_VEHICLES);
  }
}

interface Run<K extends ActionKind> {
  readonly tenant: string;
  readonly incident: Incident;
  readonly action: K;
  readonly params: ActionParams[K] | Readonly<Record<string, unknown>>;
  readonly principal: Principal;
  readonly playbook?: string;
  readonly step?: number;
}

/** What templates and conditions see of an incident. */
function incidentView(i: Incident): Record<string, unknown> {
  return { ...i };
}
