/**
 * Response over HTTP: playbooks, running them on incidents, single actions, and what came of
 * them (action runs, delivery attempts, requests to vehicles and OTA back ends).
 *
 *   GET    /v1/playbooks                                   read    the tenant's and the shipped ones
 *   GET    /v1/playbooks/{id}                              read
 *   PUT    /v1/playbooks/{id}                              admin   create or replace the tenant's own
 *   DELETE /v1/playbooks/{id}                              admin   the tenant's own (shipped ones are files)
 *   POST   /v1/incidents/{id}/playbooks/{playbook}/run     respond { inputs? } -> the run, step by step
 *   POST   /v1/incidents/{id}/actions                      respond { action, params } -> 201 the action run
 *   GET    /v1/action-runs        ?incident=&playbook=&action=&status=
 *   GET    /v1/deliveries         ?id=&channel=&status=&event=
 *   GET    /v1/response-requests  ?kind=&active=true&vehicle=&incident=   (vehicles poll this for data collection)
 *
 * Changes are audited: `playbook.put`, `playbook.delete` here; runs by the Responder
 * (`playbook.run`, `action.<kind>`, `token.revoke`), which also puts every action on the incident.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuditLog } from '../../core/access.js';
import type { Clock } from '../../core/clock.js';
import { ATTEMPT_STATUSES } from '../../alerts/notifier.js';
import { ACTION_PARAMS, checkPlaybook, PlaybookSchema } from '../../alerts/playbooks.js';
import type { IncidentStore } from '../../alerts/ports.js';
import type { PlaybookEntry, Responder } from '../../alerts/responder.js';
import { ACTION_KINDS, REQUEST_KINDS, REQUEST_STATUSES, RUN_STATUSES, type ResponseStore } from '../../alerts/response.js';
import { ApiError, ErrorBody, PageQuery, Paged, principalOf, requestTenant, type FieldError } from './api.js';

export interface ResponseRouteDeps {
  readonly responder: Responder;
  readonly store: ResponseStore;
  readonly incidents: Pick<IncidentStore, 'getIncident'>;
  readonly audit: Pick<AuditLog, 'append'>;
  readonly clock: Clock;
  readonly defaultTenant: string;
}

const Json = z.record(z.string(), z.unknown());
const Id = z.string().min(1).max(200);

const ActionRunBody = z.object({
  id: z.string(), incident: z.string().optional(), playbook: z.string().optional(), step: z.number().int().optional(),
  action: z.enum(ACTION_KINDS), status: z.enum(RUN_STATUSES), params: Json, result: Json.optional(),
  actor: z.string(), startedAt: z.number(), finishedAt: z.number().optional(),
});
const DeliveryBody = z.object({
  id: z.string(), attempt: z.number().int(), channel: z.string(), target: z.string(), event: z.string(),
  status: z.enum(ATTEMPT_STATUSES), httpStatus: z.number().int().optional(), error: z.string().optional(), at: z.number(),
});
const RequestBody = z.object({
  id: z.string(), kind: z.enum(REQUEST_KINDS), incident: z.string().optional(), vehicles: z.array(z.string()), params: Json,
  status: z.enum(REQUEST_STATUSES), createdBy: z.string(), createdAt: z.number(), expiresAt: z.number().optional(),
});
const PlaybookBody = z.object({
  id: z.string(), title: z.string(), source: z.enum(['stored', 'file']).describe('the tenant\'s own, or shipped in playbooks.dir'),
  trigger: Json, steps: z.number().int(), definition: Json.describe('the playbook document, defaults filled in'),
  updatedBy: z.string().optional(), updatedAt: z.number().optional(),
});
const PlaybookRunBody = z.object({
  playbook: z.string(), incident: z.string(), status: z.enum(['succeeded', 'failed']), stoppedAt: z.number().int().optional(), runs: z.array(ActionRunBody),
});

/** One action on its own: `{ action, params }`, params checked per action. */
const AdHocAction = z.discriminatedUnion('action', ACTION_KINDS.map((k) => z.strictObject({ action: z.literal(k), params: ACTION_PARAMS[k] })) as unknown as [
  z.ZodObject<{ action: z.ZodLiteral<'webhook'>; params: (typeof ACTION_PARAMS)['webhook'] }>, ...z.ZodObject<{ action: z.ZodLiteral<(typeof ACTION_KINDS)[number]>; params: z.ZodType }>[],
]);

const IncidentParams = z.object({ id: Id });
const TenantQuery = z.object({ tenant: z.string().optional() });

function entryBody(e: PlaybookEntry): z.infer<typeof PlaybookBody> {
  return {
    id: e.playbook.id, title: e.playbook.title, source: e.source, trigger: e.playbook.trigger, steps: e.playbook.steps.length, definition: e.playbook,
    ...(e.updatedBy !== undefined ? { updatedBy: e.updatedBy } : {}), ...(e.updatedAt !== undefined ? { updatedAt: e.updatedAt } : {}),
  };
}

