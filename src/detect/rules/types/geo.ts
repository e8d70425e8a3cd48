/**
 * The `geo` rule type over GNSS fixes (Vehicle.CurrentLocation.Latitude/Longitude): impossible
 * travel between consecutive fixes, speed derived from fixes disagreeing with the reported
 * vehicle speed (GNSS spoofing), and geofences (circles, polygons). A fix is a latitude and a
 * longitude with event times at most GEO_PAIR_MS apart; it is evaluated once, on its second half.
 */
import type { EventCtx } from '../context.js';
import { Plan, type Fire, type PlanCounters, type Port, type RuleMeta } from '../plan.js';
import { round } from './signal.js';

/** Latitude and longitude samples this close in time form one fix. */
export const GEO_PAIR_MS = 200;
const EARTH_RADIUS_M = 6_371_008.8;

export type GeoCheck =
  | { readonly kind: 'impossible-travel'; readonly maxSpeedKmh: number; readonly minDistanceM: number }
  | { readonly kind: 'speed-mismatch'; readonly toleranceKmh: number; readonly minGapMs: number; readonly maxGapMs: number; readonly speedSlot: number; readonly maxAgeMs: number }
  | {
      readonly kind: 'fence';
      readonly alert: 'inside' | 'outside';
      readonly circles: readonly { lat: number; lon: number; radiusM: number }[];
      readonly polygons: readonly (readonly (readonly [number, number])[])[];
    };

interface Fix {
  lat: number;
  lon: number;
  t: number;
}
const newFix = (): Fix => ({ lat: Number.NaN, lon: Number.NaN, t: Number.NEGATIVE_INFINITY });

export class GeoPlan extends Plan {
  constructor(
    meta: RuleMeta,
    /** Port 0: latitude, port 1: longitude. */
    ports: Port[],
    counters: PlanCounters,
    private readonly latSlot: number,
    private readonly lonSlot: number,
    private readonly check: GeoCheck,
  ) {
    super(meta, ports, undefined, counters);
  }

  on(port: number, c: EventCtx, fire: Fire): void {
    const v = c.vehicle!;
    const otherSlot = port === 0 ? this.lonSlot : this.latSlot;
    const ot = v.time(otherSlot);
    if (!(Math.abs(c.time - ot) <= GEO_PAIR_MS)) return;
    const t = Math.max(c.time, ot);
    const lat = port === 0 ? c.value : v.value(this.latSlot);
    const lon = port === 1 ? c.value : v.value(this.lonSlot);
    const prev = this.state(c, newFix)!;
    if (t <= prev.t) return;
    const had = !Number.isNaN(prev.lat);
    const from = { lat: prev.lat, lon: prev.lon, t: prev.t };
    prev.lat = lat;
    prev.lon = lon;
    prev.t = t;
    const k = this.check;
    if (k.kind === 'fence') {
      const inside = k.circles.some((z) => distanceM(lat, lon, z.lat, z.lon) <= z.radiusM) || k.polygons.some((p) => inPolygon(lat, lon, p));
      if (inside === (k.alert === 'inside')) fire(this, c, { lat, lon, fence: k.alert === 'inside' ? 'entered a forbidden area' : 'left the allowed area' }, t);
      return;
    }
    if (!had) return;
    const dt = t - from.t;
    const d = distanceM(from.lat, from.lon, lat, lon);
    const kmh = d / 1000 / (dt / 3_600_000);
    if (k.kind === 'impossible-travel') {
      if (d >= k.minDistanceM && kmh > k.maxSpeedKmh) fire(this, c, { from: [from.lat, from.lon], to: [lat, lon], distanceM: Math.round(d), seconds: dt / 1000, speedKmh: Math.round(kmh), maxSpeedKmh: k.maxSpeedKmh }, t);
      return;
    }
    if (dt < k.minGapMs || dt > k.maxGapMs) return;
    const st = v.time(k.speedSlot);
    if (!(Math.abs(t - st) <= k.maxAgeMs)) return;
    const reported = v.value(k.speedSlot);
    if (Math.abs(kmh - reported) > k.toleranceKmh) fire(this, c, { gnssSpeedKmh: round(kmh), reportedSpeedKmh: reported, toleranceKmh: k.toleranceKmh, seconds: dt / 1000 }, t);
  }
}

/** Great-circle distance (haversine), metres. */
export function distanceM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const r = Math.PI / 180;
  const dLat = (lat2 - lat1) * r;
  const dLon = (lon2 - lon1) * r;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Ray casting on [lat, lon] vertices; fine for fences far smaller than a hemisphere. */
function inPolygon(lat: number, lon: number, poly: readonly (readonly [number, number])[]): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [yi, xi] = poly[i]!;
    const [yj, xj] = poly[j]!;
    if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
