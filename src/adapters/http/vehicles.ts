/**
 * The vehicle API: the digital twin of one vehicle and its timeline, and the vehicle list.
 * The live twin sits in the worker owning the vehicle and is asked for through the pipeline;
 * what the store holds (registration, summaries, stored alerts and IDS events) fills in, and
 * stands alone for a vehicle no worker holds.
 *
 *   GET /v1/vehicles?limit=&offset=&tenant=
 *   GET /v1/vehicles/{id}?tenant=             identity, ECUs, last-known state with VSS paths, statistics
 *   GET /v1/vehicles/{id}/timeline?limit=&tenant=
 *   GET /v1/vehicles/positions?vehicles=k1,k2,...   the last GNSS position of each (live twins; up to
 *                                                   100 at once: the console's map in one request)
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ConfigError, NotFoundError } from '../../core/errors.js';
import type { VehicleRecord } from '../../core/records.js';
import type { Store } from '../../core/store.js';
import { isVehicleKey } from '../../core/vehicle-key.js';
import type { TimelineEvent } from '../../twin/timeline.js';
import type { TwinView } from '../../twin/twins.js';
import { ErrorBody, requestTenant } from './api.js';

export interface VehicleRouteDeps {
  readonly store: Store;
  /** The live twin, from the worker that holds it (Pipeline.vehicleTwin). */
  readonly pipeline: { vehicleTwin(tenant: string, vehicle: string): Promise<TwinView | undefined> };
  readonly defaultTenant: string;
}

/** Largest page of vehicles or timeline events. */
export const MAX_VEHICLE_PAGE = 1000;
/** Most vehicles one positions request asks for. */
export const MAX_POSITIONS = 100;
const LATITUDE = 'Vehicle.CurrentLocation.Latitude';
const LONGITUDE = 'Vehicle.CurrentLocation.Longitude';

type Query = { tenant?: string; limit?: string; offset?: string };

