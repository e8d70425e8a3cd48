/**
 * The analyst workflow through the front door: Vigil started with tokens on, a manual clock and
 * an in-memory DuckDB; incidents put in through the IncidentStore adapter, then worked over
 * HTTP. Each change is checked in the answer, in the incident's history and in the audit log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBIncidentStore } from '../src/adapters/duckdb/incident-store.js';
import { startVigil, type Vigil } from '../src/api/vigil.js';
import { ManualClock } from '../src/core/clock.js';
import type { Severity } from '../src/core/records.js';
import type { Incident } from '../src/alerts/model.js';
import { DEFAULT_SLA, slaDueAt } from '../src/alerts/workflow.js';
import { parseConfig } from '../src/runtime/config.js';
import { apiToken, bearer } from './http-helpers.js';

const T0 = Date.UTC(2026, 5, 1, 8);
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const VEH = 'a1b2c3d4e5f60718';

const clock = new ManualClock(T0);
let vigil: Vigil;
let incidents: DuckDBIncidentStore;
let analyst: string;
let viewer: string;
let otherTenant: string;

/** A new incident of tenant acme, created now, with the triage SLA of its severity (critical: 5 min by config). */
async function incident(id: string, over: Partial<Incident> = {}): Promise<Incident> {
  const severity: Severity = over.severity ?? 'high';
  const at = clock.now();
  const i: Incident = {
    tenant: 'acme', id, kind: 'vehicle', groupKey: VEH, title: `incident ${id}`, state: 'new', severity, risk: 40,
    tags: [], vehicle: VEH, rules: ['can.unknown-id'], vehicleCount: 1, alertCount: 1, firstAlertAt: at, lastAlertAt: at,
    createdAt: at, updatedAt: at, slaDueAt: slaDueAt('new', severity, at, vigil.config.incidents.sla), context: { make: 'Volvo', model: 'V40' },
    ...over,
  };
  await incidents.insertIncidents([i]);
  return i;
}

/** An item of a list answer. */
interface Row {
  readonly id: string;
  readonly [k: string]: unknown;
}
interface EventRow {
  readonly kind: string;
  readonly actor: string;
  readonly body: Readonly<Record<string, unknown>>;
}
/** Any answer of these routes, read loosely: a field a route does not send is undefined and fails the assertion. */
interface Body {
  readonly [k: string]: unknown;
  readonly error: string;
  readonly fields: { in: string; path: string; message: string }[];
  readonly allowed: string[];
  readonly items: Row[];
  readonly total: number;
  readonly incident: Row;
  readonly history: EventRow[];
  readonly links: Row[];
  readonly alerts: { items: Row[]; total: number };
  readonly id: string;
  readonly state: string;
  readonly tags: string[];
}
interface Answer {
  status: number;
  body: Body;
}

async function call(method: string, path: string, token: string, body?: unknown): Promise<Answer> {
  const res = await vigil.http!.inject({ method: method as 'GET', url: path, headers: bearer(token), ...(body !== undefined ? { payload: body as object } : {}) });
  return { status: res.statusCode, body: res.body ? (res.json() as Body) : ({} as Body) };
}

async function auditOf(targetId: string): Promise<string[]> {
  return (await vigil.audit.list({ tenant: 'acme', targetId, limit: 100 })).map((e) => e.action).reverse();
}

beforeAll(async () => {
  vigil = await startVigil(parseConfig({
    tenant: 'acme', store: { path: ':memory:' }, http: { port: 0, auth: { enabled: true, adminTokenEnv: 'VIGIL_TEST_UNSET_ADMIN_TOKEN' } },
    runtime: { workers: 1 }, detection: { rules: [] },
    incidents: { sla: { critical: { triage: '5m', resolve: '2h' } } },
  }), { inline: true, clock });
  incidents = vigil.alerts.incidents;
  analyst = await apiToken(vigil, 'analyst', 'acme', 'ana');
  viewer = await apiToken(vigil, 'viewer', 'acme');
  otherTenant = await apiToken(vigil, 'analyst', 'globex');
});
afterAll(async () => vigil?.stop());

