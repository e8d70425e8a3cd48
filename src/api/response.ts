/**
 * Composition of response and SIEM forwarding: config `playbooks` and `forward` -> notifiers
 * (webhook, syslog), the playbooks of `playbooks.dir`, the Responder, the alert forwarder on
 * Pipeline.onAlertsStored, and the routes. Bad config (a missing secret, an unreadable CA, a
 * playbook with problems) is a ConfigError listing every problem, found before anything starts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { parse as parseYaml } from 'yaml';
import type { AuditLog, TokenStore } from '../core/access.js';
import type { Clock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import type { Store } from '../core/store.js';
import { AlertForwarder } from '../alerts/forward.js';
import type { Notifier, RetryPolicy } from '../alerts/notifier.js';
import { checkPlaybook, type Playbook } from '../alerts/playbooks.js';
import type { Incident } from '../alerts/model.js';
import type { IncidentStore, WorkflowStore } from '../alerts/ports.js';
import { Responder, type CommandPublisher } from '../alerts/responder.js';
import { DuckDBResponseStore } from '../adapters/duckdb/response-store.js';
import type { SerialConnection } from '../adapters/duckdb/connection.js';
import { registerResponseRoutes } from '../adapters/http/response-routes.js';
import { SyslogNotifier } from '../adapters/notify/syslog.js';
import { WebhookNotifier } from '../adapters/notify/webhook.js';
import type { ForwardTargetConfig, NotifyChannelConfig, VigilConfig } from '../runtime/config.js';
import type { Pipeline } from '../runtime/pipeline.js';
import type { RunningSource } from '../runtime/sources/index.js';

/** The shipped playbooks, found from this module (src/api or dist/api). */
export const SHIPPED_PLAYBOOKS_DIR = fileURLToPath(new URL('../../rules/playbooks', import.meta.url));

/**
 * Every playbook file (`*.yaml`, `*.yml`, `*.json`) of `playbooks.dir`, checked; every problem
 * at once. The channels steps name must be configured when the folder is the operator's own;
 * the shipped playbooks name `soc`, and without that channel their notify steps fail when run
 * (recorded, with the reason) rather than stopping Vigil from starting.
 */
