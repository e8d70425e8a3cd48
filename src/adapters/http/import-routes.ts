/**
 * Onboarding over HTTP (admin): vehicle registrations and historical alerts, as the files
 * `vigil import vehicles|alerts` reads, sent as the request body. The media type names the
 * format; the answer lists every refused row by line (the rows are dead-lettered too).
 *
 *   POST /v1/vehicles/import?tenant=    Content-Type: text/csv | application/x-ndjson
 *   POST /v1/alerts/import?tenant=&triage=true    Content-Type: application/x-ndjson
 *   -> 200 { imported, rejected, duplicates, errors: [{ line, reason }] }
 *
 * A CSV header that cannot be read is a 400 with every problem listed; nothing is imported.
 * Every import that ran is audited (`vehicle.import`, `alert.import`).
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuditLog } from '../../core/access.js';
import { ConfigError } from '../../core/errors.js';
import type { Alert } from '../../core/records.js';
import type { ImportReport as ImportResult, OnboardingFormat, TriageReport as TriageResult } from '../../normalize/onboarding.js';
import { ApiError, ErrorBody, principalOf, requestTenant } from './api.js';

/** What the routes run (src/api/onboarding.ts), bound to the running pipeline and store. */
export interface ImportRouteDeps {
  readonly defaultTenant: string;
  readonly audit: AuditLog;
  importVehicles(req: { tenant: string; text: string; format: OnboardingFormat; source: string }): Promise<ImportResult>;
  importAlerts(req: { tenant: string; text: string; source: string }): Promise<ImportResult>;
  /** Runs imported alerts through the alert pipeline (`?triage=true`); absent: triage is not offered. */
  triage?(tenant: string, alerts: readonly Alert[]): Promise<TriageResult>;
}



/** Dead-letter source of rows refused by an HTTP import. */
export const IMPORT_SOURCE = 'http:import';

const MEDIA: Readonly<Record<string, OnboardingFormat>> = {
  'text/csv': 'csv',
  'application/x-ndjson': 'jsonl',
  'application/jsonl': 'jsonl',
};

const ImportReport = z.object({
  imported: z.number().int().describe('rows stored'),
  rejected: z.number().int().describe('rows refused (each dead-lettered with its raw line)'),
  duplicates: z.number().int().describe('alerts whose id was already stored, or repeated in the body (vehicles: 0)'),
  errors: z.array(z.object({ line: z.number().int(), reason: z.string() })).describe('refused rows by line (the first 1000)'),
  triage: z.object({
    incidents: z.number().int().describe('distinct incidents the alerts opened or joined'),
    duplicates: z.number().int(), suppressed: z.number().int(),
    pending: z.number().int().describe('left undecided (the alert pipeline was full)'),
  }).optional().describe('with triage=true: what the alert pipeline decided'),
});

const TenantQuery = z.object({ tenant: z.string().optional().describe('operator tokens: the tenant to act on') });
const Body = z.string().min(1, 'the body is empty');

export function registerImportRoutes(app: FastifyInstance, deps: ImportRouteDeps): void {
  void app.register(async (scope) => {
    // Bodies are files: kept as text, parsed (and every bad row reported) by the onboarding code.
    scope.addContentTypeParser(Object.keys(MEDIA), { parseAs: 'string' }, (_req, body, done) => done(null, body));
    const api = scope.withTypeProvider<ZodTypeProvider>();

    api.post('/v1/vehicles/import', {
      config: { permission: 'admin' },
      schema: {
        summary: 'Register vehicles (identity and ECU software) from CSV or JSONL',
        description: 'Body: a vehicle file (README "Onboarding and exchange"). `text/csv`: a header with `vin` and any of make, model, year, trim, region, ecus (`BCM=1.2.3;TCU=4.5`), ecu.<NAME>. `application/x-ndjson`: one `{"vin", "make", ..., "ecus": [{"name", "software"}]}` per line. VINs are pseudonymized with the tenant key, as at ingest.',
        tags: ['onboarding'],
        consumes: ['text/csv', 'application/x-ndjson'],
        querystring: TenantQuery,
        body: Body,
        response: { 200: ImportReport, 400: ErrorBody, 403: ErrorBody, 415: ErrorBody },
      },
    }, async (req) => {
      const tenant = requestTenant(req, deps.defaultTenant);
      const format = MEDIA[mediaType(req.headers['content-type'])];
      if (!format) throw new ApiError(415, 'UnsupportedMediaType', 'vehicles are imported as text/csv or application/x-ndjson (one JSON object per line)');
      const report = await headerProblemsAsFields(() => deps.importVehicles({ tenant, text: req.body, format, source: IMPORT_SOURCE }));
      await deps.audit.append([{
        principal: principalOf(req), tenant, action: 'vehicle.import', targetType: 'vehicles', targetId: digest(req.body),
        details: { format, bytes: Buffer.byteLength(req.body), imported: report.imported, rejected: report.rejected },
      }]);
      return answer(report);
    });

    api.post('/v1/alerts/import', {
      config: { permission: 'admin' },
      schema: {
        summary: 'Import historical alerts from JSONL',
        description: 'Body (`application/x-ndjson`): one alert per line: `{"id", "vin" | "vehicle", "time", "rule", "title", "severity", "tags", "details"}`; `time` is RFC 3339 with a zone or epoch ms. Idempotent by id. `triage=true` runs the new alerts through the alert pipeline so they form incidents.',
        tags: ['onboarding'],
        consumes: ['application/x-ndjson'],
        querystring: TenantQuery.extend({ triage: z.enum(['true', 'false']).default('false').describe('run the alerts through the alert pipeline') }),
        body: Body,
        response: { 200: ImportReport, 400: ErrorBody, 403: ErrorBody, 415: ErrorBody },
      },
    }, async (req) => {
      const tenant = requestTenant(req, deps.defaultTenant);
      if (MEDIA[mediaType(req.headers['content-type'])] !== 'jsonl') {
        throw new ApiError(415, 'UnsupportedMediaType', 'alerts are imported as application/x-ndjson (one JSON object per line)');
      }
      const triage = req.query.triage === 'true';
      if (triage && !deps.triage) throw new ApiError(400, 'ValidationError', 'triage is not available on this server', [{ in: 'querystring', path: '/triage', message: 'the alert pipeline is not running' }]);
      const report = await deps.importAlerts({ tenant, text: req.body, source: IMPORT_SOURCE });
      const decided = triage ? await deps.triage!(tenant, report.alerts) : undefined;
      await deps.audit.append([{
        principal: principalOf(req), tenant, action: 'alert.import', targetType: 'alerts', targetId: digest(req.body),
        details: { bytes: Buffer.byteLength(req.body), imported: report.imported, rejected: report.rejected, duplicates: report.duplicates, triage, ...(decided ? { incidents: decided.incidents } : {}) },
      }]);
      return { ...answer(report), ...(decided ? { triage: { ...decided } } : {}) };
    });
  });
}

function answer(r: ImportResult): z.infer<typeof ImportReport> {
  return { imported: r.imported, rejected: r.rejected, duplicates: r.duplicates, errors: [...r.errors] };
}

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

/** The audit target of an import: the body's sha256 (first 16 hex digits), naming what was imported. */
function digest(body: string): string {
  return createHash('sha256').update(body).digest('hex').slice(0, 16);
}

/** A file whose header cannot be read: 400 with one field error per problem. */
async function headerProblemsAsFields<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof ConfigError) {
      throw new ApiError(400, 'ValidationError', e.message, (e.problems.length ? e.problems : [e.reason]).map((message) => ({ in: 'body', path: '', message })));
    }
    throw e;
  }
}
