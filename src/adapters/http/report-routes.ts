/**
 * The bulletin over HTTP (permission `read`; the caller's tenant only):
 *
 *   GET /v1/reports/bulletin?from=2026-11-01&to=2026-12-01&format=html|pdf&tenant=
 *
 * [from, to) in UTC, by default the 30 days up to now; the answer is the document as a download
 * (`Content-Disposition: attachment; filename="vigil-bulletin-<tenant>-<from>-<to>.<ext>"`).
 * PDF needs Chromium on the server: without it the answer is 503 saying so.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { loadBulletin } from '../../report/bulletin.js';
import { printTemplates, renderBulletinHtml } from '../../report/html.js';
import type { BulletinSource, ExposureSummary } from '../../report/ports.js';
import { printPdf, PdfError } from '../pdf/chromium.js';
import { ApiError, ErrorBody, TIME_HELP, TimeQuery, requestTenant } from './api.js';

export interface ReportRouteDeps {
  readonly source: BulletinSource;
  /** The intel store's exposure; absent: the bulletin says no intel store was connected. */
  readonly exposure?: ExposureSummary;
  readonly defaultTenant: string;
  readonly now: () => number;
  /** HTML to PDF (default: the system Chromium); tests and other printers plug in here. */
  readonly print?: typeof printPdf;
}

const DAY = 86_400_000;
export const BULLETIN_FORMATS = ['html', 'pdf'] as const;

const BulletinQuery = z.object({
  from: TimeQuery.optional().describe(`start of the period, inclusive (${TIME_HELP}); default: 30 days before to`),
  to: TimeQuery.optional().describe(`end of the period, exclusive (${TIME_HELP}); default: now`),
  format: z.enum(BULLETIN_FORMATS).default('html').describe('html (one self-contained document) or pdf (A4, printed by Chromium)'),
  tenant: z.string().optional().describe('operator tokens: the tenant to act on'),
});

/** `vigil-bulletin-acme-2026-11-01-2026-11-30.pdf`: the period's first and last day. */
export function bulletinFileName(tenant: string, from: number, to: number, format: 'html' | 'pdf'): string {
  const d = (t: number): string => new Date(t).toISOString().slice(0, 10);
  return `vigil-bulletin-${tenant}-${d(from)}-${d(to - 1)}.${format}`;
}

export function registerReportRoutes(app: FastifyInstance, deps: ReportRouteDeps): void {
  app.withTypeProvider<ZodTypeProvider>().get('/v1/reports/bulletin', {
    config: { permission: 'read' },
    schema: {
      summary: 'Vehicle vulnerability and threat-intelligence bulletin for a period (HTML or PDF)',
      description: 'Incidents of the period by UN R155 threat group, by affected asset, by severity and state, per day, the top ATM techniques and rules, each against the previous period of the same length; the vulnerabilities exposing the fleet now and those first exposing it in the period. Figures and their sources: src/report/README.md.',
      tags: ['reports'],
      querystring: BulletinQuery,
      response: {
        200: {
          description: 'The bulletin, as a download',
          content: { 'text/html': { schema: z.string() }, 'application/pdf': { schema: z.string().describe('binary') } },
        },
        400: ErrorBody,
        403: ErrorBody,
        503: ErrorBody,
      },
    },
  }, async (req, reply) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const to = req.query.to ?? deps.now();
    const from = req.query.from ?? to - 30 * DAY;
    let bulletin;
    try {
      bulletin = await loadBulletin({ source: deps.source, ...(deps.exposure ? { exposure: deps.exposure } : {}) }, tenant, { from, to }, deps.now());
    } catch (e) {
      if (e instanceof RangeError) throw new ApiError(400, 'ValidationError', `invalid querystring: ${e.message}`, [{ in: 'querystring', path: '/from', message: e.message }]);
      throw e;
    }
    const html = renderBulletinHtml(bulletin);
    const format = req.query.format;
    void reply.header('content-disposition', `attachment; filename="${bulletinFileName(tenant, from, to, format)}"`);
    if (format === 'html') return reply.type('text/html; charset=utf-8').send(html);
    const { header, footer } = printTemplates(bulletin);
    try {
      const pdf = await (deps.print ?? printPdf)(html, { header, footer });
      // A Buffer is sent as it is (fastify skips serialization); the schema's string only documents it.
      return reply.type('application/pdf').send(Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength) as unknown as string);
    } catch (e) {
      if (e instanceof PdfError) throw new ApiError(503, 'PdfUnavailable', e.reason);
      throw e;
    }
  });
}
