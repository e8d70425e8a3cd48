/**
 * What a record shows that indicators can name: the facts of an API/log event (back ends)
 * or of an in-vehicle security event (connection events), by field.
 *
 * | record | field | fact |
 * |---|---|---|
 * | API event | `sourceIp` | ip (the caller) |
 * | API event | `actor` | email, when it is an e-mail address |
 * | API event | `service` | domain, when it is a host name (access logs take it from `host` / `server_name` / `:authority`) |
 * | API event | `detail.<key>` | by key, below |
 * | security event | `context.<key>` | by key, below |
 *
 * Keys of `detail` / `context` (case-insensitive, the value a string): an IP literal under any
 * address or host key is an ip fact; `host`, `domain`, `hostname`, `sni`, `serverName`,
 * `remoteHost`, `destination`, `server` hold a host name (a port is dropped); `url`, `uri`,
 * `referer`, `referrer`, `requestUrl`, `downloadUrl`, `location` an absolute URL, which also
 * gives its host as a domain (or ip) fact; `ip`, `remoteIp`, `remoteAddress`, `clientIp`,
 * `destIp`, `dstIp`, `peerIp`, `srcIp` an address; `email`, `from`, `to`, `sender` an e-mail
 * address; `mac`, `address`, `bdAddr`, `btAddress` a MAC address; `md5`, `sha1`, `sha256`,
 * `sha512` a hash of that algorithm, and `hash`, `fileHash`, `imageHash`, `digest` one
 * whose algorithm its length gives.
 */
import type { ApiEvent, SecurityEvent } from '../../core/records.js';
import type { Fact } from './compile.js';
import { canonicalHost, canonicalUrl, hashByLength, parseIpv4, parseIpv6 } from './values.js';

type Role = 'host' | 'url' | 'ip' | 'email' | 'mac' | 'hash' | 'MD5' | 'SHA-1' | 'SHA-256' | 'SHA-512';

const ROLES: ReadonlyMap<string, Role> = new Map<string, Role>([
  ...['host', 'domain', 'hostname', 'sni', 'servername', 'remotehost', 'destination', 'server'].map((k) => [k, 'host'] as const),
  ...['url', 'uri', 'referer', 'referrer', 'requesturl', 'downloadurl', 'location'].map((k) => [k, 'url'] as const),
  ...['ip', 'remoteip', 'remoteaddress', 'remoteaddr', 'clientip', 'destip', 'dstip', 'peerip', 'srcip'].map((k) => [k, 'ip'] as const),
  ...['email', 'from', 'to', 'sender'].map((k) => [k, 'email'] as const),
  ...['mac', 'address', 'bdaddr', 'btaddress'].map((k) => [k, 'mac'] as const),
  ...['hash', 'filehash', 'imagehash', 'digest'].map((k) => [k, 'hash'] as const),
  ['md5', 'MD5'], ['sha1', 'SHA-1'], ['sha256', 'SHA-256'], ['sha512', 'SHA-512'],
]);

const isIp = (s: string): boolean => parseIpv4(s) !== undefined || parseIpv6(s) !== undefined;

/** A host (or `host:port`, `[v6]:port`) as an ip or domain fact. */
function hostFact(field: string, value: string, out: Fact[]): void {
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(value);
  const bare = v6 ? v6[1]! : /^[^:]+:\d{1,5}$/.test(value) ? value.slice(0, value.lastIndexOf(':')) : value;
  if (isIp(bare)) out.push({ kind: 'ip', field, value: bare });
  else if (canonicalHost(bare) !== undefined) out.push({ kind: 'domain', field, value: bare });
}

/** Facts of one `detail` / `context` entry. */
function entryFacts(prefix: string, key: string, value: unknown, out: Fact[]): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) return;
  const role = ROLES.get(key.toLowerCase());
  if (!role) return;
  const field = `${prefix}.${key}`;
  switch (role) {
    case 'host':
    case 'ip':
      hostFact(field, value, out);
      return;
    case 'url': {
      const u = canonicalUrl(value);
      if (!u) return;
      out.push({ kind: 'url', field, value });
      hostFact(`${field}#host`, u.host, out);
      return;
    }
    case 'email':
      if (value.includes('@')) out.push({ kind: 'email', field, value });
      return;
    case 'mac':
      if (isIp(value)) out.push({ kind: 'ip', field, value });
      else out.push({ kind: 'mac', field, value });
      return;
    case 'hash': {
      const h = hashByLength(value);
      if (h) out.push({ kind: 'hash', field, value: h });
      return;
    }
    default:
      out.push({ kind: 'hash', field, value: `${role}:${value}` });
  }
}

function objectFacts(prefix: string, o: Readonly<Record<string, unknown>> | undefined, out: Fact[]): void {
  if (!o) return;
  for (const k in o) entryFacts(prefix, k, o[k], out);
}

/** The facts of a back-end API / log event. */
export function apiEventFacts(e: ApiEvent): Fact[] {
  const out: Fact[] = [];
  if (e.sourceIp) out.push({ kind: 'ip', field: 'sourceIp', value: e.sourceIp });
  if (e.actor?.includes('@')) out.push({ kind: 'email', field: 'actor', value: e.actor });
  if (e.service.includes('.') && canonicalHost(e.service) !== undefined) out.push({ kind: 'domain', field: 'service', value: e.service });
  objectFacts('detail', e.detail, out);
  return out;
}

/** The facts of an in-vehicle security event (connection events name their remote end in `context`). */
export function securityEventFacts(e: SecurityEvent): Fact[] {
  const out: Fact[] = [];
  objectFacts('context', e.context, out);
  return out;
}