/** `steps.1.params.channel: message` -> a body field error at `/steps/1/params/channel`. */
function fieldErrors(problems: readonly string[]): FieldError[] {
  return problems.map((p) => {
    const i = p.indexOf(': ');
    const path = i < 0 ? '' : p.slice(0, i);
    return { in: 'body', path: path === '(root)' || path === '' ? '' : `/${path.split('.').join('/')}`, message: i < 0 ? p : p.slice(i + 2) };
  });
}

export function registerResponseRoutes(app: FastifyInstance, deps: ResponseRouteDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['response'];

  const incidentOf = async (tenant: string, id: string) => {
    const incident = await deps.incidents.getIncident(tenant, id);
    if (!incident) throw new ApiError(404, 'NotFound', `no incident ${id} in tenant ${tenant}`);
    return incident;
  };

  r.get('/v1/playbooks', {
    config: { permission: 'read' },
    schema: { tags, summary: 'Playbooks of the tenant: its own and the shipped ones it has not replaced', querystring: TenantQuery, response: { 200: z.object({ items: z.array(PlaybookBody), total: z.number().int() }) } },
  }, async (req) => {
    const items = (await deps.responder.playbooks(requestTenant(req, deps.defaultTenant))).map(entryBody);
    return { items, total: items.length };
  });

  r.get('/v1/playbooks/:id', {
    config: { permission: 'read' },
    schema: { tags, summary: 'One playbook', params: z.object({ id: Id }), querystring: TenantQuery, response: { 200: PlaybookBody, 404: ErrorBody } },
  }, async (req) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const e = await deps.responder.playbook(tenant, req.params.id);
    if (!e) throw new ApiError(404, 'NotFound', `no playbook ${req.params.id} in tenant ${tenant}`);
    return entryBody(e);
  });

  r.put('/v1/playbooks/:id', {
    config: { permission: 'admin' },
    schema: {
      tags, summary: 'Create or replace one of the tenant\'s playbooks (a shipped one of the same id is replaced for this tenant)',
      params: z.object({ id: Id }), querystring: TenantQuery, body: PlaybookSchema.extend({ id: PlaybookSchema.shape.id.optional() }),
      response: { 200: z.object({ playbook: PlaybookBody, created: z.boolean() }), 400: ErrorBody },
    },
  }, async (req) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const p = principalOf(req);
    const body = req.body as Record<string, unknown>;
    if (body.id !== undefined && body.id !== req.params.id) throw new ApiError(400, 'ValidationError', `body id ${String(body.id)} differs from the path's ${req.params.id}`, [{ in: 'body', path: '/id', message: `must be ${req.params.id} (the path's id) or absent` }]);
    const checked = checkPlaybook({ ...body, id: req.params.id }, { channels: deps.responder.channelNames });
    if (!checked.playbook) throw new ApiError(400, 'ValidationError', `invalid playbook: ${checked.problems.join('; ')}`, fieldErrors(checked.problems));
    const existed = (await deps.store.getPlaybook(tenant, req.params.id)) !== undefined;
    const now = deps.clock.now();
    await deps.store.savePlaybook({ tenant, id: req.params.id, definition: checked.playbook, updatedBy: p.tokenId, updatedAt: now });
    await deps.audit.append([{ principal: p, tenant, action: 'playbook.put', targetType: 'playbook', targetId: req.params.id, details: { created: !existed, title: checked.playbook.title, steps: checked.playbook.steps.map((s) => s.action), trigger: checked.playbook.trigger } }]);
    return { playbook: entryBody({ playbook: checked.playbook, source: 'stored', updatedBy: p.tokenId, updatedAt: now }), created: !existed };
  });

  r.delete('/v1/playbooks/:id', {
    config: { permission: 'admin' },
    schema: { tags, summary: 'Delete one of the tenant\'s playbooks', params: z.object({ id: Id }), querystring: TenantQuery, response: { 204: z.null(), 404: ErrorBody, 409: ErrorBody } },
  }, async (req, reply) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const p = principalOf(req);
    if (!(await deps.store.deletePlaybook(tenant, req.params.id))) {
      const shipped = await deps.responder.playbook(tenant, req.params.id);
      if (shipped?.source === 'file') throw new ApiError(409, 'Conflict', `playbook ${req.params.id} is shipped in playbooks.dir; change the file, or PUT a playbook of this id to replace it for the tenant`);
      throw new ApiError(404, 'NotFound', `no playbook ${req.params.id} in tenant ${tenant}`);
    }
    await deps.audit.append([{ principal: p, tenant, action: 'playbook.delete', targetType: 'playbook', targetId: req.params.id, details: {} }]);
    return reply.status(204).send(null);
  });

  r.post('/v1/incidents/:id/playbooks/:playbook/run', {
    config: { permission: 'respond' },
    schema: {
      tags, summary: 'Run a playbook on an incident; every action is recorded on it and audited',
      params: z.object({ id: Id, playbook: Id }), querystring: TenantQuery,
      body: z.strictObject({ inputs: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.string())])).default({}) }).prefault({}),
      response: { 200: PlaybookRunBody, 400: ErrorBody, 404: ErrorBody },
    },
  }, async (req) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const incident = await incidentOf(tenant, req.params.id);
    const entry = await deps.responder.playbook(tenant, req.params.playbook);
    if (!entry) throw new ApiError(404, 'NotFound', `no playbook ${req.params.playbook} in tenant ${tenant}`);
    const run = await deps.responder.runPlaybook(tenant, incident, entry.playbook, principalOf(req), req.body?.inputs ?? {});
    return { ...run, runs: [...run.runs] };
  });

  r.post('/v1/incidents/:id/actions', {
    config: { permission: 'respond' },
    schema: {
      tags, summary: 'Run one response action on an incident; recorded on it and audited',
      params: IncidentParams, querystring: TenantQuery, body: AdHocAction,
      response: { 201: ActionRunBody, 400: ErrorBody, 404: ErrorBody },
    },
  }, async (req, reply) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const incident = await incidentOf(tenant, req.params.id);
    const body = req.body as { action: (typeof ACTION_KINDS)[number]; params: unknown };
    const run = await deps.responder.runAction(tenant, incident, body.action, body.params, principalOf(req));
    return reply.status(201).send(run);
  });

  r.get('/v1/action-runs', {
    config: { permission: 'read' },
    schema: {
      tags, summary: 'Action runs, newest first',
      querystring: PageQuery.extend({ incident: Id.optional(), playbook: Id.optional(), action: z.enum(ACTION_KINDS).optional(), status: z.enum(RUN_STATUSES).optional() }),
      response: { 200: Paged(ActionRunBody) },
    },
  }, async (req) => {
    const { limit, offset, incident, playbook, action, status } = req.query;
    const page = await deps.store.listActionRuns({ tenant: requestTenant(req, deps.defaultTenant), limit, offset, ...(incident ? { incident } : {}), ...(playbook ? { playbook } : {}), ...(action ? { action } : {}), ...(status ? { status } : {}) });
    return { items: page.items.map(({ tenant: _t, ...run }) => run), total: page.total, limit, offset };
  });

  r.get('/v1/deliveries', {
    config: { permission: 'read' },
    schema: {
      tags, summary: 'Delivery attempts of webhooks and syslog messages, newest first',
      querystring: PageQuery.extend({ id: Id.optional().describe('one message: all its attempts'), channel: Id.optional(), status: z.enum(ATTEMPT_STATUSES).optional(), event: Id.optional() }),
      response: { 200: Paged(DeliveryBody) },
    },
  }, async (req) => {
    const { limit, offset, id, channel, status, event } = req.query;
    const page = await deps.store.listDeliveries({ tenant: requestTenant(req, deps.defaultTenant), limit, offset, ...(id ? { id } : {}), ...(channel ? { channel } : {}), ...(status ? { status } : {}), ...(event ? { event } : {}) });
    return { items: page.items.map(({ tenant: _t, ...d }) => d), total: page.total, limit, offset };
  });

  r.get('/v1/response-requests', {
    config: { permission: 'read' },
    schema: {
      tags, summary: 'Requests to vehicles and OTA back ends (data collection, OTA campaigns), newest first',
      querystring: PageQuery.extend({
        kind: z.enum(REQUEST_KINDS).optional(), incident: Id.optional(),
        vehicle: z.string().regex(/^[0-9a-f]{16}$/, 'a vehicle key (16 lowercase hex digits)').optional(),
        active: z.enum(['true', 'false']).optional().describe('true: only those not failed and not expired now'),
      }),
      response: { 200: Paged(RequestBody) },
    },
  }, async (req) => {
    const { limit, offset, kind, incident, vehicle, active } = req.query;
    const page = await deps.store.listResponseRequests({
      tenant: requestTenant(req, deps.defaultTenant), limit, offset,
      ...(kind ? { kind } : {}), ...(incident ? { incident } : {}), ...(vehicle ? { vehicle } : {}), ...(active === 'true' ? { activeAt: deps.clock.now() } : {}),
    });
    return { items: page.items.map(({ tenant: _t, vehicles, ...q }) => ({ ...q, vehicles: [...vehicles] })), total: page.total, limit, offset };
  });
}