describe('incident workflow over HTTP', () => {
  it('moves an incident through legal states, refuses illegal ones with 409 and the allowed list, and records each move', async () => {
    const i = await incident('inc-flow', { severity: 'critical' });
    expect(i.slaDueAt).toBe(T0 + 5 * MIN);
    const illegal = await call('POST', '/v1/incidents/inc-flow/transition', analyst, { to: 'contained' });
    expect(illegal.status).toBe(409);
    expect(illegal.body).toMatchObject({ error: 'IllegalTransition', allowed: ['triaged', 'investigating', 'false_positive', 'resolved'] });

    clock.advance(3 * MIN);
    const triaged = await call('POST', '/v1/incidents/inc-flow/transition', analyst, { to: 'triaged', reason: 'unknown CAN id on the powertrain bus' });
    expect(triaged.status).toBe(200);
    // Triaged within 5 min; now the 2 h resolve timer of a critical incident (config), from creation.
    expect(triaged.body).toMatchObject({ state: 'triaged', slaDueAt: T0 + 2 * HOUR, slaBreached: false, updatedAt: clock.now() });
    for (const to of ['investigating', 'contained', 'resolved'] as const) {
      clock.advance(MIN);
      expect((await call('POST', '/v1/incidents/inc-flow/transition', analyst, { to })).body.state).toBe(to);
    }
    const closed = (await call('GET', '/v1/incidents/inc-flow', analyst)).body.incident;
    expect(closed.closedAt).toBe(clock.now());
    expect(closed.slaDueAt).toBeUndefined();
    expect((await call('POST', '/v1/incidents/inc-flow/transition', analyst, { to: 'triaged' })).body.allowed).toEqual(['investigating']);

    clock.advance(HOUR);
    const reopened = await call('POST', '/v1/incidents/inc-flow/transition', analyst, { to: 'investigating', reason: 'seen again' });
    expect(reopened.body).toMatchObject({ state: 'investigating', slaDueAt: clock.now() + 2 * HOUR });
    expect(reopened.body.closedAt).toBeUndefined();

    const detail = await call('GET', '/v1/incidents/inc-flow', viewer);
    const moves = detail.body.history.filter((e) => e.kind === 'state').map((e) => `${e.body.from}->${e.body.to}`);
    expect(moves).toEqual(['new->triaged', 'triaged->investigating', 'investigating->contained', 'contained->resolved', 'resolved->investigating']);
    const first = detail.body.history.find((e) => e.kind === 'state');
    expect(first).toMatchObject({ actor: expect.any(String), body: { reason: 'unknown CAN id on the powertrain bus', sla: { dueAt: T0 + 5 * MIN, met: true }, actorName: 'ana' } });
    expect(await auditOf('inc-flow')).toEqual(Array(5).fill('incident.transition'));
  });

  it('runs SLA timers per severity; a breach shows in the field and the slaBreached filter', async () => {
    clock.set(T0 + 10 * DAY);
    const at = clock.now();
    await incident('sla-crit', { severity: 'critical' });
    await incident('sla-high', { severity: 'high' });
    await incident('sla-low', { severity: 'low' });
    const due = async (id: string) => (await call('GET', `/v1/incidents/${id}`, viewer)).body.incident;
    expect((await due('sla-crit')).slaDueAt).toBe(at + 5 * MIN);
    expect((await due('sla-high')).slaDueAt).toBe(at + DEFAULT_SLA.high.triageMs);
    expect((await due('sla-low')).slaDueAt).toBe(at + 3 * DAY);

    clock.advance(2 * HOUR);
    const breached = await call('GET', '/v1/incidents?slaBreached=true&rule=can.unknown-id&since=' + at, viewer);
    expect(breached.status).toBe(200);
    expect(breached.body.items.map((i) => i.id).sort()).toEqual(['sla-crit', 'sla-high']);
    expect(breached.body.items.every((i) => i.slaBreached === true)).toBe(true);
    const fine = await call('GET', `/v1/incidents?slaBreached=false&since=${new Date(at).toISOString()}`, viewer);
    expect(fine.body.items.map((i) => [i.id, i.slaBreached])).toEqual([['sla-low', false]]);
    // Triaging late: the history says the triage SLA was missed; the resolve timer of `high` takes over.
    const late = await call('POST', '/v1/incidents/sla-high/transition', analyst, { to: 'investigating' });
    expect(late.body).toMatchObject({ slaDueAt: at + DEFAULT_SLA.high.resolveMs, slaBreached: false });
    const events = (await call('GET', '/v1/incidents/sla-high', viewer)).body.history;
    expect(events.at(-1)?.body['sla']).toEqual({ dueAt: at + HOUR, met: false });
  });

  it('lists with filters, sorting and paging; bad queries are 400 with field errors', async () => {
    clock.set(T0 + 20 * DAY);
    const since = clock.now();
    for (const [id, risk, severity] of [['l1', 10, 'low'], ['l2', 90, 'critical'], ['l3', 50, 'medium']] as const) {
      clock.advance(MIN);
      await incident(id, { risk, severity, kind: id === 'l3' ? 'campaign' : 'vehicle', rules: id === 'l1' ? ['api.token-reuse'] : ['can.unknown-id'] });
    }
    const q = (s: string) => call('GET', `/v1/incidents?since=${since}&${s}`, viewer);
    expect((await q('sort=-risk')).body.items.map((i) => i.id)).toEqual(['l2', 'l3', 'l1']);
    expect((await q('sort=severity')).body.items.map((i) => i.id)).toEqual(['l1', 'l3', 'l2']);
    expect((await q('')).body.items.map((i) => i.id)).toEqual(['l3', 'l2', 'l1']);
    const page = await q('sort=createdAt&limit=2&offset=1');
    expect(page.body).toMatchObject({ total: 3, limit: 2, offset: 1 });
    expect(page.body.items.map((i) => i.id)).toEqual(['l2', 'l3']);
    expect((await q('severity=critical,low')).body.total).toBe(2);
    expect((await q('kind=campaign')).body.items.map((i) => i.id)).toEqual(['l3']);
    expect((await q('rule=api.token-reuse')).body.items.map((i) => i.id)).toEqual(['l1']);
    expect((await q(`vehicle=${VEH}&state=new`)).body.total).toBe(3);
    expect((await q(`until=${since + 90_000}`)).body.items.map((i) => i.id)).toEqual(['l1']);

    expect((await call('GET', '/v1/incidents?until=99999999999999999', viewer)).body.fields).toEqual([
      { in: 'querystring', path: '/until', message: '"99999999999999999" is not a time: ISO 8601 with a zone (2026-11-01T00:00:00Z), a date (UTC midnight) or epoch ms' },
    ]);
    const bad = await call('GET', '/v1/incidents?state=open&sort=-colour&limit=0&since=yesterday', viewer);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('ValidationError');
    const paths = bad.body.fields.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['/limit', '/sort', '/since']));
    expect(bad.body.fields.every((f) => f.in === 'querystring')).toBe(true);
  });

  it('assigns, comments, tags and links, each in the history and the audit log', async () => {
    await incident('w1');
    await incident('w2');
    const assigned = await call('POST', '/v1/incidents/w1/assign', analyst, { assignee: 'ana@soc' });
    expect(assigned.body.assignee).toBe('ana@soc');
    expect((await call('GET', '/v1/incidents?assignee=ana@soc', viewer)).body.items.map((i) => i.id)).toEqual(['w1']);
    expect((await call('POST', '/v1/incidents/w1/assign', analyst, { assignee: null })).body.assignee).toBeUndefined();

    const c1 = await call('POST', '/v1/incidents/w1/comments', analyst, { text: 'Asked the fleet owner about the workshop visit.' });
    expect(c1.status).toBe(201);
    expect(c1.body).toMatchObject({ authorName: 'ana', text: 'Asked the fleet owner about the workshop visit.' });
    await call('POST', '/v1/incidents/w1/comments', analyst, { text: 'No visit: escalating.' });
    const comments = await call('GET', '/v1/incidents/w1/comments?limit=1&offset=1', viewer);
    expect(comments.body).toMatchObject({ total: 2, items: [{ text: 'No visit: escalating.' }] });

    expect((await call('PUT', '/v1/incidents/w1/tags', analyst, { tags: ['workshop', 'ATM-T0067'] })).body.tags).toEqual(['ATM-T0067', 'workshop']);
    expect((await call('POST', '/v1/incidents/w1/tags', analyst, { tags: ['escalated', 'workshop'] })).body.tags).toEqual(['ATM-T0067', 'escalated', 'workshop']);
    expect((await call('DELETE', '/v1/incidents/w1/tags/workshop', analyst)).body.tags).toEqual(['ATM-T0067', 'escalated']);
    expect((await call('GET', '/v1/incidents?tag=escalated', viewer)).body.items.map((i) => i.id)).toEqual(['w1']);

    const link = await call('POST', '/v1/incidents/w1/links', analyst, { other: 'w2', relation: 'duplicate_of' });
    expect(link.status).toBe(201);
    expect(link.body).toMatchObject({ a: 'w1', b: 'w2', relation: 'duplicate_of' });
    expect((await call('POST', '/v1/incidents/w2/links', analyst, { other: 'w1' })).status).toBe(409);
    const self = await call('POST', '/v1/incidents/w1/links', analyst, { other: 'w1' });
    expect(self.status).toBe(400);
    expect(self.body.fields).toEqual([{ in: 'body', path: '/other', message: 'an incident cannot be linked to itself' }]);
    expect((await call('POST', '/v1/incidents/w1/links', analyst, { other: 'nope' })).status).toBe(400);
    const w2 = (await call('GET', '/v1/incidents/w2', viewer)).body;
    expect(w2.links).toEqual([expect.objectContaining({ a: 'w1', b: 'w2', relation: 'duplicate_of' })]);
    expect(w2.history.map((e) => e.kind)).toEqual(['link']);

    const kinds = (await call('GET', '/v1/incidents/w1', viewer)).body.history.map((e) => e.kind);
    expect(kinds).toEqual(['assign', 'assign', 'comment', 'comment', 'tag', 'tag', 'tag', 'link']);
    expect(await auditOf('w1')).toEqual(['incident.assign', 'incident.assign', 'incident.comment', 'incident.comment', 'incident.tag', 'incident.tag', 'incident.tag', 'incident.link']);
  });

  it('shows an incident with its alerts, and 404 for an unknown one or one of another tenant', async () => {
    await incident('d1', { alertCount: 2 });
    await incidents.attachAlerts('acme', 'd1', [{ id: 'al-1', vehicle: VEH }, { id: 'al-2', vehicle: VEH }], clock.now());
    const d = await call('GET', '/v1/incidents/d1', viewer);
    expect(d.status).toBe(200);
    expect(d.body.alerts.total).toBe(2);
    expect(d.body.alerts.items.map((a) => a.id).sort()).toEqual(['al-1', 'al-2']);
    expect(d.body.incident).toMatchObject({ id: 'd1', tenant: 'acme', state: 'new', context: { model: 'V40' } });

    for (const [method, path, body] of [
      ['GET', '/v1/incidents/nope', undefined], ['POST', '/v1/incidents/nope/transition', { to: 'triaged' }],
      ['POST', '/v1/incidents/nope/assign', { assignee: 'x' }], ['POST', '/v1/incidents/nope/comments', { text: 'x' }],
      ['GET', '/v1/incidents/nope/comments', undefined], ['PUT', '/v1/incidents/nope/tags', { tags: [] }],
      ['POST', '/v1/incidents/nope/links', { other: 'd1' }], ['POST', '/v1/incidents/nope/verdict', { verdict: 'false_positive', reason: 'x' }],
    ] as const) {
      const r = await call(method, path, analyst, body);
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.body.error).toBe('NotFoundError');
    }
    // Another tenant's analyst sees nothing of acme and changes nothing.
    expect((await call('GET', '/v1/incidents/d1', otherTenant)).status).toBe(404);
    expect((await call('POST', '/v1/incidents/d1/transition', otherTenant, { to: 'triaged' })).status).toBe(404);
    expect((await call('GET', '/v1/incidents', otherTenant)).body.total).toBe(0);
    expect((await call('GET', '/v1/incidents/d1', viewer)).body.incident.state).toBe('new');
  });

  it('refuses bad bodies with 400 and field errors, and viewers with 403; nothing changes', async () => {
    await incident('b1');
    const cases: [string, string, unknown, string][] = [
      ['POST', '/v1/incidents/b1/transition', { to: 'closed' }, '/to'],
      ['POST', '/v1/incidents/b1/transition', { to: 'triaged', extra: 1 }, '/'],
      ['POST', '/v1/incidents/b1/assign', {}, '/assignee'],
      ['POST', '/v1/incidents/b1/comments', { text: '   ' }, '/text'],
      ['PUT', '/v1/incidents/b1/tags', { tags: ['ok', 'not ok'] }, '/tags/1'],
      ['POST', '/v1/incidents/b1/links', { other: 'w1', relation: 'cousin' }, '/relation'],
      ['POST', '/v1/incidents/b1/verdict', { verdict: 'false_positive' }, '/reason'],
      ['POST', '/v1/incidents/b1/verdict', { verdict: 'false_positive', reason: 'x', suppress: { scope: 'rule', days: 91 } }, '/suppress/days'],
      ['POST', '/v1/incidents/b1/verdict', { verdict: 'true_positive', reason: 'x' }, '/verdict'],
      // No detection rules run on this server: nothing to tune.
      ['POST', '/v1/incidents/b1/verdict', { verdict: 'false_positive', reason: 'x', tune: { params: { threshold: 5 } } }, '/tune'],
      ['POST', '/v1/incidents/b1/verdict', { verdict: 'false_positive', reason: 'x', suppress: { scope: 'rule', days: 1, rule: 'other.rule' } }, '/suppress/rule'],
    ];
    for (const [method, path, body, field] of cases) {
      const r = await call(method, path, analyst, body);
      expect(r.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(r.body.error).toBe('ValidationError');
      expect(r.body.fields.map((f) => f.path), JSON.stringify(body)).toContain(field);
    }
    expect((await call('POST', '/v1/incidents/b1/transition', viewer, { to: 'triaged' })).status).toBe(403);
    expect((await call('POST', '/v1/suppressions', viewer, { rule: 'x', reason: 'x', days: 1 })).status).toBe(403);
    const b1 = (await call('GET', '/v1/incidents/b1', viewer)).body;
    expect(b1.incident.state).toBe('new');
    expect(b1.history).toEqual([]);
    expect(await auditOf('b1')).toEqual([]);
  });
});

