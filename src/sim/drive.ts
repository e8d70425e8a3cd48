/**
 * Vehicle dynamics: one report interval of one vehicle. Drive cycles (parked -> driving ->
 * parked or charging), speed following a target with bounded acceleration, gear and engine
 * speed from road speed, heading and position integrated from speed, odometer from
 * distance, battery and fuel from power, temperatures relaxing towards their set points.
 * Results go into a reused `Step` (no allocation per report).
 */
import type { Fleet } from './fleet.js';
import { MODELS, REGIONS, canPlugIn, type ModelDef } from './models.js';
import { hash32, type Mulberry32 } from './prng.js';
import { CHARGING, DRIVING, OCC, PARKED, type FleetState } from './state.js';

const DEG = Math.PI / 180;
const M_PER_DEG = 111_320;
/** km/h -> motor rpm for a 9:1 single-speed reduction and 0.34 m wheels. */
const EV_RPM_PER_KMH = (9.0 * 60) / (3.6 * 2 * Math.PI * 0.34);
const IDLE_RPM = 750;
const MASS_KG = 2000;

/** How a scenario constrains the drive cycle while it runs. */
export interface ModeForce {
  /** PARKED or DRIVING; -1 when nothing is forced. */
  mode: number;
  /** Until when (epoch ms) the mode is held. */
  until: number;
  /** While forced to drive: the least target speed (km/h). */
  minSpeed: number;
}

/** What one interval produced; read by the message writer. Reused for every report. */
export class Step {
  t = 0;
  dt = 0;
  mode = PARKED;
  v0 = 0;
  v1 = 0;
  accel = 0;
  yaw = 0;
  latAcc = 0;
  steer = 0;
  gear = 0;
  engineOn = false;
  rpm1 = 0;
  motorRpm1 = 0;
  motorKW = 0;
  battKW = 0;
  instCons = 0;
  charging = false;
  extT = 0;
  humidity = 0;
  sinceMode = 0;
  untilMode = 0;
  /** Whether the mode changed during this interval (a trip started or ended). */
  modeChanged = false;
}

/** Exterior temperature (°C): the region's season, a daily cycle by local solar time, the vehicle's micro-climate. */
export function exteriorTemp(fleet: Fleet, i: number, t: number, lon: number): number {
  const region = REGIONS[fleet.region[i]!]!;
  const hour = ((t / 3_600_000 + lon / 15) % 24 + 24) % 24;
  return region.tempC + 5 * Math.sin(((hour - 9) / 24) * 2 * Math.PI) + ((hash32(fleet.seed, i, 0x7e) % 30) - 15) / 10;
}

/** Engine speed (rpm) for road speed `v` (km/h) and acceleration `a` (m/s²). */
export function engineRpm(m: ModelDef, v: number, a: number, running: boolean): number {
  if (!running) return 0;
  if (m.powertrain === 'HEV' || m.powertrain === 'PHEV') return v < 1 ? 1000 : Math.min(4800, 1000 + v * 13 + Math.max(0, a) * 500);
  if (v < 1) return IDLE_RPM;
  if (m.gears <= 1) return Math.min(4500, 1100 + v * 12 + Math.max(0, a) * 400);
  const step = 150 / m.gears;
  return 1200 + ((v % step) / step) * 1300 + Math.max(0, a) * 250;
}

/** The gear in use at road speed `v` while driving. */
export function gearFor(m: ModelDef, v: number): number {
  if (m.gears <= 1) return 1;
  return Math.min(m.gears, Math.max(1, Math.ceil(v / (150 / m.gears))));
}

export function motorRpm(v: number): number {
  return v * EV_RPM_PER_KMH;
}

function drawTarget(r: Mulberry32, motorway: number): number {
  const u = r.next();
  if (u < 0.1) return 0;
  if (u < 0.45) return r.range(30, 55);
  if (u < 0.75) return r.range(50, 80);
  return r.range(motorway - 15, motorway + 15);
}