export function registerVehicleRoutes(app: FastifyInstance, deps: VehicleRouteDeps): void {
  const page = (q: Query, fallback: number): { limit: number; offset: number } => ({
    limit: Math.min(MAX_VEHICLE_PAGE, Math.max(1, Number(q.limit ?? fallback) || fallback)),
    offset: Math.max(0, Number(q.offset ?? 0) || 0),
  });
  const key = (id: string): string => {
    if (!isVehicleKey(id)) throw new ConfigError('invalid vehicle id', [`id: expected 16 lowercase hex digits (a vehicle pseudonym), got ${JSON.stringify(id.slice(0, 40))}`]);
    return id;
  };

  app.get<{ Querystring: Query }>('/v1/vehicles', { config: { permission: 'read' } }, async (req) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const p = page(req.query, 50);
    // One more than asked, to say whether there is a next page.
    const rows = await deps.store.listVehicles(tenant, { limit: p.limit + 1, offset: p.offset });
    return { tenant, items: rows.slice(0, p.limit).map(summary), limit: p.limit, offset: p.offset, more: rows.length > p.limit };
  });

  app.withTypeProvider<ZodTypeProvider>().get('/v1/vehicles/positions', {
    config: { permission: 'read' },
    schema: {
      tags: ['vehicles'], summary: 'The last GNSS position of each vehicle asked for (those with one)',
      querystring: z.object({
        tenant: z.string().optional().describe('operator tokens: the tenant to act on'),
        vehicles: z.string().describe(`comma list of up to ${MAX_POSITIONS} vehicle keys`).transform((s, ctx) => {
          const list = [...new Set(s.split(',').map((x) => x.trim()).filter(Boolean))];
          if (list.length > MAX_POSITIONS) ctx.addIssue({ code: 'custom', message: `at most ${MAX_POSITIONS} vehicles` });
          const bad = list.filter((x) => !isVehicleKey(x));
          if (bad.length) ctx.addIssue({ code: 'custom', message: `not a vehicle key (16 lowercase hex digits): ${bad.slice(0, 3).map((b) => JSON.stringify(b.slice(0, 40))).join(', ')}` });
          return list;
        }),
      }),
      response: {
        200: z.object({ items: z.array(z.object({ id: z.string(), model: z.string().nullable(), lat: z.number(), lon: z.number(), at: z.number().nullable().describe('epoch ms of the latitude reading') })) }),
        400: ErrorBody,
      },
    },
  }, async (req) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const twins = await Promise.all(req.query.vehicles.map((id) => deps.pipeline.vehicleTwin(tenant, id)));
    const items = [];
    for (const t of twins) {
      const lat = t?.signals.find((s) => s.path === LATITUDE);
      const lon = t?.signals.find((s) => s.path === LONGITUDE);
      if (t && typeof lat?.value === 'number' && typeof lon?.value === 'number') items.push({ id: t.id, model: t.identity.model ?? null, lat: lat.value, lon: lon.value, at: lat.time });
    }
    return { items };
  });

  app.get<{ Params: { id: string }; Querystring: Query }>('/v1/vehicles/:id', { config: { permission: 'read' } }, async (req) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const id = key(req.params.id);
    const [stored, live] = await Promise.all([deps.store.getVehicle(tenant, id), deps.pipeline.vehicleTwin(tenant, id)]);
    if (!stored && !live) throw new NotFoundError(`no vehicle ${id} in tenant ${tenant}`);
    const identity = { ...identityOf(stored), ...stripUndefined(live?.identity ?? {}) };
    const software = { ...stored?.software, ...live?.identity.software };
    return {
      tenant, id, live: live !== undefined,
      identity: { make: identity.make, model: identity.model, year: identity.year, trim: identity.trim, region: identity.region },
      ecus: Object.entries(software).sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, version]) => ({ name, software: version })),
      cohort: live?.cohort ?? null,
      firstSeen: live?.firstSeen ?? stored?.firstSeen ?? null,
      lastSeen: live?.lastSeen ?? stored?.lastSeen ?? null,
      signalCount: live?.signalCount ?? stored?.signalCount ?? 0,
      signals: live?.signals ?? [],
    };
  });

  app.get<{ Params: { id: string }; Querystring: Query }>('/v1/vehicles/:id/timeline', { config: { permission: 'read' } }, async (req) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const id = key(req.params.id);
    const { limit } = page(req.query, 100);
    const live = await deps.pipeline.vehicleTwin(tenant, id);
    let events: TimelineEvent[];
    if (live) events = [...live.timeline];
    else {
      // No worker holds the twin: rebuild what the store can tell.
      const [stored, alerts, security] = await Promise.all([
        deps.store.getVehicle(tenant, id),
        deps.store.listAlerts({ tenant, vehicle: id, limit }),
        deps.store.listSecurityEvents({ tenant, vehicle: id, limit }),
      ]);
      if (!stored && !alerts.length && !security.length) throw new NotFoundError(`no vehicle ${id} in tenant ${tenant}`);
      events = [
        ...(stored?.firstSeen !== undefined ? [{ time: stored.firstSeen, kind: 'first_seen' as const, summary: 'first data from the vehicle' }] : []),
        ...alerts.map((a): TimelineEvent => ({ time: a.time, kind: 'alert', summary: `${a.title} (${a.severity})`, ref: a.id, details: { rule: a.rule } })),
        ...security.map((e): TimelineEvent => ({ time: e.time, kind: 'security', summary: `${e.name} (${e.severity}) from ${e.sensor}`, ref: e.id, details: { eventId: e.eventId, count: e.count } })),
      ].sort((a, b) => a.time - b.time);
    }
    // Newest first, like every list of the API.
    const items = events.reverse().slice(0, limit);
    return { tenant, id, live: live !== undefined, items, limit, more: events.length > limit };
  });
}

function summary(v: VehicleRecord): Record<string, unknown> {
  const { tenant: _tenant, ...rest } = v;
  return rest;
}

function identityOf(v: VehicleRecord | undefined): Record<string, unknown> {
  if (!v) return {};
  return stripUndefined({ make: v.make, model: v.model, year: v.year, trim: v.trim, region: v.region });
}

function stripUndefined(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined));
}