describe('false-positive verdicts', () => {
  it('close the incident and create the suppressions asked for, recorded with who and why', async () => {
    clock.set(T0 + 60 * DAY);
    await incident('fp1', { rules: ['can.unknown-id', 'can.flood'] });
    const v = await call('POST', '/v1/incidents/fp1/verdict', analyst, { verdict: 'false_positive', reason: 'V40 gateways send 0x7DF', suppress: { scope: 'rule+model', days: 30 } });
    expect(v.status).toBe(200);
    expect(v.body.incident).toMatchObject({ state: 'false_positive', closedAt: clock.now() });
    const made = v.body['suppressions'] as Row[];
    expect(made.map((x) => [x['rule'], x['match'], x['vehicle'], x['expiresAt'], x['createdBy']])).toEqual([
      ['can.unknown-id', { model: 'V40' }, undefined, clock.now() + 30 * DAY, expect.any(String)],
      ['can.flood', { model: 'V40' }, undefined, clock.now() + 30 * DAY, expect.any(String)],
    ]);
    expect(made[0]!['reason']).toBe('false positive (incident fp1): V40 gateways send 0x7DF');
    const history = (await call('GET', '/v1/incidents/fp1', viewer)).body.history;
    expect(history.map((e) => [e.kind, e.body['to'], e.body['reason'], e.body['actorName']])).toEqual([['verdict', 'false_positive', 'V40 gateways send 0x7DF', 'ana']]);
    expect(await auditOf('fp1')).toEqual(['incident.verdict']);
    for (const s of made) expect(await auditOf(s.id)).toEqual(['suppression.create']);
    // Already closed: a second verdict is an illegal move.
    const again = await call('POST', '/v1/incidents/fp1/verdict', analyst, { verdict: 'false_positive', reason: 'x' });
    expect(again).toMatchObject({ status: 409, body: { allowed: ['triaged'] } });

    // A campaign spans vehicles: rule+vehicle cannot apply, and nothing is written.
    await incident('fp2', { kind: 'campaign', vehicle: undefined, vehicleCount: 12 });
    const campaign = await call('POST', '/v1/incidents/fp2/verdict', analyst, { verdict: 'false_positive', reason: 'x', suppress: { scope: 'rule+vehicle', days: 1 } });
    expect(campaign.status).toBe(400);
    expect(campaign.body.fields[0]!.path).toBe('/suppress/scope');
    expect((await call('GET', '/v1/incidents/fp2', viewer)).body.incident.state).toBe('new');
  });
});