export function loadPlaybooks(c: VigilConfig['playbooks']): Playbook[] {
  const dir = c.dir ?? SHIPPED_PLAYBOOKS_DIR;
  const problems: string[] = [];
  const out: Playbook[] = [];
  const seen = new Map<string, string>();
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /\.(ya?ml|json)$/.test(n) && statSync(join(dir, n)).isFile()).sort();
  } catch (e) {
    throw new ConfigError('cannot load the playbooks', [`playbooks.dir: ${(e as Error).message}`], { cause: e });
  }
  const channels = c.dir === undefined ? undefined : new Set(Object.keys(c.channels));
  for (const n of names) {
    const file = join(dir, n);
    let doc: unknown;
    try {
      doc = parseYaml(readFileSync(file, 'utf8'));
    } catch (e) {
      problems.push(`playbooks: ${file}: ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    const checked = checkPlaybook(doc, channels ? { channels } : {});
    if (!checked.playbook) {
      problems.push(...checked.problems.map((p) => `playbooks: ${file}: ${p}`));
      continue;
    }
    const first = seen.get(checked.playbook.id);
    if (first) problems.push(`playbooks: ${file}: id "${checked.playbook.id}" is already the id of ${first}`);
    else {
      seen.set(checked.playbook.id, file);
      out.push(checked.playbook);
    }
  }
  if (problems.length) throw new ConfigError('invalid playbooks', problems);
  return out;
}

function secret(env: string | undefined, where: string, problems: string[]): string | undefined {
  if (env === undefined) return undefined;
  const value = process.env[env];
  if (value === undefined || value === '') problems.push(`${where}.secretEnv: environment variable ${env} is not set`);
  return value;
}

function notifier(c: NotifyChannelConfig | ForwardTargetConfig | (Omit<Extract<NotifyChannelConfig, { type: 'webhook' }>, 'type'> & { type?: 'webhook' }), channel: string, where: string, problems: string[]): Notifier | undefined {
  const retry: RetryPolicy = c.retry;
  if (c.type === 'syslog') {
    let ca: string | undefined;
    if (c.ca !== undefined) {
      try {
        ca = readFileSync(c.ca, 'utf8');
      } catch (e) {
        problems.push(`${where}.ca: ${(e as Error).message}`);
        return undefined;
      }
    }
    return new SyslogNotifier({ channel, host: c.host, port: c.port, facility: c.facility, maxQueue: c.maxQueue, retry, ...(c.tls ? { tls: ca ? { ca } : {} } : {}) });
  }
  const key = secret(c.secretEnv, where, problems);
  try {
    return new WebhookNotifier({ channel, url: c.url, timeoutMs: c.timeoutMs, retry, ...(key !== undefined ? { secret: key } : {}) });
  } catch (e) {
    problems.push(`${where}.url: ${(e as Error).message}`);
    return undefined;
  }
}

export interface ResponseNotifiers {
  readonly channels: Map<string, Notifier>;
  readonly ota?: Notifier;
  readonly forward: { notifier: Notifier; minSeverity: ForwardTargetConfig['minSeverity'] }[];
}

/** The notifiers the config names (nothing connects until a message is sent). */
export function buildNotifiers(config: VigilConfig): ResponseNotifiers {
  const problems: string[] = [];
  const channels = new Map<string, Notifier>();
  for (const [name, c] of Object.entries(config.playbooks.channels)) {
    const n = notifier(c, name, `playbooks.channels.${name}`, problems);
    if (n) channels.set(name, n);
  }
  const ota = config.playbooks.ota ? notifier(config.playbooks.ota, 'ota', 'playbooks.ota', problems) : undefined;
  const forward = config.forward.flatMap((f, i) => {
    const n = notifier(f, f.name ?? `forward-${i}`, `forward.${i}`, problems);
    return n ? [{ notifier: n, minSeverity: f.minSeverity }] : [];
  });
  if (problems.length) throw new ConfigError('invalid response configuration', problems);
  return { channels, ...(ota ? { ota } : {}), forward };
}

/** For `vigil config check`: playbooks and notifiers, every problem at once. */
export function checkResponseConfig(config: VigilConfig): void {
  const problems: string[] = [];
  for (const check of [() => loadPlaybooks(config.playbooks), () => buildNotifiers(config)]) {
    try {
      check();
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(...e.problems);
    }
  }
  if (problems.length) throw new ConfigError('invalid response configuration', problems);
}

export interface ResponseWiring {
  readonly connection: SerialConnection;
  readonly store: Store;
  readonly pipeline: Pick<Pipeline, 'onAlertsStored' | 'metrics'>;
  readonly incidents: Pick<IncidentStore, 'getIncident'>;
  readonly workflow: Pick<WorkflowStore, 'appendEvents'>;
  readonly audit: AuditLog;
  readonly tokens?: Pick<TokenStore, 'get' | 'revoke'>;
  /** The alert pipeline's hook for new incidents (AlertService.onIncidentsCreated): automatic playbooks. */
  readonly onIncidentsCreated?: (listener: (incidents: readonly Incident[]) => void) => () => void;
  readonly clock: Clock;
}

export interface RunningResponse {
  readonly responder: Responder;
  readonly forwarder: AlertForwarder;
  readonly store: DuckDBResponseStore;
  /** Routes on the analyst API. */
  register(http: FastifyInstance, defaultTenant: string): void;
  /** Once sources run: the embedded MQTT broker, if any, carries commands to vehicles. */
  attachSources(sources: readonly RunningSource[]): void;
  /** Resolves when automatic playbooks started so far and forwarded alerts are done. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** A source that can publish (the embedded MQTT broker). */
interface Publishing {
  publish(topic: string, payload: Buffer): Promise<void>;
}

export function startResponse(config: VigilConfig, w: ResponseWiring): RunningResponse {
  const shipped = loadPlaybooks(config.playbooks);
  const { channels, ota, forward } = buildNotifiers(config);
  const store = new DuckDBResponseStore(w.connection);
  let broker: Publishing | undefined;
  const commands: CommandPublisher = {
    async publish(tenant, vehicle, command) {
      if (!broker) return false;
      await broker.publish(`vigil/${tenant}/${vehicle}/commands`, Buffer.from(JSON.stringify(command)));
      return true;
    },
  };
  const m = w.pipeline.metrics;
  m.counter('vigil_delivery_attempts_total', 'Webhook and syslog delivery attempts (response actions and SIEM forwarding)');
  m.counter('vigil_deliveries_delivered_total', 'Messages delivered');
  m.counter('vigil_deliveries_failed_total', 'Messages given up on after their attempts, or refused by a full queue (each in GET /v1/deliveries)');
  const responder = new Responder({
    onDeliveryAttempt: (row) => {
      m.inc('vigil_delivery_attempts_total');
      if (row.status === 'delivered') m.inc('vigil_deliveries_delivered_total');
      else if (row.status === 'failed') m.inc('vigil_deliveries_failed_total');
    },
    store, incidents: w.incidents, workflow: w.workflow, audit: w.audit, vehicles: w.store, channels, commands, shipped, clock: w.clock,
    ...(ota ? { ota } : {}), ...(w.tokens ? { tokens: w.tokens } : {}),
  });
  const forwarder = new AlertForwarder(forward, responder.deliveries);
  m.gauge('vigil_alerts_forward_pending', 'Alerts being forwarded to SIEM targets', () => forwarder.pending);
  m.gauge('vigil_delivery_log_dropped', 'Delivery attempts the log could not keep while the store failed', () => responder.deliveries.dropped);
  const unsubscribe = forward.length ? w.pipeline.onAlertsStored((alerts) => forwarder.offer(alerts)) : () => undefined;
  // Automatic playbooks run one batch of new incidents after another, off the alert pipeline's path.
  let automatic: Promise<unknown> = Promise.resolve();
  const unsubscribeCreated = w.onIncidentsCreated?.((incidents) => {
    automatic = automatic.then(() => responder.incidentsCreated(incidents));
  }) ?? (() => undefined);
  const idle = async (): Promise<void> => {
    for (let last; last !== automatic; ) await (last = automatic);
    await forwarder.idle();
  };
  return {
    responder, forwarder, store,
    register(http, defaultTenant) {
      registerResponseRoutes(http, { responder, store, incidents: w.incidents, audit: w.audit, clock: w.clock, defaultTenant });
    },
    attachSources(sources) {
      broker = sources.find((s): s is RunningSource & Publishing => typeof (s as Partial<Publishing>).publish === 'function');
    },
    idle,
    async stop() {
      unsubscribe();
      unsubscribeCreated();
      await idle();
      await forwarder.close();
      await Promise.all([...channels.values(), ...(ota ? [ota] : [])].map((n) => n.close()));
      await responder.close();
    },
  };
}
