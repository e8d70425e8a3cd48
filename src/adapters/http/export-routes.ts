/**
 * Incident export over HTTP (read): the tenant's incidents, filtered as the incident list is,
 * as JSON, CSV or a STIX 2.1 bundle (src/alerts/export.ts).
 *
 *   GET /v1/incidents/export?format=json|csv|stix&state=&severity=&since=&until=&tenant=
 *
 * Newest last alert first, at most MAX_EXPORT incidents; when more match, the answer carries
 * `X-Vigil-Truncated: true` and `X-Vigil-Total` (narrow the time range to get the rest).
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SEVERITIES } from '../../core/records.js';
import { EXPORT_FORMATS, incidentsToCsv, incidentsToJson, incidentsToStix } from '../../alerts/export.js';
import { INCIDENT_STATES, type Incident } from '../../alerts/model.js';
import type { IncidentQuery, IncidentStore } from '../../alerts/ports.js';
import { CsvOf, ErrorBody, TimeQuery, requestTenant } from './api.js';

/** Incidents one export holds at most. */
export const MAX_EXPORT = 10_000;
/** Incidents read from the store per page. */
const PAGE = 1000;

export interface ExportRouteDeps {
  readonly incidents: Pick<IncidentStore, 'listIncidents'>;
  readonly defaultTenant: string;
}

const ExportQuery = z.object({
  format: z.enum(EXPORT_FORMATS).default('json').describe('json (the incidents as the API gives them), csv, or stix (a STIX 2.1 bundle)'),
  state: CsvOf(INCIDENT_STATES).optional(),
  severity: CsvOf(SEVERITIES).optional(),
  since: TimeQuery.optional().describe('last alert at or after: epoch ms or ISO 8601'),
  until: TimeQuery.optional().describe('last alert before: epoch ms or ISO 8601'),
  tenant: z.string().optional().describe('operator tokens: the tenant to act on'),
});

const MEDIA = { json: 'application/json; charset=utf-8', csv: 'text/csv; charset=utf-8', stix: 'application/stix+json;version=2.1' } as const;
const EXTENSION = { json: 'json', csv: 'csv', stix: 'stix.json' } as const;

export function registerExportRoutes(app: FastifyInstance, deps: ExportRouteDeps): void {
  app.withTypeProvider<ZodTypeProvider>().get('/v1/incidents/export', {
    config: { permission: 'read' },
    schema: {
      summary: 'Export incidents as JSON, CSV or a STIX 2.1 bundle',
      description: `The filters of the incident list. At most ${MAX_EXPORT} incidents, newest last alert first; past that the answer has X-Vigil-Truncated: true and X-Vigil-Total. CSV columns: README "Onboarding and exchange". STIX: incident SDOs (Vigil facts in a property extension defined in the bundle), one indicator per detection rule, sightings of them where the vehicle identity (its pseudonym, never the VIN) is; ids are UUIDv5 of tenant and Vigil id, stable across exports.`,
      tags: ['incidents'],
      querystring: ExportQuery,
      response: {
        200: {
          description: 'The export, as a download',
          content: {
            'application/json': { schema: z.object({ tenant: z.string(), count: z.number().int(), incidents: z.array(z.record(z.string(), z.unknown())) }) },
            'text/csv': { schema: z.string() },
            'application/stix+json': { schema: z.object({ type: z.literal('bundle'), id: z.string(), objects: z.array(z.record(z.string(), z.unknown())) }) },
          },
        },
        400: ErrorBody,
        403: ErrorBody,
      },
    },
  }, async (req, reply) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const q = req.query;
    const filter: Omit<IncidentQuery, 'limit' | 'offset'> = {
      tenant, sort: { field: 'lastAlertAt', desc: true },
      ...(q.state ? { state: q.state } : {}),
      ...(q.severity ? { severity: q.severity } : {}),
      ...(q.since !== undefined ? { since: q.since } : {}),
      ...(q.until !== undefined ? { until: q.until } : {}),
    };
    const items: Incident[] = [];
    let total = 0;
    for (let offset = 0; items.length < MAX_EXPORT; offset += PAGE) {
      const page = await deps.incidents.listIncidents({ ...filter, limit: Math.min(PAGE, MAX_EXPORT - items.length), offset });
      items.push(...page.items);
      total = page.total;
      if (page.items.length === 0 || items.length >= total) break;
    }
    if (total > items.length) void reply.header('x-vigil-truncated', 'true');
    const body = q.format === 'csv' ? incidentsToCsv(items)
      : q.format === 'stix' ? JSON.stringify(incidentsToStix(tenant, items))
      : JSON.stringify(incidentsToJson(tenant, items));
    return reply
      .header('x-vigil-total', String(total))
      .header('content-disposition', `attachment; filename="incidents-${tenant}.${EXTENSION[q.format]}"`)
      .type(MEDIA[q.format])
      .send(body);
  });
}
