/**
 * The MQTT topic scheme: `vigil/<tenant>/<vehicle>/<kind>[.<encoding>]`, kind one of
 * signals | security | log, encoding json (default) or msgpack. An MQTT 5 content type
 * may name the encoding instead of the suffix. Pure: a topic in, a route or a reason out.
 */
import type { RecordKind } from '../../core/records.js';
import { encodingOfMediaType, ENCODINGS, type Encoding } from '../../decode/payload.js';
import { reject, type Reject } from '../../decode/reject.js';

export interface MqttRoute {
  readonly tenant: string;
  /** The topic's vehicle level (a VIN, or `_` for a record about no vehicle); the payload's `vin` is authoritative. */
  readonly vehicle: string;
  readonly kind: RecordKind;
  readonly encoding: Encoding;
}

export type TopicResult = { ok: true; route: MqttRoute } | { ok: false; reject: Reject; kind?: RecordKind };

/** The default subscription: every Vigil topic. */
export const DEFAULT_TOPIC_FILTER = 'vigil/+/+/+';

const TENANT = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const VEHICLE = /^[A-Za-z0-9_-]{1,64}$/;
const KINDS: ReadonlySet<string> = new Set<RecordKind>(['signals', 'security', 'log']);

const invalid = (topic: string, why: string, kind?: RecordKind): TopicResult => ({
  ok: false,
  reject: reject('topic.invalid', `topic ${JSON.stringify(topic.slice(0, 200))}: ${why}`),
  ...(kind ? { kind } : {}),
});

/**
 * Route a topic. `tenants` (when given) lists the tenants this source accepts; `contentType`
 * is the MQTT 5 content type, if the message had one.
 */
export function parseTopic(topic: string, tenants: ReadonlySet<string> | undefined, contentType?: string): TopicResult {
  const parts = topic.split('/');
  if (parts.length !== 4 || parts[0] !== 'vigil') return invalid(topic, 'expected vigil/<tenant>/<vehicle>/<kind>');
  const [, tenant, vehicle, last] = parts as [string, string, string, string];
  const dot = last.indexOf('.');
  const kind = dot < 0 ? last : last.slice(0, dot);
  if (!KINDS.has(kind)) return invalid(topic, `unknown kind ${JSON.stringify(kind.slice(0, 40))} (signals, security or log)`);
  const k = kind as RecordKind;
  if (!TENANT.test(tenant)) return invalid(topic, 'the tenant must be lowercase letters, digits, - and _ (max 63)', k);
  if (tenants && !tenants.has(tenant)) return invalid(topic, `tenant ${JSON.stringify(tenant)} is not accepted by this source`, k);
  if (!VEHICLE.test(vehicle)) return invalid(topic, 'the vehicle must be 1-64 letters, digits, - and _', k);

  let suffix: Encoding | undefined;
  if (dot >= 0) {
    const name = last.slice(dot + 1);
    if (!(ENCODINGS as readonly string[]).includes(name)) return invalid(topic, `unknown encoding suffix ${JSON.stringify(name.slice(0, 40))} (${ENCODINGS.join(', ')})`, k);
    suffix = name as Encoding;
  }
  let named: Encoding | undefined;
  if (contentType !== undefined) {
    named = encodingOfMediaType(contentType);
    if (!named) return { ok: false, kind: k, reject: reject('encoding.unsupported', `content type ${JSON.stringify(contentType.slice(0, 100))} names no supported encoding`) };
    if (suffix && named !== suffix) {
      return { ok: false, kind: k, reject: reject('encoding.conflict', `topic suffix .${suffix} and content type ${JSON.stringify(contentType.slice(0, 100))} disagree`) };
    }
  }
  return { ok: true, route: { tenant, vehicle, kind: k, encoding: suffix ?? named ?? 'json' } };
}
