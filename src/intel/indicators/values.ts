/**
 * Canonical forms of the values indicators and records are compared in: IP addresses as
 * numbers (IPv4) or 32 hex digits (IPv6), CIDR blocks, host names, URLs, e-mail and MAC
 * addresses, file hashes. Both sides go through the same function, so a comparison is a
 * string or number equality. Every parser returns undefined for text that is not one.
 */
import { domainToASCII } from 'node:url';
import ipaddr from 'ipaddr.js';

/** Dotted-quad IPv4 to an unsigned 32-bit number, without allocating; undefined when it is not one. */
export function parseIpv4(s: string): number | undefined {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return undefined; // a leading zero: octal in some parsers, refused
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return undefined;
    } else if (c === 46) {
      if (digits === 0 || ++dots > 3) return undefined;
      n = n * 256 + part;
      part = 0;
      digits = 0;
    } else return undefined;
  }
  if (dots !== 3 || digits === 0) return undefined;
  return n * 256 + part;
}

/** An IPv6 address as 32 lower-case hex digits (an IPv4-mapped address stays IPv6); undefined when it is not one. */
export function parseIpv6(s: string): string | undefined {
  const bare = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
  const zone = bare.indexOf('%');
  const text = zone >= 0 ? bare.slice(0, zone) : bare;
  if (!text.includes(':') || !ipaddr.IPv6.isValid(text)) return undefined;
  return ipaddr.IPv6.parse(text).parts.map((p) => p.toString(16).padStart(4, '0')).join('');
}

/** The first `bits` bits of a 32-hex-digit IPv6 value (the rest zero), as the key of that prefix. */
export function maskIpv6(hex: string, bits: number): string {
  const full = bits >> 2;
  const rest = bits & 3;
  let out = hex.slice(0, full);
  if (rest) out += ((parseInt(hex[full]!, 16) >> (4 - rest)) << (4 - rest)).toString(16);
  return out;
}

/** `x` with the host bits of a /`bits` prefix cleared (unsigned). */
export const maskIpv4 = (x: number, bits: number): number => (bits === 0 ? 0 : bits === 32 ? x : Math.floor(x / 2 ** (32 - bits)) * 2 ** (32 - bits));

export type IpBlock = { v: 4; base: number; bits: number } | { v: 6; base: string; bits: number };

/**
 * An address or CIDR block as STIX writes it (`198.51.100.7`, `198.51.100.0/24`,
 * `2001:db8::/32`). A block whose host bits are set (`198.51.100.7/24`) is read as its
 * network, as routers do.
 */
export function parseIpBlock(s: string, family: 4 | 6): IpBlock | { problem: string } {
  const slash = s.indexOf('/');
  const addr = slash >= 0 ? s.slice(0, slash) : s;
  const max = family === 4 ? 32 : 128;
  const bits = slash >= 0 ? Number(s.slice(slash + 1)) : max;
  if (!Number.isInteger(bits) || bits < 0 || bits > max || (slash >= 0 && !/^\d{1,3}$/.test(s.slice(slash + 1)))) return { problem: `'${s}': prefix length must be 0..${max}` };
  if (family === 4) {
    const x = parseIpv4(addr);
    return x === undefined ? { problem: `'${s}' is not an IPv4 address or block` } : { v: 4, base: maskIpv4(x, bits), bits };
  }
  const x = parseIpv6(addr);
  return x === undefined ? { problem: `'${s}' is not an IPv6 address or block` } : { v: 6, base: maskIpv6(x, bits), bits };
}

const HOST_LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/**
 * A host name in canonical form: lower case, IDN labels in punycode (`xn--`), no trailing dot,
 * no port. Undefined for text that is not a host name (spaces, empty labels, an IP literal).
 */
