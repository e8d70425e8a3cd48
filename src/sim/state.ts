/**
 * Per-vehicle dynamic state as a struct of typed arrays: about 120 bytes a vehicle, no
 * object per vehicle, so a million vehicles fit in ~125 MB outside the JS heap.
 */
import type { Fleet } from './fleet.js';
import { MODELS, REGIONS, canPlugIn, hasBattery, hasEngine } from './models.js';
import { Mulberry32, hash32 } from './prng.js';

export const PARKED = 0;
export const DRIVING = 1;
export const CHARGING = 2;

/** Bits of `occupants`: which doors the current trip uses, and habits of its driver. */
export const OCC = {
  row1Passenger: 1,
  row2Driver: 2,
  row2Passenger: 4,
  trunk: 8,
  /** The driver unlocks with the app at departure (a benign remote unlock). */
  appUnlock: 16,
  /** The driver uses lane-keeping / adaptive cruise on fast roads. */
  adas: 32,
} as const;

export class FleetState {
  readonly mode: Uint8Array;
  readonly occupants: Uint8Array;
  readonly chargeLimit: Uint8Array;
  /** 1 when some scenario targets the vehicle (checked before any map lookup). */
  readonly attacked: Uint8Array;
  readonly modeStart: Float64Array;
  readonly modeEnd: Float64Array;
  readonly lastT: Float64Array;
  readonly nextT: Float64Array;
  readonly hbNext: Float64Array;
  readonly lat: Float64Array;
  readonly lon: Float64Array;
  readonly odo: Float64Array;
  readonly tripStartOdo: Float64Array;
  readonly speed: Float32Array;
  readonly target: Float32Array;
  readonly heading: Float32Array;
  readonly turn: Float32Array;
  readonly tripDur: Float32Array;
  readonly soc: Float32Array;
  readonly fuel: Float32Array;
  readonly thermal: Float32Array;
  readonly cabin: Float32Array;
  readonly chargeKW: Float32Array;
  readonly seq: Uint32Array;
  readonly rng: Uint32Array;

  constructor(fleet: Fleet, start: number, intervalMs: number, heartbeatMs: number) {
    const n = fleet.size;
    this.mode = new Uint8Array(n);
    this.occupants = new Uint8Array(n);
    this.chargeLimit = new Uint8Array(n);
    this.attacked = new Uint8Array(n);
    this.modeStart = new Float64Array(n);
    this.modeEnd = new Float64Array(n);
    this.lastT = new Float64Array(n);
    this.nextT = new Float64Array(n);
    this.hbNext = new Float64Array(n);
    this.lat = new Float64Array(n);
    this.lon = new Float64Array(n);
    this.odo = new Float64Array(n);
    this.tripStartOdo = new Float64Array(n);
    this.speed = new Float32Array(n);
    this.target = new Float32Array(n);
    this.heading = new Float32Array(n);
    this.turn = new Float32Array(n);
    this.tripDur = new Float32Array(n);
    this.soc = new Float32Array(n);
    this.fuel = new Float32Array(n);
    this.thermal = new Float32Array(n);
    this.cabin = new Float32Array(n);
    this.chargeKW = new Float32Array(n);
    this.seq = new Uint32Array(n);
    this.rng = new Uint32Array(n);

    const startYear = new Date(start).getUTCFullYear();
    const r = new Mulberry32();
    for (let i = 0; i < n; i++) {
      r.s = hash32(fleet.seed, i, 0x5eed);
      const m = MODELS[fleet.model[i]!]!;
      const region = REGIONS[fleet.region[i]!]!;
      const [cLat, cLon] = region.cities[fleet.city[i]!]!;
      // Home: uniform in a 20 km disc around the city centre.
      const rad = 20_000 * Math.sqrt(r.next());
      const ang = r.next() * 2 * Math.PI;
      this.lat[i] = cLat + (rad * Math.cos(ang)) / 111_320;
      this.lon[i] = cLon + (rad * Math.sin(ang)) / (111_320 * Math.cos((cLat * Math.PI) / 180));
      this.heading[i] = r.next() * 360;
      const age = Math.max(0, startYear - fleet.year(i)) + r.next();
      this.odo[i] = Math.round((800 + age * r.range(9_000, 21_000)) * 1000 * 100) / 100;
      this.soc[i] = hasBattery(m.powertrain) ? (m.powertrain === 'HEV' ? r.range(45, 70) : r.range(25, 90)) : 0;
      this.fuel[i] = hasEngine(m.powertrain) ? r.range(20, 95) : 0;
      this.thermal[i] = region.tempC + r.range(0, 10);
      this.cabin[i] = region.tempC + r.range(2, 8);
      this.chargeLimit[i] = r.next() < 0.6 ? 80 : r.next() < 0.5 ? 90 : 100;
      this.occupants[i] = Math.floor(r.next() * 64);
      const u = r.next();
      if (u < 0.35) {
        this.mode[i] = DRIVING;
        this.modeStart[i] = start - r.range(30_000, 1_200_000);
        this.modeEnd[i] = start + r.range(60_000, 1_500_000);
        this.speed[i] = this.target[i] = r.range(20, 90);
        this.tripStartOdo[i] = this.odo[i]! - r.range(200, 15_000);
      } else if (u < 0.45 && canPlugIn(m.powertrain) && this.soc[i]! < 70) {
        this.mode[i] = CHARGING;
        this.chargeKW[i] = m.powertrain === 'PHEV' ? 3.7 : 11;
        this.modeStart[i] = start - r.range(60_000, 3_600_000);
        this.modeEnd[i] = start + r.range(300_000, 3_600_000);
        this.tripStartOdo[i] = this.odo[i]! - r.range(200, 15_000);
      } else {
        this.mode[i] = PARKED;
        this.modeStart[i] = start - r.range(60_000, 7_200_000);
        this.modeEnd[i] = start + r.range(30_000, 1_800_000);
        this.tripStartOdo[i] = this.odo[i]! - r.range(200, 15_000);
      }
      this.tripDur[i] = r.range(120, 2400);
      // Phases spread the reports over the interval; the first report covers one interval.
      this.nextT[i] = start + Math.floor(r.next() * intervalMs);
      this.lastT[i] = this.nextT[i]! - intervalMs;
      this.hbNext[i] = start + Math.floor(r.next() * heartbeatMs);
      this.rng[i] = r.s;
    }
  }

  /** Bytes held by the typed arrays. */
  get bytes(): number {
    let total = 0;
    for (const v of Object.values(this)) if (ArrayBuffer.isView(v)) total += v.byteLength;
    return total;
  }
}
