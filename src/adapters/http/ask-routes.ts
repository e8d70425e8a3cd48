/**
 * Asking over HTTP:
 *
 *   POST /v1/ask      { question: "alerts by make in the last 30 days" }   (permission read)
 *   POST /v1/ask      { query: { entity: 'alerts', groupBy: ['vehicle.make'], ... } }
 *   POST /v1/ask/sql  { sql: "SELECT rule, count(*) FROM alerts GROUP BY 1" }   (permission admin)
 *
 * Every answer shows the query that ran: the typed query, the SQL and its bound values.
 * A question is read against one tenant's vocabulary, so it acts on one tenant (an operator's
 * named tenant, else the default). A typed query or SQL from an operator token that names no
 * tenant reads every tenant; any other token reads its own tenant only.
 *
 * Raw SQL needs `admin`, not `read`: it reaches every column of the allow-listed tables (not only
 * the catalog's fields), and its cost is bounded only by the time limit, so it is for the few who
 * run the platform; analysts ask typed queries or questions. Every raw SQL run is audited.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuditLog } from '../../core/access.js';
import type { Clock } from '../../core/clock.js';
import { askQuery, askSql } from '../../ask/ask.js';
import type { Answer } from '../../ask/answer.js';
import { GuardError, MAX_SQL_LENGTH } from '../../ask/guard.js';
import { AskTimeoutError, DEFAULT_LIMITS, type AskExecutor, type AskLimits } from '../../ask/port.js';
import { QueryError } from '../../ask/validate.js';
import { ApiError, ErrorBody, principalOf, requestTenant, requestTenantFilter } from './api.js';

/** What a question became (src/ask/question.ts `askQuestion`, structurally). */
export type QuestionOutcome =
  | { readonly kind: 'answer'; readonly by: 'engine' | 'model'; readonly query: unknown; readonly answer: Answer; readonly notes: readonly string[] }
  | { readonly kind: 'askBack'; readonly askBack: { readonly question: string; readonly choices: readonly { readonly label: string; readonly question: string }[] } }
  | { readonly kind: 'error'; readonly error: string; readonly by: 'engine' | 'model' };

export interface AskRouteDeps {
  readonly executor: AskExecutor;
  /** The plain-language engine; absent: only typed queries are accepted. */
  readonly question?: (question: string, tenant: string) => Promise<QuestionOutcome>;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly defaultTenant: string;
  readonly limits?: AskLimits;
}

const Cell: z.ZodType = z.unknown().describe('a value: number, text, boolean, list, object or null');
const ShownSql = z.object({ text: z.string(), params: z.array(z.union([z.string(), z.number(), z.boolean(), z.null()])).readonly() });

const AnswerBody = z.object({
  query: z.unknown().describe('the typed query answered, defaults filled in'),
  time: z.object({ from: z.number(), to: z.number(), field: z.string().optional() }).optional().describe('the time range covered, epoch ms'),
  table: z.object({
    columns: z.array(z.object({ name: z.string(), type: z.string(), label: z.string(), role: z.enum(['group', 'measure', 'field']) })).readonly(),
    rows: z.array(z.array(Cell).readonly()).readonly(),
    truncated: z.boolean(),
  }),
  chart: z.unknown().optional().describe('a Vega-Lite subset over the table (src/ask/answer.ts ChartSpec)'),
  summary: z.string(),
  sql: ShownSql,
  commonality: z.unknown().optional().describe('commonality: over-represented attribute values with support, lift and p-values'),
  elapsedMs: z.number(),
});

const AskBody = z.strictObject({
  question: z.string().min(1).max(500).optional().describe('a plain-language question'),
  query: z.record(z.string(), z.unknown()).optional().describe('a typed query (src/ask/README.md)'),
}).refine((b) => (b.question === undefined) !== (b.query === undefined), { message: 'send exactly one of question and query' });