/** Advance vehicle `i` from its last report to `t` (epoch ms), filling `out`. */
export function advance(st: FleetState, fleet: Fleet, i: number, t: number, r: Mulberry32, force: ModeForce | undefined, out: Step): void {
  const m = MODELS[fleet.model[i]!]!;
  const region = REGIONS[fleet.region[i]!]!;
  const dt = Math.max(0.001, (t - st.lastT[i]!) / 1000);
  out.t = t;
  out.dt = dt;
  out.modeChanged = false;

  // Scenario constraints first: a forced drive starts now, a forced stop ends the trip.
  if (force && t <= force.until) {
    if (force.mode === DRIVING && st.mode[i] !== DRIVING) startTrip(st, i, t, Math.max(force.until + 60_000, t + 300_000), r, region.motorwayKmh, out);
    if (force.mode === DRIVING && st.modeEnd[i]! < force.until + 60_000) st.modeEnd[i] = force.until + 60_000;
    if (force.mode === PARKED && st.mode[i] === DRIVING) st.modeEnd[i] = t;
    if (force.mode === PARKED && st.mode[i] !== DRIVING && st.modeEnd[i]! < force.until + 60_000) st.modeEnd[i] = force.until + 60_000;
  }

  const mode = st.mode[i]!;
  const v0 = st.speed[i]!;
  let v1 = 0;
  let a = 0;
  let yaw = 0;
  if (mode === DRIVING) {
    const arriving = t >= st.modeEnd[i]!;
    let target = st.target[i]!;
    if (arriving) target = 0;
    else if (r.next() < dt / 25) target = drawTarget(r, region.motorwayKmh);
    if (!arriving && force && force.mode === DRIVING && t <= force.until && target < force.minSpeed) target = force.minSpeed + r.range(0, 30);
    st.target[i] = target;
    a = Math.max(-3.5, Math.min(2.5, (target - v0) / 3.6 / 4)) + r.normal() * 0.08;
    v1 = v0 + a * 3.6 * dt;
    if ((a > 0 && v1 > target) || (a < 0 && v1 < target)) v1 = target;
    if (v1 < 0.05 && target === 0) v1 = 0;
    if (v1 < 0) v1 = 0;
    a = (v1 - v0) / 3.6 / dt;

    // Heading: a slowly varying turn rate, pulled back towards home past 20 km.
    let turn = st.turn[i]!;
    if (r.next() < dt / 12) turn = v1 < 40 ? r.normal() * 5 : r.normal();
    const [hLat, hLon] = region.cities[fleet.city[i]!]!;
    const lat = st.lat[i]!;
    const dN = (lat - hLat) * M_PER_DEG;
    const dE = (st.lon[i]! - hLon) * M_PER_DEG * Math.cos(lat * DEG);
    if (dN * dN + dE * dE > 4e8) {
      const home = Math.atan2(-dE, -dN) / DEG;
      const diff = ((home - st.heading[i]! + 540) % 360) - 180;
      turn = Math.max(-4, Math.min(4, diff));
    }
    if (v1 < 1) turn = 0;
    st.turn[i] = turn;
    yaw = turn;
    const h0 = st.heading[i]!;
    const hMid = h0 + (turn * dt) / 2;
    st.heading[i] = (((h0 + turn * dt) % 360) + 360) % 360;
    const dist = ((v0 + v1) / 2 / 3.6) * dt;
    st.lat[i] = lat + (dist * Math.cos(hMid * DEG)) / M_PER_DEG;
    st.lon[i] = st.lon[i]! + (dist * Math.sin(hMid * DEG)) / (M_PER_DEG * Math.cos(lat * DEG));
    st.odo[i] = st.odo[i]! + dist;
  }
  st.speed[i] = v1;

  const vm = v1 / 3.6;
  const wheelKW = ((MASS_KG * a + 0.39 * vm * vm + (v1 > 0 ? 235 : 0)) * vm) / 1000;
  const extT = exteriorTemp(fleet, i, t, st.lon[i]!);
  const soc = st.soc[i]!;
  let engineOn = false;
  let motorKW = 0;
  let battKW = 0;
  let instCons = 0;
  let charging = false;
  if (mode === DRIVING) {
    const p = m.powertrain;
    if (p === 'ICE') engineOn = true;
    else if (p === 'HEV') engineOn = v1 > 50 || a > 1.2 || soc < 45;
    else if (p === 'PHEV') engineOn = soc < 20 ? v1 > 50 || a > 1.2 || soc < 15 : v1 > 120 || a > 2;
    if (p !== 'ICE') {
      motorKW = engineOn ? wheelKW * 0.2 : wheelKW > 0 ? wheelKW / 0.9 : wheelKW * 0.7;
      motorKW = Math.max(-100, Math.min(p === 'BEV' ? 350 : 80, motorKW));
      battKW = motorKW + 0.4 + (extT > 20 || extT < 8 ? 1.2 : 0);
    }
    if (engineOn) {
      const per100 = (p === 'ICE' ? 1 : 0.6) * (4 + 0.0005 * v1 * v1 + Math.max(0, a) * 6);
      const liters = v1 > 3 ? (per100 * (((v0 + v1) / 2 / 3600) * dt)) / 100 : (0.8 / 3600) * dt;
      if (v1 > 3) instCons = per100;
      st.fuel[i] = Math.max(1, st.fuel[i]! - (liters / m.tankL) * 100);
    }
    if (p === 'HEV' && engineOn) st.soc[i] = Math.min(75, soc + 0.05 * dt);
    else if (p !== 'ICE') st.soc[i] = Math.max(p === 'HEV' ? 35 : 2, soc - ((battKW * dt) / 3600 / m.batteryKWh) * 100);
  } else if (mode === CHARGING) {
    const limit = st.chargeLimit[i]!;
    if (soc < limit) {
      charging = true;
      const taper = soc > 80 ? Math.max(0.15, (100 - soc) / 20) : 1;
      battKW = -st.chargeKW[i]! * taper;
      st.soc[i] = Math.min(limit, soc + ((-battKW * 0.92 * dt) / 3600 / m.batteryKWh) * 100);
    }
  }

  // Temperatures relax towards their set points.
  const k = (tau: number): number => Math.min(1, dt / tau);
  const thermalTarget = m.powertrain === 'BEV' ? extT + 12 + (charging ? 8 : 0) + Math.abs(motorKW) * 0.05 : engineOn ? 90 : extT;
  st.thermal[i] = st.thermal[i]! + (thermalTarget - st.thermal[i]!) * k(engineOn ? 240 : 900);
  const cabinTarget = mode === DRIVING || charging ? 21.5 : extT + 2;
  st.cabin[i] = st.cabin[i]! + (cabinTarget - st.cabin[i]!) * k(mode === DRIVING ? 300 : 1800);

  out.mode = st.mode[i]!;
  out.v0 = v0;
  out.v1 = v1;
  out.accel = a;
  out.yaw = yaw;
  out.latAcc = vm * yaw * DEG;
  out.steer = v1 < 1 ? 0 : Math.max(-540, Math.min(540, Math.round((Math.atan((2.8 * yaw * DEG) / Math.max(vm, 1)) / DEG) * 15)));
  out.engineOn = engineOn;
  out.rpm1 = engineRpm(m, v1, a, engineOn);
  out.motorRpm1 = motorRpm(v1);
  out.motorKW = Math.round(motorKW);
  out.battKW = battKW;
  out.instCons = instCons;
  out.charging = charging;
  out.extT = extT;
  out.humidity = Math.max(5, Math.min(100, region.humidity - 1.5 * (extT - region.tempC)));

  // Drive-cycle transitions at the end of the interval.
  const forcedDrive = force !== undefined && force.mode === DRIVING && t <= force.until;
  const forcedPark = force !== undefined && force.mode === PARKED && t <= force.until;
  if (mode === DRIVING && t >= st.modeEnd[i]! && v1 === 0 && !forcedDrive) {
    st.tripDur[i] = (t - st.modeStart[i]!) / 1000;
    park(st, m, i, t, r, forcedPark ? force.until + 60_000 : 0);
    out.modeChanged = true;
  } else if (mode !== DRIVING && t >= st.modeEnd[i]! && !forcedPark) {
    startTrip(st, i, t, t + r.range(300_000, 3_000_000), r, region.motorwayKmh, out);
  }
  out.mode = st.mode[i]!;
  out.sinceMode = (t - st.modeStart[i]!) / 1000;
  out.untilMode = (st.modeEnd[i]! - t) / 1000;
  out.gear = out.mode === DRIVING ? gearFor(m, v1) : 0;
}