describe('the OpenAPI document', () => {
  it('describes every workflow route with its request and error schemas', async () => {
    const res = await vigil.http!.inject({ method: 'GET', url: '/openapi.json' });
    const doc = res.json() as { paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>> };
    for (const [path, method] of [
      ['/v1/incidents', 'get'], ['/v1/incidents/{id}', 'get'], ['/v1/incidents/{id}/transition', 'post'], ['/v1/incidents/{id}/assign', 'post'],
      ['/v1/incidents/{id}/comments', 'post'], ['/v1/incidents/{id}/comments', 'get'], ['/v1/incidents/{id}/tags', 'put'], ['/v1/incidents/{id}/tags/{tag}', 'delete'],
      ['/v1/incidents/{id}/links', 'post'], ['/v1/incidents/{id}/verdict', 'post'], ['/v1/suppressions', 'get'], ['/v1/suppressions', 'post'],
      ['/v1/suppressions/{id}', 'delete'], ['/v1/rules/tuning', 'get'],
    ] as const) {
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
    expect(Object.keys(doc.paths['/v1/incidents/{id}/transition']!['post']!.responses).sort()).toEqual(['200', '400', '404', '409']);
    expect(doc.paths['/v1/incidents/{id}/verdict']!['post']!.requestBody).toBeDefined();
  });
});

describe('suppressions over HTTP', () => {
  it('creates with an expiry of at most 90 days, lists the active ones, ends them; each audited', async () => {
    // Past the 30-day suppressions of the verdict test.
    clock.set(T0 + 100 * DAY);
    const created = await call('POST', '/v1/suppressions', analyst, { rule: 'can.unknown-id', vehicle: VEH, match: { model: 'V40', 'details.can_id': 1234 }, reason: 'test rig', days: 7 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ rule: 'can.unknown-id', vehicle: VEH, match: { model: 'V40', 'details.can_id': 1234 }, expiresAt: clock.now() + 7 * DAY, active: true, hits: 0 });
    const iso = await call('POST', '/v1/suppressions', analyst, { rule: 'api.token-reuse', reason: 'pen test', expiresAt: new Date(clock.now() + DAY).toISOString() });
    expect(iso.body.expiresAt).toBe(clock.now() + DAY);

    for (const [body, field] of [
      [{ rule: 'r', reason: 'x' }, '/expiresAt'],
      [{ rule: 'r', reason: 'x', days: 91 }, '/days'],
      [{ rule: 'r', reason: 'x', expiresAt: clock.now() + 91 * DAY }, '/expiresAt'],
      [{ rule: 'r', reason: 'x', expiresAt: clock.now() - 1 }, '/expiresAt'],
      [{ reason: 'x', days: 1 }, '/rule'],
      [{ rule: 'r', reason: 'x', days: 1, match: { colour: 'red' } }, '/match/colour'],
      [{ rule: 'r', days: 1 }, '/reason'],
      [{ rule: 'r', reason: 'x', days: 1, vehicle: 'VIN123' }, '/vehicle'],
    ] as const) {
      const r = await call('POST', '/v1/suppressions', analyst, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.fields.map((f) => f.path), JSON.stringify(body)).toContain(field);
    }

    const list = await call('GET', '/v1/suppressions', viewer);
    expect(list.body.items.map((s) => s.id).sort()).toEqual([created.body.id, iso.body.id].sort());
    clock.advance(2 * DAY);
    expect((await call('GET', '/v1/suppressions', viewer)).body.items.map((s) => s.id)).toEqual([created.body.id]);
    expect((await call('GET', '/v1/suppressions?active=false&limit=1000', viewer)).body.items.map((x) => x.id)).toEqual(expect.arrayContaining([created.body.id, iso.body.id]));

    const ended = await call('DELETE', `/v1/suppressions/${created.body.id}`, analyst);
    expect(ended).toMatchObject({ status: 200, body: { id: created.body.id, expiresAt: clock.now() } });
    expect((await call('GET', '/v1/suppressions', viewer)).body.total).toBe(0);
    expect((await call('DELETE', '/v1/suppressions/unknown', analyst)).status).toBe(404);
    expect((await call('DELETE', `/v1/suppressions/${iso.body.id}`, otherTenant)).status).toBe(404);
    expect(await auditOf(created.body.id)).toEqual(['suppression.create', 'suppression.delete']);
  });
});