const AskReply = z.union([
  z.object({ kind: z.literal('answer'), by: z.enum(['engine', 'model', 'query']), notes: z.array(z.string()).readonly(), answer: AnswerBody }),
  z.object({ kind: z.literal('askBack'), askBack: z.object({ question: z.string(), choices: z.array(z.object({ label: z.string(), question: z.string() })).readonly() }) }),
]);

const SqlBody = z.strictObject({ sql: z.string().min(1).max(MAX_SQL_LENGTH) });
const SqlReply = z.object({
  sql: z.string().describe('the SQL that ran, with its row limit'),
  columns: z.array(z.object({ name: z.string(), sqlType: z.string() })).readonly(),
  rows: z.array(z.array(Cell).readonly()).readonly(),
  truncated: z.boolean(),
  elapsedMs: z.number(),
});

const TenantQuery = z.object({ tenant: z.string().optional().describe('operator tokens: the tenant to act on') });

/** Asking's errors as HTTP answers: the query's problems as fields, the guard's reason, the time limit. */
function apiErrorOf(e: unknown): unknown {
  if (e instanceof QueryError) {
    return new ApiError(400, 'InvalidQuery', e.message, e.problems.map((p) => ({ in: 'body', path: `/query/${p.part.replace(/\[(\d+)\]/g, '/$1').replace(/\./g, '/')}`, message: p.message })));
  }
  if (e instanceof GuardError) return new ApiError(400, 'RefusedSql', e.reason);
  if (e instanceof AskTimeoutError) return new ApiError(503, 'QueryTimeout', e.reason);
  return e;
}

export function registerAskRoutes(app: FastifyInstance, deps: AskRouteDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const limits = deps.limits ?? DEFAULT_LIMITS;

  r.post('/v1/ask', {
    config: { permission: 'read' },
    schema: {
      tags: ['ask'], summary: 'Answer a plain-language question or a typed query, with the query shown',
      querystring: TenantQuery, body: AskBody, response: { 200: AskReply, 400: ErrorBody, 422: ErrorBody, 503: ErrorBody },
    },
  }, async (req) => {
    try {
      if (req.body.question !== undefined) {
        if (!deps.question) throw new ApiError(422, 'QuestionsUnavailable', 'plain-language questions are not available on this server; send a typed query as `query`');
        const out = await deps.question(req.body.question, requestTenant(req, deps.defaultTenant));
        if (out.kind === 'error') throw new ApiError(422, 'NotUnderstood', out.error);
        if (out.kind === 'askBack') return { kind: 'askBack' as const, askBack: out.askBack };
        return { kind: 'answer' as const, by: out.by, notes: out.notes, answer: out.answer };
      }
      const answer = await askQuery(deps.executor, req.body.query, { tenant: requestTenantFilter(req), clock: deps.clock, limits });
      return { kind: 'answer' as const, by: 'query' as const, notes: [], answer };
    } catch (e) {
      throw apiErrorOf(e);
    }
  });

  r.post('/v1/ask/sql', {
    config: { permission: 'admin' },
    schema: {
      tags: ['ask'], summary: 'Run a guarded read-only SELECT over the allow-listed tables (admin)',
      querystring: TenantQuery, body: SqlBody, response: { 200: SqlReply, 400: ErrorBody, 503: ErrorBody },
    },
  }, async (req) => {
    const tenant = requestTenantFilter(req);
    const who = principalOf(req);
    let outcome = 'ok';
    try {
      return await askSql(deps.executor, req.body.sql, { tenant, limits });
    } catch (e) {
      outcome = e instanceof GuardError ? `refused: ${e.reason}` : e instanceof AskTimeoutError ? 'timed out' : 'failed';
      throw apiErrorOf(e);
    } finally {
      await deps.audit.append([{ principal: who, tenant: tenant ?? '*', action: 'ask.sql', targetType: 'sql', targetId: '-', details: { sql: req.body.sql, outcome } }]);
    }
  });
}