export function canonicalHost(s: string): string | undefined {
  let h = s.trim();
  if (!h || h.length > 260) return undefined;
  const colon = h.lastIndexOf(':');
  if (colon > 0 && h.indexOf(':') === colon && /^\d{1,5}$/.test(h.slice(colon + 1))) h = h.slice(0, colon);
  if (h.endsWith('.')) h = h.slice(0, -1);
  let lower = h.toLowerCase();
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(lower)) {
    lower = domainToASCII(lower);
    if (!lower) return undefined;
  }
  const labels = lower.split('.');
  if (labels.length < 1 || lower.length > 253 || !labels.every((l) => HOST_LABEL.test(l))) return undefined;
  if (parseIpv4(lower) !== undefined) return undefined;
  return lower;
}

/**
 * A URL in canonical form, for equality: scheme and host lower-cased (IDN to punycode),
 * default port dropped, dot segments resolved, percent-encoding of unreserved characters
 * decoded, an empty path as `/`, the fragment dropped; query kept as written. Undefined for
 * text that is not an absolute URL with a host.
 */
export function canonicalUrl(s: string): { url: string; host: string } | undefined {
  let u: URL;
  try {
    u = new URL(s.trim());
  } catch {
    return undefined;
  }
  if (!u.hostname) return undefined;
  u.hash = '';
  const path = u.pathname.replace(/%([0-9A-Fa-f]{2})/g, (m, h: string) => {
    const c = String.fromCharCode(parseInt(h, 16));
    return /[A-Za-z0-9\-._~]/.test(c) ? c : m.toUpperCase();
  });
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  return { url: `${u.protocol}//${u.username ? `${u.username}${u.password ? `:${u.password}` : ''}@` : ''}${u.host}${path}${u.search}`, host };
}

export const canonicalEmail = (s: string): string | undefined => {
  const t = s.trim().toLowerCase();
  return /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(t) ? t : undefined;
};

/** A MAC address as 12 lower-case hex digits (separators `:`, `-`, `.` or none). */
export function canonicalMac(s: string): string | undefined {
  const hex = s.trim().toLowerCase().replace(/[:.-]/g, '');
  return /^[0-9a-f]{12}$/.test(hex) ? hex : undefined;
}

/** Hash algorithms matched, by the names STIX and tools use, and the hex length of each. */
const HASH_ALGORITHMS: Readonly<Record<string, { name: string; hexLength: number }>> = {
  MD5: { name: 'MD5', hexLength: 32 },
  'SHA-1': { name: 'SHA-1', hexLength: 40 },
  SHA1: { name: 'SHA-1', hexLength: 40 },
  'SHA-256': { name: 'SHA-256', hexLength: 64 },
  SHA256: { name: 'SHA-256', hexLength: 64 },
  'SHA-512': { name: 'SHA-512', hexLength: 128 },
  SHA512: { name: 'SHA-512', hexLength: 128 },
};

/** The canonical name of a hash algorithm (`SHA-256`), or undefined when not supported. */
export const hashAlgorithm = (name: string): string | undefined => HASH_ALGORITHMS[name.toUpperCase().replace(/_/g, '-')]?.name;

/** A hash as `ALGORITHM:hex` (hex lower-cased); undefined when the value is not hex of the algorithm's length. */
export function canonicalHash(algorithm: string, value: string): string | undefined {
  const a = HASH_ALGORITHMS[algorithm.toUpperCase().replace(/_/g, '-')];
  const hex = value.trim().toLowerCase();
  return a && hex.length === a.hexLength && /^[0-9a-f]+$/.test(hex) ? `${a.name}:${hex}` : undefined;
}

/** The algorithm a bare hex digest's length implies (32 MD5, 40 SHA-1, 64 SHA-256, 128 SHA-512). */
export function hashByLength(value: string): string | undefined {
  const hex = value.trim().toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex)) return undefined;
  const name = hex.length === 32 ? 'MD5' : hex.length === 40 ? 'SHA-1' : hex.length === 64 ? 'SHA-256' : hex.length === 128 ? 'SHA-512' : undefined;
  return name ? `${name}:${hex}` : undefined;
}

/**
 * A STIX LIKE pattern (`%` any run, `_` one character, SQL style) as an anchored,
 * case-insensitive regular expression.
 */
export function likeToRegExp(pattern: string): RegExp {
  let src = '';
  for (const c of pattern) src += c === '%' ? '.*' : c === '_' ? '.' : c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(`^${src}$`, 'is');
}
