/**
 * Normalization of security events and back-end log events: VINs pseudonymized, event ids
 * resolved through the security extract, record ids assigned for idempotent writes.
 */
import { createHash } from 'node:crypto';
import type { ApiEvent, SecurityEvent } from '../core/records.js';
import type { LogMessage, SecurityMessage } from '../decode/json.js';
import { reject, type Reject } from '../decode/reject.js';
import type { NormalizePolicy } from './policy.js';
import type { Pseudonymizer } from './pseudonym.js';
import { securityContext } from './security-context.js';
import { unknownEventName, type SecurityEventDef } from './security-extract.js';
import { isValidVin } from './vin.js';

export type Normalized<T> = { ok: true; value: T } | { ok: false; reject: Reject };

/** A record id: the sender's sequence when it has one, else a hash of the content. */
export function recordId(source: string, vehicle: string | undefined, seq: number | undefined, raw: string | Uint8Array): string {
  if (seq !== undefined) return `${source}:${vehicle ?? '-'}:${seq}`;
  return `${source}:h:${createHash('sha256').update(raw).digest('hex').slice(0, 24)}`;
}

export function normalizeSecurity(
  msg: SecurityMessage,
  raw: string | Uint8Array,
  ctx: { tenant: string; source: string; now: number },
  pseudonyms: Pseudonymizer,
  policy: NormalizePolicy,
  extract: ReadonlyMap<number, SecurityEventDef>,
): Normalized<SecurityEvent> {
  if (!isValidVin(msg.vin, { checkDigit: policy.vinCheckDigit })) {
    return { ok: false, reject: reject('vin.invalid', `invalid VIN ${JSON.stringify(msg.vin.slice(0, 40))}`) };
  }
  if (msg.ts > ctx.now + policy.maxFutureSkewMs) {
    return { ok: false, reject: reject('time.future', `event time ${msg.ts} is ahead of the clock (${ctx.now})`) };
  }
  const vehicle = pseudonyms.key(ctx.tenant, msg.vin);
  const def = extract.get(msg.eventId);
  const context = securityContext(msg, def);
  return {
    ok: true,
    value: {
      id: recordId(ctx.source, vehicle, msg.seq, raw),
      tenant: ctx.tenant,
      vehicle,
      time: msg.ts,
      eventId: msg.eventId,
      name: def?.name ?? unknownEventName(msg.eventId),
      sensor: msg.sensor,
      count: msg.count,
      severity: def?.severity ?? 'medium',
      ...(context ? { context } : {}),
      ...(def?.tags?.length ? { tags: def.tags } : {}),
      source: ctx.source,
    },
  };
}

export function normalizeLog(
  msg: LogMessage,
  raw: string | Uint8Array,
  ctx: { tenant: string; source: string; now: number },
  pseudonyms: Pseudonymizer,
  policy: NormalizePolicy,
): Normalized<ApiEvent> {
  const vinOk = msg.vin === undefined || isValidVin(msg.vin, { checkDigit: policy.vinCheckDigit });
  // A VIN the sender states must be valid; one a decoder found in a URL or payload may be an
  // attacker's guess: the event is kept, unlinked and marked (see LogMessage.vinFrom).
  if (!vinOk && msg.vinFrom === undefined) {
    return { ok: false, reject: reject('vin.invalid', `invalid VIN ${JSON.stringify(msg.vin!.slice(0, 40))}`) };
  }
  if (msg.ts > ctx.now + policy.maxFutureSkewMs) {
    return { ok: false, reject: reject('time.future', `event time ${msg.ts} is ahead of the clock (${ctx.now})`) };
  }
  const vehicle = msg.vin === undefined || !vinOk ? undefined : pseudonyms.key(ctx.tenant, msg.vin);
  const e: { -readonly [K in keyof ApiEvent]: ApiEvent[K] } = {
    id: recordId(ctx.source, vehicle, msg.seq, raw),
    tenant: ctx.tenant,
    time: msg.ts,
    service: msg.service,
    endpoint: msg.endpoint,
    source: ctx.source,
  };
  if (vehicle !== undefined) e.vehicle = vehicle;
  if (msg.actor !== undefined) e.actor = msg.actor;
  if (msg.method !== undefined) e.method = msg.method;
  if (msg.status !== undefined) e.status = msg.status;
  if (msg.ip !== undefined) e.sourceIp = msg.ip;
  if (msg.ua !== undefined) e.userAgent = msg.ua;
  if (!vinOk) e.detail = { ...msg.detail, vinInvalid: true };
  else if (msg.detail !== undefined) e.detail = msg.detail;
  return { ok: true, value: e };
}
