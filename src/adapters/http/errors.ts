/** One error handler: tagged errors map to HTTP statuses; nothing leaks a stack trace. */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { VigilError } from '../../core/errors.js';
import { ApiError, sendApiError } from './api.js';

const STATUS: Record<string, number> = {
  ConfigError: 400,
  DecodeError: 400,
  NotFoundError: 404,
  BackpressureError: 503,
  StoreError: 500,
};

export function errorHandler(this: unknown, error: FastifyError | Error, req: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof ApiError) {
    sendApiError(error, reply);
    return;
  }
  if (error instanceof VigilError) {
    const status = STATUS[error._tag] ?? 500;
    if (error._tag === 'BackpressureError') {
      reply.header('retry-after', Math.max(1, Math.ceil((error as { retryAfterMs?: number }).retryAfterMs! / 1000)));
    }
    if (status >= 500) req.log.error({ err: error }, 'request failed');
    void reply.status(status).send({ error: error._tag, message: status >= 500 && error._tag !== 'BackpressureError' ? 'internal error' : error.reason });
    return;
  }
  const fe = error as FastifyError;
  if (fe.validation) {
    const where = fe.validationContext ?? 'body';
    void reply.status(400).send({
      error: 'ValidationError',
      message: `invalid ${where}: ${fe.validation.map((v) => `${v.instancePath || '/'} ${v.message ?? ''}`.trim()).join('; ')}`,
      fields: fe.validation.map((v) => ({ in: where, path: v.instancePath, message: v.message ?? 'invalid' })),
    });
    return;
  }
  if (fe.statusCode && fe.statusCode < 500) {
    void reply.status(fe.statusCode).send({ error: fe.code ?? 'BadRequest', message: fe.message });
    return;
  }
  req.log.error({ err: error }, 'request failed');
  void reply.status(500).send({ error: 'InternalError', message: 'internal error' });
}
