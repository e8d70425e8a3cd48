/**
 * NATS subjects: `<prefix>.<tenant>.<vehicle>.<kind>` (prefix `vigil` by default, one or more
 * tokens), kind `signals`, `security` or `log`. The tenant comes from the subject, never from
 * the payload; the vehicle token lets NATS permissions scope a publisher to its own
 * subjects, while the payload's `vin` identifies the vehicle to Vigil.
 */
import type { RecordKind } from '../../core/records.js';

export const SUBJECT_KINDS: readonly RecordKind[] = ['signals', 'security', 'log'];

const TENANT = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const VEHICLE = /^[A-Za-z0-9_-]{1,64}$/;
/** Longest subject quoted in a dead letter's reason. */
const QUOTE_CHARS = 200;

export type ParsedSubject =
  | { readonly ok: true; readonly tenant: string; readonly vehicle: string; readonly kind: RecordKind }
  /** `kind` and `tenant` are whatever could still be read, for filing the dead letter. */
  | { readonly ok: false; readonly reason: string; readonly kind: RecordKind | 'unknown'; readonly tenant?: string };

/**
 * Read a subject. `tenants`, when given, is the set of tenants a subject may name. Every
 * refusal says which token is wrong.
 */
export function parseSubject(subject: string, prefix: string, tenants?: ReadonlySet<string>): ParsedSubject {
  const quoted = JSON.stringify(subject.length > QUOTE_CHARS ? `${subject.slice(0, QUOTE_CHARS)}...` : subject);
  const expected = `${prefix}.<tenant>.<vehicle>.<kind>`;
  if (!subject.startsWith(`${prefix}.`)) return { ok: false, kind: 'unknown', reason: `subject ${quoted} is not ${expected}` };
  const rest = subject.slice(prefix.length + 1).split('.');
  const kindToken = rest[rest.length - 1]!;
  const kind = (SUBJECT_KINDS as readonly string[]).includes(kindToken) ? (kindToken as RecordKind) : 'unknown';
  const tenantToken = rest[0]!;
  const tenant = TENANT.test(tenantToken) && (!tenants || tenants.has(tenantToken)) ? tenantToken : undefined;
  const fail = (why: string): ParsedSubject => ({ ok: false, kind, ...(tenant ? { tenant } : {}), reason: `subject ${quoted}: ${why} (expected ${expected})` });
  if (rest.length !== 3) return fail(`${rest.length} tokens after the prefix, not 3`);
  if (!TENANT.test(tenantToken)) return fail('the tenant must be lowercase letters, digits, - and _ (max 63)');
  if (!tenant) return fail(`tenant ${JSON.stringify(tenantToken)} is not accepted by this source`);
  if (!VEHICLE.test(rest[1]!)) return fail('the vehicle must be 1-64 letters, digits, - or _');
  if (kind === 'unknown') return fail(`kind ${JSON.stringify(kindToken.slice(0, 40))} is not one of ${SUBJECT_KINDS.join(', ')}`);
  return { ok: true, tenant, vehicle: rest[1]!, kind };
}
