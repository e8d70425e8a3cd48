/**
 * Geolocation of API callers: the country (and, with a city database, the coordinates) of an
 * API event's source address, added to its `detail` as `geoCountry`, `geoLat`, `geoLon` so
 * rules can see a token used from two countries. The database is any MaxMind DB file
 * (GeoLite2 Country/City, DB-IP Lite, ip-location-db); the composition root reads it and the
 * lanes share its bytes (a SharedArrayBuffer), so this file does no I/O.
 *
 * Private, loopback, link-local and other non-routable addresses have no location.
 */
import { Reader, type Response } from 'mmdb-lib';
import type { ApiEvent } from '../core/records.js';

export interface GeoLocation {
  /** ISO 3166-1 alpha-2, upper case. */
  readonly country: string;
  readonly lat?: number;
  readonly lon?: number;
}

/** Addresses remembered per lane (a few hundred bytes each). */
export const GEOIP_CACHE = 50_000;

/** The record shapes of the common databases: MaxMind/DB-IP (`country.iso_code`) and ip-location-db (`country_code`). */
interface MmdbRecord {
  readonly country?: { readonly iso_code?: string };
  readonly registered_country?: { readonly iso_code?: string };
  readonly country_code?: string;
  readonly location?: { readonly latitude?: number; readonly longitude?: number };
  readonly latitude?: number;
  readonly longitude?: number;
}

export class GeoIp {
  private readonly reader: Reader<Response>;
  private readonly cache = new Map<string, GeoLocation | null>();

  /** `database`: the bytes of a MaxMind DB file. Throws when they are not one. */
  constructor(database: Uint8Array) {
    const bytes = Buffer.from(database.buffer, database.byteOffset, database.byteLength);
    this.reader = new Reader<Response>(bytes);
  }

  /** The database's type and build time, for status pages. */
  get description(): { type: string; builtAt: number } {
    const m = this.reader.metadata;
    return { type: m.databaseType, builtAt: m.buildEpoch.getTime() };
  }

  lookup(ip: string): GeoLocation | undefined {
    const cached = this.cache.get(ip);
    if (cached !== undefined) return cached ?? undefined;
    let found: GeoLocation | undefined;
    try {
      found = routable(ip) ? locate(this.reader.get(ip) as MmdbRecord | null) : undefined;
    } catch {
      found = undefined; // not an address the reader can parse
    }
    if (this.cache.size >= GEOIP_CACHE) this.cache.clear();
    this.cache.set(ip, found ?? null);
    return found;
  }

  /** The event with `detail.geoCountry` (and `geoLat`/`geoLon` when known) when its source address has a location. */
  enrich(ev: ApiEvent): ApiEvent {
    if (!ev.sourceIp) return ev;
    const g = this.lookup(ev.sourceIp);
    if (!g) return ev;
    return { ...ev, detail: { ...ev.detail, geoCountry: g.country, ...(g.lat !== undefined && g.lon !== undefined ? { geoLat: g.lat, geoLon: g.lon } : {}) } };
  }
}

function locate(r: MmdbRecord | null): GeoLocation | undefined {
  if (!r) return undefined;
  const country = r.country?.iso_code ?? r.country_code ?? r.registered_country?.iso_code;
  if (typeof country !== 'string' || !/^[A-Za-z]{2}$/.test(country)) return undefined;
  const lat = r.location?.latitude ?? r.latitude;
  const lon = r.location?.longitude ?? r.longitude;
  return { country: country.toUpperCase(), ...(typeof lat === 'number' && typeof lon === 'number' ? { lat, lon } : {}) };
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6_CHARS = /^[0-9A-Fa-f:.]{2,45}$/;

/** False for addresses that locate nowhere: private, loopback, link-local, CGNAT, multicast, documentation, unique-local. */
export function routable(ip: string): boolean {
  const v = IPV4.test(ip) ? 4 : ip.includes(':') && IPV6_CHARS.test(ip) ? 6 : 0;
  if (v === 4) {
    const [a, b] = ip.split('.').map(Number) as [number, number];
    if (a === 10 || a === 127 || a === 0 || a >= 224) return false;
    if (a === 172 && b >= 16 && b <= 31) return false;
    if (a === 192 && b === 168) return false;
    if (a === 169 && b === 254) return false;
    if (a === 100 && b >= 64 && b <= 127) return false;
    if (ip.startsWith('192.0.2.') || ip.startsWith('198.51.100.') || ip.startsWith('203.0.113.')) return false;
    return true;
  }
  if (v === 6) {
    const lower = ip.toLowerCase();
    if (lower === '::1' || lower === '::') return false;
    if (/^f[cd]/.test(lower) || /^fe[89ab]/.test(lower) || lower.startsWith('ff') || lower.startsWith('2001:db8')) return false;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    return mapped ? routable(mapped[1]!) : true;
  }
  return false;
}
