/**
 * Who is calling, for a client (the web console) that holds only a token:
 *
 *   GET /v1/session?tenant=   the token's name, role and tenant, the tenant the request acts
 *                             on, and whether the token is an operator's (may switch tenant)
 *
 * Permission `read`; a tenant token naming another tenant is refused with 403 as everywhere.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { OPERATOR_TENANT, ROLES } from '../../core/access.js';
import { ErrorBody, principalOf, requestTenant } from './api.js';

export function registerSessionRoute(server: FastifyInstance, deps: { readonly defaultTenant: string }): void {
  server.withTypeProvider<ZodTypeProvider>().get('/v1/session', {
    config: { permission: 'read' },
    schema: {
      tags: ['access'], summary: 'The calling token: name, role, tenant, and the tenant this request acts on',
      querystring: z.object({ tenant: z.string().optional().describe('operator tokens: the tenant to act on') }),
      response: {
        200: z.object({
          tokenId: z.string(), name: z.string(), role: z.enum(ROLES), tokenTenant: z.string(),
          actingTenant: z.string(), operator: z.boolean().describe('an operator token (tenant *) may act on any tenant'), defaultTenant: z.string(),
        }),
        400: ErrorBody, 403: ErrorBody,
      },
    },
  }, async (req) => {
    const p = principalOf(req);
    const operator = p.tenant === OPERATOR_TENANT;
    return {
      tokenId: p.tokenId, name: p.name, role: p.role, tokenTenant: p.tenant,
      actingTenant: requestTenant(req, deps.defaultTenant), operator, defaultTenant: operator ? deps.defaultTenant : p.tenant,
    };
  });
}
