/**
 * Response through the front door: Vigil started with tokens on, in-memory DuckDB, inline lanes,
 * an embedded MQTT broker, and real receivers on localhost — an HTTP server for webhooks (it
 * checks the HMAC signature itself) and syslog servers over TCP. Playbooks are managed and run
 * over HTTP; each action is checked where it lands (receiver, token store, MQTT subscriber,
 * response requests), on the incident's history, in the action runs and in the audit log.
 * Stored alerts are forwarded to the SIEM targets, and a new incident starts an automatic playbook.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBStore } from '../src/adapters/duckdb/duckdb-store.js';
import { DuckDBIncidentStore } from '../src/adapters/duckdb/incident-store.js';
import type { MqttBrokerSource } from '../src/adapters/mqtt/broker.js';
import { loadPlaybooks, SHIPPED_PLAYBOOKS_DIR } from '../src/api/response.js';
import { checkConfigReferences, startVigil, type Vigil } from '../src/api/vigil.js';
import type { Incident } from '../src/alerts/model.js';
import { ManualClock } from '../src/core/clock.js';
import type { ConfigError } from '../src/core/errors.js';
import { makeVin } from '../src/normalize/vin.js';
import { parseConfig } from '../src/runtime/config.js';
import { apiToken, bearer } from './http-helpers.js';
import { syslogReceiver, webhookReceiver, type SyslogReceiver, type WebhookReceiver } from './notify-receivers.js';

const T0 = Date.now();
const VEH = 'a1b2c3d4e5f60718';
const SECRET = 'soc-hook-secret-0123';
const OTA_SECRET = 'ota-secret-4567';
process.env.VIGIL_TEST_SOC_SECRET = SECRET;
process.env.VIGIL_TEST_OTA_SECRET = OTA_SECRET;

const clock = new ManualClock(T0);
const dir = mkdtempSync(join(tmpdir(), 'vigil-response-'));
let vigil: Vigil;
let incidents: DuckDBIncidentStore;
let admin: string;
let analyst: string;
let viewer: string;
let otherAnalyst: string;
let soc: WebhookReceiver;
let ota: WebhookReceiver;
let siem: SyslogReceiver;
let forwardSyslog: SyslogReceiver;
let forwardHook: WebhookReceiver;
let subscriber: mqtt.MqttClient;
const commands: { topic: string; body: Record<string, unknown> }[] = [];

type Body = Record<string, unknown> & {
  items: Record<string, unknown>[];
  runs: Record<string, unknown>[];
  fields: { in: string; path: string; message: string }[];
  history: { kind: string; actor: string; body: Record<string, unknown> }[];
};

async function call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: Body }> {
  const res = await vigil.http!.inject({ method: method as 'GET', url: path, headers: bearer(token), ...(body !== undefined ? { payload: body as object } : {}) });
  return { status: res.statusCode, body: (res.body ? res.json() : {}) as Body };
}

async function incident(id: string, over: Partial<Incident> = {}): Promise<Incident> {
  const at = clock.now();
  const i: Incident = {
    tenant: 'acme', id, kind: 'vehicle', groupKey: VEH, title: `incident ${id}`, state: 'new', severity: 'high', risk: 40, tags: [], vehicle: VEH,
    rules: ['remote.unlock-burst-api'], vehicleCount: 1, alertCount: 1, firstAlertAt: at, lastAlertAt: at, createdAt: at, updatedAt: at, context: {}, ...over,
  };
  await incidents.insertIncidents([i]);
  return i;
}

async function auditActions(targetId: string): Promise<string[]> {
  return (await vigil.audit.list({ tenant: 'acme', targetId, limit: 100 })).map((e) => e.action).reverse();
}

const until = async (check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
};

beforeAll(async () => {
  [soc, ota, forwardHook] = await Promise.all([webhookReceiver(SECRET), webhookReceiver(OTA_SECRET), webhookReceiver(SECRET)]);
  [siem, forwardSyslog] = await Promise.all([syslogReceiver(), syslogReceiver()]);
  // The shipped playbooks, and one that runs by itself on every new incident.
  const pbDir = join(dir, 'playbooks');
  mkdirSync(pbDir);
  for (const f of ['remote-command-abuse.yaml', 'ecu-reprogramming.yaml']) copyFileSync(join(SHIPPED_PLAYBOOKS_DIR, f), join(pbDir, f));
  writeFileSync(join(pbDir, 'auto-notify.yaml'), 'id: auto-notify\ntitle: Tell the SIEM of every new incident\ntrigger: { type: automatic, minSeverity: info }\nsteps:\n  - action: notify\n    params: { channel: siem, message: "new incident {{incident.id}}" }\n');
  const retry = { maxAttempts: 4, baseDelayMs: 50, maxDelayMs: 400 };
  vigil = await startVigil(parseConfig({
    tenant: 'acme', store: { path: ':memory:' }, runtime: { workers: 1 },
    http: { port: 0, auth: { enabled: true, adminTokenEnv: 'VIGIL_TEST_UNSET_ADMIN_TOKEN' } },
    sources: [{ type: 'mqtt-broker', name: 'fleet', port: 0 }],
    playbooks: {
      dir: pbDir,
      channels: {
        soc: { type: 'webhook', url: `http://127.0.0.1:${soc.port}/hook`, secretEnv: 'VIGIL_TEST_SOC_SECRET', retry },
        siem: { type: 'syslog', host: '127.0.0.1', port: siem.port, retry },
        // Nothing listens there: every delivery fails after its attempts.
        down: { type: 'webhook', url: 'http://127.0.0.1:9/none', retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 20 } },
      },
      ota: { url: `http://127.0.0.1:${ota.port}/campaigns`, secretEnv: 'VIGIL_TEST_OTA_SECRET', retry },
    },
    forward: [
      { type: 'syslog', name: 'siem-all', host: '127.0.0.1', port: forwardSyslog.port, minSeverity: 'info', retry },
      { type: 'webhook', name: 'siem-high', url: `http://127.0.0.1:${forwardHook.port}/alerts`, secretEnv: 'VIGIL_TEST_SOC_SECRET', minSeverity: 'high', retry },
    ],
  }), { inline: true, clock });
  incidents = new DuckDBIncidentStore((vigil.store as DuckDBStore).connection);
  admin = await apiToken(vigil, 'admin', 'acme', 'acme-admin');
  analyst = await apiToken(vigil, 'analyst', 'acme', 'ana');
  viewer = await apiToken(vigil, 'viewer', 'acme');
  otherAnalyst = await apiToken(vigil, 'analyst', 'globex');
  const broker = vigil.sources[0] as MqttBrokerSource;
  subscriber = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { protocolVersion: 4 });
  subscriber.on('message', (topic, payload) => commands.push({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown> }));
  await subscriber.subscribeAsync('vigil/acme/+/commands', { qos: 1 });
});

afterAll(async () => {
  await subscriber?.endAsync();
  await vigil?.stop();
  await Promise.all([soc, ota, forwardHook, siem, forwardSyslog].map((r) => r?.stop()));
  rmSync(dir, { recursive: true, force: true });
});

describe('playbooks over HTTP', () => {
  it('lists the shipped playbooks; an admin creates, replaces and deletes the tenant\'s own, audited; bad ones are 400 with field errors', async () => {
    const list = await call('GET', '/v1/playbooks', viewer);
    expect(list.status).toBe(200);
    expect(list.body.items.map((p) => [p.id, p.source])).toEqual([['auto-notify', 'file'], ['ecu-reprogramming', 'file'], ['remote-command-abuse', 'file']]);

    const doc = { title: 'Page the SOC', steps: [{ action: 'notify', params: { channel: 'soc', message: 'look at {{incident.id}}' } }] };
    expect((await call('PUT', '/v1/playbooks/page-soc', analyst, doc)).status).toBe(403);
    const created = await call('PUT', '/v1/playbooks/page-soc', admin, doc);
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ created: true, playbook: { id: 'page-soc', source: 'stored', steps: 1, trigger: { type: 'manual' } } });
    expect((await call('PUT', '/v1/playbooks/page-soc', admin, { ...doc, title: 'Page the SOC now' })).body.created).toBe(false);
    expect((await call('GET', '/v1/playbooks/page-soc', viewer)).body).toMatchObject({ title: 'Page the SOC now', source: 'stored' });

    const bad = await call('PUT', '/v1/playbooks/bad', admin, { title: 'Bad', steps: [{ action: 'notify', params: { message: 'no channel' } }, { action: 'reboot_car', params: {} }] });
    expect(bad.status).toBe(400);
    expect(bad.body.fields.map((f) => f.path)).toEqual(expect.arrayContaining(['/steps/0/params/channel', '/steps/1/action']));
    const unknownChannel = await call('PUT', '/v1/playbooks/bad', admin, { title: 'Bad', steps: [{ action: 'notify', params: { channel: 'pager', message: 'x' } }] });
    expect(unknownChannel.status).toBe(400);
    expect(unknownChannel.body.fields).toEqual([{ in: 'body', path: '/steps/0/params/channel', message: expect.stringContaining('no channel "pager"') }]);
    expect((await call('PUT', '/v1/playbooks/bad', admin, { ...doc, id: 'other' })).body.fields).toEqual([{ in: 'body', path: '/id', message: expect.any(String) }]);

    expect((await call('DELETE', '/v1/playbooks/remote-command-abuse', admin)).status).toBe(409);
    expect((await call('DELETE', '/v1/playbooks/page-soc', admin)).status).toBe(204);
    expect((await call('DELETE', '/v1/playbooks/page-soc', admin)).status).toBe(404);
    expect(await auditActions('page-soc')).toEqual(['playbook.put', 'playbook.put', 'playbook.delete']);
    // The routes are in the OpenAPI document, with their request schemas.
    const api = (await vigil.http!.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
    for (const path of ['/v1/playbooks', '/v1/playbooks/{id}', '/v1/incidents/{id}/playbooks/{playbook}/run', '/v1/incidents/{id}/actions', '/v1/action-runs', '/v1/deliveries', '/v1/response-requests']) expect(api.paths[path]).toBeDefined();
    expect(api.paths['/v1/incidents/{id}/actions']!.post!.requestBody).toBeDefined();
    expect(api.paths['/v1/playbooks/{id}']!.put!.requestBody).toBeDefined();
    // Another tenant sees the shipped ones only.
    expect((await call('GET', '/v1/playbooks', otherAnalyst)).body.items.map((p) => p.id)).not.toContain('page-soc');
  });

  it('runs the shipped remote-command-abuse playbook: token revoked, collection raised and published, SOC notified; every action on the incident and audited', async () => {
    await incident('inc-rc');
    const { token: integration, secret: integrationSecret } = await vigil.tokens.create({ name: 'telematics-integration', role: 'ingest', tenant: 'acme', createdBy: 'test' });
    expect((await vigil.http!.inject({ method: 'POST', url: '/v1/ingest/signals', headers: bearer(integrationSecret), payload: [] })).statusCode).not.toBe(401);

    const run = await call('POST', '/v1/incidents/inc-rc/playbooks/remote-command-abuse/run', analyst, { inputs: { token: integration.id } });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ playbook: 'remote-command-abuse', incident: 'inc-rc', status: 'succeeded' });
    expect(run.body.runs.map((r) => [r.step, r.action, r.status])).toEqual([[0, 'revoke_token', 'succeeded'], [1, 'raise_collection', 'succeeded'], [2, 'notify', 'succeeded']]);

    // The token no longer opens the door.
    expect((await vigil.http!.inject({ method: 'POST', url: '/v1/ingest/signals', headers: bearer(integrationSecret), payload: [] })).statusCode).toBe(401);
    // Data collection: readable by the vehicle, and pushed over MQTT.
    const active = await call('GET', `/v1/response-requests?kind=data_collection&active=true&vehicle=${VEH}`, viewer);
    expect(active.body.items).toHaveLength(1);
    expect(active.body.items[0]).toMatchObject({ incident: 'inc-rc', vehicles: [VEH], status: 'active', expiresAt: clock.now() + 86_400_000, params: { durationS: 86_400 } });
    await until(() => commands.length === 1);
    expect(commands[0]).toMatchObject({ topic: `vigil/acme/${VEH}/commands`, body: { type: 'data_collection', request: active.body.items[0]!.id, durationS: 86_400 } });
    // The SOC's webhook, signed, with the step results in the text.
    await until(() => soc.messages.length === 1);
    expect(soc.requests.at(-1)!.signatureValid).toBe(true);
    expect(soc.messages[0]).toMatchObject({ event: 'notify', tenant: 'acme', severity: 'high', fields: { incident: 'inc-rc', playbook: 'remote-command-abuse' } });
    expect(soc.messages[0]!.message).toContain('Token revocation: succeeded. Data collection: succeeded.');

    const detail = await call('GET', '/v1/incidents/inc-rc', viewer);
    const actions = detail.body.history.filter((e) => e.kind === 'action');
    expect(actions.map((e) => [e.body.action, e.body.status, e.body.playbook])).toEqual([
      ['revoke_token', 'succeeded', 'remote-command-abuse'], ['raise_collection', 'succeeded', 'remote-command-abuse'], ['notify', 'succeeded', 'remote-command-abuse'],
    ]);
    expect(await auditActions('inc-rc')).toEqual(['action.revoke_token', 'action.raise_collection', 'action.notify', 'playbook.run']);
    expect(await auditActions(integration.id)).toEqual(['token.revoke']);
    const runs = await call('GET', '/v1/action-runs?incident=inc-rc', viewer);
    expect(runs.body.items.map((r) => r.action)).toEqual(['notify', 'raise_collection', 'revoke_token']);

    // An hour past expiry the collection is no longer active.
    clock.advance(86_400_000 + 1);
    expect((await call('GET', '/v1/response-requests?kind=data_collection&active=true', viewer)).body.items).toEqual([]);
  });

  it('a failing step stops the playbook, unless it says continueOnError', async () => {
    await incident('inc-stop');
    const steps = (continueOnError: boolean) => [
      { id: 'page', action: 'notify', continueOnError, params: { channel: 'down', message: 'x' } },
      { action: 'notify', params: { channel: 'siem', message: 'after the failed page: {{steps.page.status}}' } },
    ];
    await call('PUT', '/v1/playbooks/stop', admin, { title: 'Stops', steps: steps(false) });
    await call('PUT', '/v1/playbooks/goes-on', admin, { title: 'Goes on', steps: steps(true) });
    const stopped = await call('POST', '/v1/incidents/inc-stop/playbooks/stop/run', analyst, {});
    expect(stopped.body).toMatchObject({ status: 'failed', stoppedAt: 0 });
    expect(stopped.body.runs.map((r) => r.status)).toEqual(['failed']);
    expect(stopped.body.runs[0]!.result).toMatchObject({ attempts: 2, channel: 'down' });
    const before = siem.messages.length;
    const goes = await call('POST', '/v1/incidents/inc-stop/playbooks/goes-on/run', analyst, {});
    expect(goes.body).toMatchObject({ status: 'succeeded' });
    expect(goes.body.runs.map((r) => r.status)).toEqual(['failed', 'succeeded']);
    await until(() => siem.messages.length === before + 1);
    expect(siem.messages.at(-1)).toMatchObject({ event: 'notify', message: 'after the failed page: failed', fields: { incident: 'inc-stop' } });
    const history = (await call('GET', '/v1/incidents/inc-stop', viewer)).body.history.filter((e) => e.kind === 'action');
    expect(history.map((e) => e.body.status)).toEqual(['failed', 'failed', 'succeeded']);
    expect(await auditActions('inc-stop')).toEqual(['action.notify', 'playbook.run', 'action.notify', 'action.notify', 'playbook.run']);
  });
});

describe('single actions over HTTP', () => {
  it('retries a webhook whose receiver fails twice: the delivery log shows three attempts', async () => {
    await incident('inc-retry');
    soc.failNext(2, 503);
    const r = await call('POST', '/v1/incidents/inc-retry/actions', analyst, { action: 'notify', params: { channel: 'soc', message: 'retry me', severity: 'critical' } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ action: 'notify', status: 'succeeded', incident: 'inc-retry', result: { attempts: 3, httpStatus: 204 } });
    const id = (r.body.result as { delivery: string }).delivery;
    const log = await call('GET', `/v1/deliveries?id=${id}`, viewer);
    expect(log.body.items.map((d) => [d.attempt, d.status, d.httpStatus])).toEqual([[3, 'delivered', 204], [2, 'retrying', 503], [1, 'retrying', 503]]);
    expect(log.body.items[0]).toMatchObject({ channel: 'soc', event: 'notify', target: `http://127.0.0.1:${soc.port}/hook` });
    const attempts = soc.requests.filter((q) => q.headers['x-vigil-delivery'] === id);
    expect(attempts.map((q) => q.signatureValid)).toEqual([true, true, true]);
    expect(await auditActions('inc-retry')).toEqual(['action.notify']);
  });

  it('posts the incident to a webhook channel; a syslog channel is no webhook', async () => {
    await incident('inc-hook');
    const before = soc.messages.length;
    const r = await call('POST', '/v1/incidents/inc-hook/actions', analyst, { action: 'webhook', params: { channel: 'soc', event: 'soar.case', data: { priority: 1 } } });
    expect(r.body).toMatchObject({ status: 'succeeded', result: { channel: 'soc', attempts: 1 } });
    await until(() => soc.messages.length === before + 1);
    expect(soc.messages.at(-1)).toMatchObject({ event: 'soar.case', severity: 'high', message: 'incident inc-hook (inc-hook)', fields: { incident: 'inc-hook', priority: '1', state: 'new', vehicle: VEH } });
    const wrong = await call('POST', '/v1/incidents/inc-hook/actions', analyst, { action: 'webhook', params: { channel: 'siem' } });
    expect(wrong.body).toMatchObject({ status: 'failed', result: { error: 'channel siem is syslog, not a webhook' } });
  });

  it('requests an OTA campaign: stored, sent signed to the OTA back end', async () => {
    await incident('inc-ota', { severity: 'critical' });
    const other = 'ffeeddccbbaa0099';
    const r = await call('POST', '/v1/incidents/inc-ota/actions', analyst, { action: 'ota_campaign', params: { vehicles: { ids: [VEH, other] }, ecu: 'BCM', targetVersion: '4.2.1', reason: 'restore' } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ status: 'succeeded', result: { vehicles: 2, sent: true } });
    await until(() => ota.messages.length === 1);
    expect(ota.requests[0]!.signatureValid).toBe(true);
    expect(JSON.parse(ota.requests[0]!.body)).toMatchObject({ event: 'ota.campaign', severity: 'critical', data: { vehicles: [VEH, other], ecu: 'BCM', targetVersion: '4.2.1', incident: 'inc-ota' } });
    const reqs = await call('GET', '/v1/response-requests?kind=ota_campaign&incident=inc-ota', viewer);
    expect(reqs.body.items).toEqual([expect.objectContaining({ status: 'sent', vehicles: [VEH, other] })]);
  });

  it('refuses bad input with field errors, unknown incidents with 404, other tenants and viewers', async () => {
    await incident('inc-bad');
    const bad = await call('POST', '/v1/incidents/inc-bad/actions', analyst, { action: 'raise_collection', params: { durationS: 5 } });
    expect(bad.status).toBe(400);
    expect(bad.body.fields).toEqual([expect.objectContaining({ in: 'body', path: '/params/durationS' })]);
    const badChannel = await call('POST', '/v1/incidents/inc-bad/actions', analyst, { action: 'notify', params: { channel: 'nope', message: 'x' } });
    expect(badChannel.status).toBe(400);
    expect((await call('POST', '/v1/incidents/nope/actions', analyst, { action: 'notify', params: { channel: 'soc', message: 'x' } })).status).toBe(404);
    expect((await call('POST', '/v1/incidents/inc-bad/actions', otherAnalyst, { action: 'notify', params: { channel: 'soc', message: 'x' } })).status).toBe(404);
    expect((await call('POST', '/v1/incidents/inc-bad/actions?tenant=acme', otherAnalyst, { action: 'notify', params: { channel: 'soc', message: 'x' } })).status).toBe(403);
    expect((await call('POST', '/v1/incidents/inc-bad/actions', viewer, { action: 'notify', params: { channel: 'soc', message: 'x' } })).status).toBe(403);
    // A token of another tenant cannot be revoked through this tenant's incident.
    const { token: theirs } = await vigil.tokens.create({ name: 'globex-int', role: 'ingest', tenant: 'globex', createdBy: 'test' });
    const cross = await call('POST', '/v1/incidents/inc-bad/actions', analyst, { action: 'revoke_token', params: { token: theirs.id } });
    expect(cross.body).toMatchObject({ status: 'failed', result: { error: `no token ${theirs.id} in tenant acme` } });
    expect((await vigil.tokens.get(theirs.id))?.revokedAt).toBeUndefined();
    expect((await call('GET', '/v1/action-runs?incident=inc-bad', otherAnalyst)).body.items).toEqual([]);
    expect((await call('GET', '/v1/action-runs?limit=5000', viewer)).status).toBe(400);
  });
});

describe('alerts forwarded to the SIEM, and automatic playbooks', () => {
  it('forwards every stored alert at or above each target\'s minSeverity, and a new incident runs the automatic playbook', async () => {
    const vin = makeVin({ wmi: 'YV1', vds: 'MV39H', year: 2017, plant: 'G' }, 7);
    const push = (ts: number, seq: number, km: number) => vigil.pipeline.push({ kind: 'signals', tenant: 'acme', source: 'test', receivedAt: Date.now(), payload: JSON.stringify({ vin, ts, seq, signals: { 'Vehicle.TraveledDistance': km } }) });
    const t = clock.now() - 60_000;
    await push(t, 1, 100_000);
    await push(t + 1000, 2, 100_015);
    // Rolled back by 5 km: an alert.
    await push(t + 2000, 3, 95_000);
    await vigil.pipeline.drain();
    await vigil.alerts.idle();
    await vigil.response.idle();
    const stored = await vigil.store.listAlerts({ tenant: 'acme', limit: 100 });
    expect(stored.length).toBeGreaterThan(0);
    await until(() => forwardSyslog.messages.length === stored.length);
    expect(forwardSyslog.errors).toEqual([]);
    expect(new Set(forwardSyslog.messages.map((m) => m.fields.alert))).toEqual(new Set(stored.map((a) => a.id)));
    const a = stored[0]!;
    expect(forwardSyslog.messages.find((m) => m.fields.alert === a.id)).toMatchObject({ event: 'alert', tenant: 'acme', severity: a.severity, fields: { rule: a.rule } });
    const high = stored.filter((x) => x.severity === 'high' || x.severity === 'critical');
    expect(high.map((x) => x.rule)).toContain('vigil.odometer_rollback');
    await until(() => forwardHook.messages.length >= high.length);
    expect(forwardHook.messages.map((m) => m.fields.alert).sort()).toEqual(high.map((x) => x.id).sort());
    expect(forwardHook.requests.every((q) => q.signatureValid)).toBe(true);
    const log = await call('GET', '/v1/deliveries?channel=siem-all&event=alert', viewer);
    expect(log.body.total).toBe(stored.length);
    await incident('inc-fw');
    expect((await call('POST', '/v1/incidents/inc-fw/actions', analyst, { action: 'notify', params: { channel: 'down', message: 'x' } })).body.status).toBe('failed');
    const metrics = (await vigil.http!.inject({ method: 'GET', url: '/metrics' })).body;
    const metric = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(metric('vigil_deliveries_delivered_total')).toBeGreaterThanOrEqual(stored.length + high.length);
    expect(metric('vigil_deliveries_failed_total')).toBeGreaterThanOrEqual(1);
    expect(metric('vigil_delivery_attempts_total')).toBeGreaterThan(metric('vigil_deliveries_delivered_total'));

    // The alert opened an incident; the automatic playbook told the SIEM channel, as Vigil itself.
    const runs = await call('GET', '/v1/action-runs?playbook=auto-notify', viewer);
    expect(runs.body.items.length).toBeGreaterThan(0);
    expect(runs.body.items[0]).toMatchObject({ action: 'notify', status: 'succeeded', actor: 'system' });
    const inc = runs.body.items[0]!.incident as string;
    await until(() => siem.messages.some((m) => m.message === `new incident ${inc}`));
    expect(await auditActions(inc)).toEqual(expect.arrayContaining(['action.notify', 'playbook.run']));

    // Incidents of old alerts (an import of history) start no automatic playbook.
    const old = await incident('inc-history', { lastAlertAt: clock.now() - 2 * 86_400_000, firstAlertAt: clock.now() - 2 * 86_400_000 });
    const fresh = await incident('inc-fresh');
    const started = await vigil.response.responder.incidentsCreated([old, fresh]);
    expect(started.map((r) => [r.incident, r.playbook])).toEqual([['inc-fresh', 'auto-notify'], ['inc-fresh', 'remote-command-abuse']]);
    expect(vigil.response.responder.automaticSkipped).toBe(1);
  });
});

describe('response configuration', () => {
  it('loads the shipped playbooks, and config check reports every problem of playbooks, channels and forward targets', () => {
    const shipped = loadPlaybooks(parseConfig({}).playbooks);
    expect(shipped.map((p) => [p.id, p.trigger.type])).toEqual([['ecu-reprogramming', 'automatic'], ['remote-command-abuse', 'automatic']]);

    expect(() => parseConfig({ forward: [{ type: 'syslog', host: 'siem', port: 6514, ca: 'ca.pem' }, { type: 'webhook', url: 'ftp://x' }] })).toThrow(
      expect.objectContaining({ problems: expect.arrayContaining(['forward.1.url: an http:// or https:// URL']) }),
    );
    expect(() => parseConfig({ forward: [{ type: 'syslog', host: 'siem', port: 6514, ca: 'ca.pem' }] })).toThrow(/forward.0.ca: a CA is for TLS; set tls: true/);

    const bad = join(dir, 'bad-playbooks');
    mkdirSync(bad);
    writeFileSync(join(bad, 'a.yaml'), 'id: a\ntitle: A\nsteps:\n  - action: notify\n    params: { channel: pager, message: hi }\n');
    writeFileSync(join(bad, 'b.yaml'), 'id: a\ntitle: B\nsteps: []\n');
    writeFileSync(join(bad, 'c.yaml'), 'id: [unclosed\n');
    const config = parseConfig({
      playbooks: { dir: bad, channels: { soc: { type: 'webhook', url: 'http://127.0.0.1:1/x', secretEnv: 'VIGIL_TEST_NEVER_SET' } } },
      forward: [{ type: 'syslog', host: '127.0.0.1', port: 6514, tls: true, ca: join(dir, 'missing.pem') }],
    });
    let problems: readonly string[] = [];
    try {
      checkConfigReferences(config);
    } catch (e) {
      problems = (e as ConfigError).problems;
    }
    expect(problems).toEqual(expect.arrayContaining([
      `playbooks: ${join(bad, 'a.yaml')}: steps.0.params.channel: no channel "pager" in the config (playbooks.channels: soc)`,
      `playbooks: ${join(bad, 'b.yaml')}: steps: Too small: expected array to have >=1 items`,
      expect.stringMatching(new RegExp(`^playbooks: ${join(bad, 'c.yaml')}: `)),
      'playbooks.channels.soc.secretEnv: environment variable VIGIL_TEST_NEVER_SET is not set',
      expect.stringMatching(/^forward\.0\.ca: ENOENT/),
    ]));
  });
});