function startTrip(st: FleetState, i: number, t: number, end: number, r: Mulberry32, motorway: number, out: Step): void {
  st.mode[i] = DRIVING;
  st.modeStart[i] = t;
  st.modeEnd[i] = end;
  st.tripStartOdo[i] = st.odo[i]!;
  st.target[i] = drawTarget(r, motorway);
  st.chargeKW[i] = 0;
  out.modeChanged = true;
}

function park(st: FleetState, m: ModelDef, i: number, t: number, r: Mulberry32, minEnd: number): void {
  const soc = st.soc[i]!;
  const plug = canPlugIn(m.powertrain) && r.next() < (soc < 35 ? 0.9 : 0.15);
  st.modeStart[i] = t;
  st.occupants[i] = (st.occupants[i]! & OCC.adas) | Math.floor(r.next() * 32);
  if (plug) {
    st.mode[i] = CHARGING;
    const kw = m.powertrain === 'PHEV' ? 3.7 : r.next() < 0.35 ? r.range(50, 150) : r.next() < 0.5 ? 11 : 7.4;
    st.chargeKW[i] = kw;
    const hours = (((st.chargeLimit[i]! - soc) / 100) * m.batteryKWh) / (kw * 0.8);
    st.modeEnd[i] = Math.max(minEnd, t + Math.max(600_000, hours * 3_600_000 + r.range(300_000, 1_800_000)));
  } else {
    st.mode[i] = PARKED;
    const long = r.next() < 0.15;
    st.modeEnd[i] = Math.max(minEnd, t + (long ? r.range(1_800_000, 14_400_000) : r.range(60_000, 1_800_000)));
    if (m.tankL > 0 && st.fuel[i]! < 15) st.fuel[i] = r.range(90, 100); // a stop at the pump
  }
}
