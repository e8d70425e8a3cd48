/**
 * The signals wire message of one report (src/decode/README.md), written straight into a
 * string: keys are precomputed, numbers rounded to what a TCU would send, no intermediate
 * objects. Every value stays inside its catalog min/max and allowed values.
 */
import { type Step, engineRpm, motorRpm } from './drive.js';
import type { Fleet } from './fleet.js';
import { MODELS, REGIONS, canPlugIn, hasBattery, hasEngine } from './models.js';
import { hash32, type Mulberry32 } from './prng.js';
import { DRIVING, OCC, type FleetState } from './state.js';

/** The VSS paths the simulator emits (all in DEFAULT_SIGNALS). */
export const PATHS = {
  speed: 'Vehicle.Speed',
  odometer: 'Vehicle.TraveledDistance',
  lat: 'Vehicle.CurrentLocation.Latitude',
  lon: 'Vehicle.CurrentLocation.Longitude',
  heading: 'Vehicle.CurrentLocation.Heading',
  altitude: 'Vehicle.CurrentLocation.Altitude',
  hAccuracy: 'Vehicle.CurrentLocation.HorizontalAccuracy',
  fix: 'Vehicle.CurrentLocation.GNSSReceiver.FixType',
  moving: 'Vehicle.IsMoving',
  gear: 'Vehicle.Powertrain.Transmission.CurrentGear',
  selectedGear: 'Vehicle.Powertrain.Transmission.SelectedGear',
  parkLock: 'Vehicle.Powertrain.Transmission.IsParkLockEngaged',
  rpm: 'Vehicle.Powertrain.CombustionEngine.Speed',
  engineRunning: 'Vehicle.Powertrain.CombustionEngine.IsRunning',
  coolant: 'Vehicle.Powertrain.CombustionEngine.EngineCoolant.Temperature',
  fuelLevel: 'Vehicle.Powertrain.FuelSystem.RelativeLevel',
  fuelRange: 'Vehicle.Powertrain.FuelSystem.Range',
  fuelInstant: 'Vehicle.Powertrain.FuelSystem.InstantConsumption',
  motorRpm: 'Vehicle.Powertrain.ElectricMotor.Speed',
  motorPower: 'Vehicle.Powertrain.ElectricMotor.Power',
  soc: 'Vehicle.Powertrain.TractionBattery.StateOfCharge.Current',
  socDisplayed: 'Vehicle.Powertrain.TractionBattery.StateOfCharge.Displayed',
  soh: 'Vehicle.Powertrain.TractionBattery.StateOfHealth',
  packVoltage: 'Vehicle.Powertrain.TractionBattery.CurrentVoltage',
  packCurrent: 'Vehicle.Powertrain.TractionBattery.CurrentCurrent',
  packTemp: 'Vehicle.Powertrain.TractionBattery.Temperature.Average',
  batteryRange: 'Vehicle.Powertrain.TractionBattery.Range',
  isCharging: 'Vehicle.Powertrain.TractionBattery.Charging.IsCharging',
  cable: 'Vehicle.Powertrain.TractionBattery.Charging.ChargingPort.AnyPosition.IsChargingCableConnected',
  chargeLimit: 'Vehicle.Powertrain.TractionBattery.Charging.ChargeLimit',
  timeToComplete: 'Vehicle.Powertrain.TractionBattery.Charging.TimeToComplete',
  range: 'Vehicle.Powertrain.Range',
  accelLong: 'Vehicle.Acceleration.Longitudinal',
  accelLat: 'Vehicle.Acceleration.Lateral',
  yaw: 'Vehicle.AngularVelocity.Yaw',
  wheelFL: 'Vehicle.Chassis.Axle.Row1.Wheel.Left.Speed',
  wheelFR: 'Vehicle.Chassis.Axle.Row1.Wheel.Right.Speed',
  wheelRL: 'Vehicle.Chassis.Axle.Row2.Wheel.Left.Speed',
  wheelRR: 'Vehicle.Chassis.Axle.Row2.Wheel.Right.Speed',
  tireFL: 'Vehicle.Chassis.Axle.Row1.Wheel.Left.Tire.Pressure',
  tireFR: 'Vehicle.Chassis.Axle.Row1.Wheel.Right.Tire.Pressure',
  tireRL: 'Vehicle.Chassis.Axle.Row2.Wheel.Left.Tire.Pressure',
  tireRR: 'Vehicle.Chassis.Axle.Row2.Wheel.Right.Tire.Pressure',
  accelPedal: 'Vehicle.Chassis.Accelerator.PedalPosition',
  brakePedal: 'Vehicle.Chassis.Brake.PedalPosition',
  steering: 'Vehicle.Chassis.SteeringWheel.Angle',
  parkingBrake: 'Vehicle.Chassis.ParkingBrake.IsEngaged',
  abs: 'Vehicle.ADAS.ABS.IsEngaged',
  esc: 'Vehicle.ADAS.ESC.IsEngaged',
  autonomy: 'Vehicle.ADAS.ActiveAutonomyLevel',
  doorFL: 'Vehicle.Cabin.Door.Row1.DriverSide.IsOpen',
  doorFR: 'Vehicle.Cabin.Door.Row1.PassengerSide.IsOpen',
  doorRL: 'Vehicle.Cabin.Door.Row2.DriverSide.IsOpen',
  doorRR: 'Vehicle.Cabin.Door.Row2.PassengerSide.IsOpen',
  lockFL: 'Vehicle.Cabin.Door.Row1.DriverSide.IsLocked',
  lockFR: 'Vehicle.Cabin.Door.Row1.PassengerSide.IsLocked',
  lockRL: 'Vehicle.Cabin.Door.Row2.DriverSide.IsLocked',
  lockRR: 'Vehicle.Cabin.Door.Row2.PassengerSide.IsLocked',
  trunk: 'Vehicle.Body.Trunk.Rear.IsOpen',
  cabinTemp: 'Vehicle.Cabin.HVAC.AmbientAirTemperature',
  ac: 'Vehicle.Cabin.HVAC.IsAirConditioningActive',
  extTemp: 'Vehicle.Exterior.AirTemperature',
  humidity: 'Vehicle.Exterior.Humidity',
  lvVoltage: 'Vehicle.LowVoltageBattery.CurrentVoltage',
  lvState: 'Vehicle.LowVoltageSystemState',
  connectivity: 'Vehicle.Connectivity.IsConnectivityAvailable',
  dtcCount: 'Vehicle.Diagnostics.DTCCount',
  toService: 'Vehicle.Service.DistanceToService',
  tripDistance: 'Vehicle.TraveledDistanceSinceStart',
  tripDuration: 'Vehicle.TripDuration',
} as const;

type Key = keyof typeof PATHS;
/** `,"path":` for every path: the separator and key of one entry, built once. */
const K = Object.fromEntries(Object.entries(PATHS).map(([k, p]) => [k, `,${JSON.stringify(p)}:`])) as Record<Key, string>;
/** `["path",` for samples. */
const SK = Object.fromEntries(Object.entries(PATHS).map(([k, p]) => [k, `,[${JSON.stringify(p)},`])) as Record<Key, string>;

/** Which high-rate signal each next sample goes to: speed most often, then engine speed and acceleration. */
const SAMPLE_PATTERN = [0, 1, 2, 0, 3, 4, 0, 1, 5, 6, 2, 7, 8, 0, 1, 3, 4, 2];
const SAMPLE_SIGNALS = 9;

/** What a scenario or the malformed injector changes in one report. */
export class ReportOverride {
  /** Reported position (NaN: the true one). */
  lat = Number.NaN;
  lon = Number.NaN;
  /** Reported Vehicle.Speed (NaN: the true one)... */
  speed = Number.NaN;
  /** ...or the true one plus this (km/h). */
  speedAdd = 0;
  /** All doors reported unlocked. */
  unlocked = false;
  /** Malformation: '', 'bad-vin', 'unknown-signal', 'out-of-range', 'broken-json'. */
  malformed = '';

  reset(): void {
    this.lat = this.lon = this.speed = Number.NaN;
    this.speedAdd = 0;
    this.unlocked = false;
    this.malformed = '';
  }
}

const r1 = (x: number): number => Math.round(x * 10) / 10;
const r2 = (x: number): number => Math.round(x * 100) / 100;
const r6 = (x: number): number => Math.round(x * 1e6) / 1e6;
const clampInt = (x: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, Math.round(x)));

/** Plausible-looking VSS paths that are not in VSS 6.0 (the unknown-signal malformation). */
export const UNKNOWN_PATHS = [
  'Vehicle.Powertrain.TractionBattery.CellBalancer.ActiveCount',
  'Vehicle.Cabin.Infotainment.DebugConsole.IsEnabled',
  'Vehicle.Telematics.Modem.Rssi',
] as const;

export class SignalsWriter {
  private s = '';
  private n = 0;
  private cap = 0;
  /** Entries (signals + samples) in the last message written. */
  count = 0;

  constructor(
    private readonly fleet: Fleet,
    private readonly st: FleetState,
  ) {}

  private num(k: Key, v: number): void {
    if (this.n < this.cap) this.s += this.n++ === 0 ? K[k].substring(1) + v : K[k] + v;
  }
  private bool(k: Key, v: boolean): void {
    if (this.n < this.cap) this.s += this.n++ === 0 ? K[k].substring(1) + v : K[k] + v;
  }
  private str(k: Key, v: string): void {
    if (this.n < this.cap) this.s += (this.n++ === 0 ? K[k].substring(1) : K[k]) + '"' + v + '"';
  }

  /** The message of vehicle `i` for the interval in `step`. */
  write(i: number, vin: string, seq: number, step: Step, cap: number, ov: ReportOverride, r: Mulberry32): string {
    const { fleet, st } = this;
    const m = MODELS[fleet.model[i]!]!;
    const p = m.powertrain;
    const seed = fleet.seed;
    const t = step.t;
    const driving = step.mode === DRIVING;
    const v = step.v1;
    const vm = v / 3.6;
    const a = step.accel;
    this.s = '';
    this.n = 0;
    this.cap = cap;
    const bad = ov.malformed;
    // The out-of-range malformation breaks one of three bounded signals, chosen by `seq`.
    const oor = bad === 'out-of-range' ? seq % 3 : -1;

    const reportedSpeed = Number.isNaN(ov.speed) ? v + ov.speedAdd : ov.speed;
    this.num('speed', r2(reportedSpeed));
    this.num('odometer', Math.floor(st.odo[i]!));
    // Position: GNSS noise of ~1.5 m, unless a spoofer is reporting another place.
    const spoofed = !Number.isNaN(ov.lat);
    const twoD = !spoofed && hash32(seed, i, Math.floor(t / 60_000)) % 50 === 0;
    const noise = spoofed ? 0.3 : 1.5;
    const lat = spoofed ? ov.lat : st.lat[i]!;
    const lon = spoofed ? ov.lon : st.lon[i]!;
    this.num('lat', oor === 0 ? r6(90 + r.range(0.5, 9)) : r6(lat + (r.normal() * noise) / 111_320));
    this.num('lon', r6(lon + (r.normal() * noise) / (111_320 * Math.cos((lat * Math.PI) / 180))));
    this.num('heading', r1(st.heading[i]!));
    const region = REGIONS[fleet.region[i]!]!;
    const alt = region.cities[fleet.city[i]!]![2] + 25 * Math.sin(lat * 157) * Math.cos(lon * 113);
    this.num('altitude', r1(alt + r.normal() * 2));
    this.num('hAccuracy', r1(spoofed ? r.range(0.7, 1.1) : twoD ? r.range(8, 20) : r.range(1.5, 5)));
    this.str('fix', twoD ? 'TWO_D' : 'THREE_D');
    this.bool('moving', v > 0.5);
    this.num('gear', step.gear);
    this.num('selectedGear', driving ? 127 : 126);
    this.bool('parkLock', !driving);

    const batt = hasBattery(p);
    if (hasEngine(p)) {
      this.num('rpm', r1(step.rpm1));
      this.bool('engineRunning', step.engineOn);
      this.num('coolant', r1(st.thermal[i]!));
      this.num('fuelLevel', clampInt(st.fuel[i]!, 0, 100));
      this.num('fuelRange', Math.round((st.fuel[i]! / 100) * m.tankL * (100 / 6.5) * 1000));
      this.num('fuelInstant', r1(step.instCons));
    }
    const soc = st.soc[i]!;
    const packV = m.packVolts * (0.9 + (0.2 * soc) / 100);
    if (batt) {
      this.num('motorRpm', r1(motorRpm(v) * (p === 'BEV' ? 1 : 0.85)));
      this.num('motorPower', step.motorKW);
      this.num('soc', r2(soc));
      this.num('socDisplayed', Math.round(soc));
      this.num('soh', r1(88 + (hash32(seed, i, 0x50) % 120) / 10));
      this.num('packVoltage', r1(packV));
      this.num('packCurrent', r1((-step.battKW * 1000) / packV));
      this.num('packTemp', r1(p === 'BEV' ? st.thermal[i]! : step.extT + 8));
      this.num('batteryRange', Math.round(((soc / 100) * m.batteryKWh * 1000 * 1000) / 170));
    }
    if (canPlugIn(p)) {
      const plugged = step.mode !== DRIVING && st.chargeKW[i]! > 0;
      this.bool('isCharging', step.charging);
      this.bool('cable', plugged);
      this.num('chargeLimit', st.chargeLimit[i]!);
      const ttc = step.charging ? (((st.chargeLimit[i]! - soc) / 100) * m.batteryKWh * 3600) / Math.max(1, st.chargeKW[i]! * 0.8) : 0;
      this.num('timeToComplete', Math.max(0, Math.round(ttc)));
    }
    const fuelRangeM = hasEngine(p) ? (st.fuel[i]! / 100) * m.tankL * (100 / 6.5) * 1000 : 0;
    const battRangeM = batt ? ((soc / 100) * m.batteryKWh * 1e6) / 170 : 0;
    this.num('range', Math.round(fuelRangeM + battRangeM));

    this.num('accelLong', r2(a + r.normal() * 0.03));
    this.num('accelLat', r2(step.latAcc + r.normal() * 0.03));
    this.num('yaw', r2(step.yaw));
    const yawRad = (step.yaw * Math.PI) / 180;
    const dL = vm > 1 ? 1 - (yawRad * 0.8) / vm : 1;
    const dR = vm > 1 ? 1 + (yawRad * 0.8) / vm : 1;
    this.num('wheelFL', r2(Math.max(0, v * dL * (1 + r.normal() * 0.002))));
    this.num('wheelFR', r2(Math.max(0, v * dR * (1 + r.normal() * 0.002))));
    this.num('wheelRL', r2(Math.max(0, v * dL * 0.998 * (1 + r.normal() * 0.002))));
    this.num('wheelRR', r2(Math.max(0, v * dR * 0.998 * (1 + r.normal() * 0.002))));
    const extT = step.extT;
    const warm = driving ? Math.min(8, step.sinceMode / 60) : 0;
    const tire = m.tireKPa + 0.35 * (extT - 20) + warm;
    const th = hash32(seed, i, 0x71);
    this.num('tireFL', Math.round(tire + (th % 16) - 10));
    this.num('tireFR', Math.round(tire + ((th >>> 4) % 16) - 10));
    this.num('tireRL', Math.round(tire + ((th >>> 8) % 16) - 10));
    this.num('tireRR', Math.round(tire + ((th >>> 12) % 16) - 10));
    const pedal = driving ? (a > 0.05 ? clampInt(12 + a * 28 + vm * 0.3, 0, 100) : v > 0 && a > -0.3 ? clampInt(8 + vm * 0.3, 0, 100) : 0) : 0;
    const brake = driving ? (a < -0.3 ? clampInt(-a * 22, 0, 100) : v === 0 ? 25 : 0) : 0;
    this.num('accelPedal', oor === 1 ? 101 + r.int(150) : pedal);
    this.num('brakePedal', brake);
    this.num('steering', step.steer);
    this.bool('parkingBrake', !driving);
    this.bool('abs', a < -3.2);
    this.bool('esc', Math.abs(step.latAcc) > 4.5);
    this.str('autonomy', driving && v > 70 && (st.occupants[i]! & OCC.adas) !== 0 ? 'SAE_2' : 'SAE_0');

    // Doors: open only while parked, on getting out (after arrival) and in (before departure).
    const since = step.sinceMode;
    const until = step.untilMode;
    const still = step.mode !== DRIVING;
    const exiting = still && since >= 2 && since < 7;
    const entering = still && until <= 12 && until > 7;
    const occ = st.occupants[i]!;
    const pass = still && ((since >= 3 && since < 9) || (until <= 12 && until > 6));
    const locked = !ov.unlocked && (!still || (since >= 15 && until > 20));
    this.bool('doorFL', !ov.unlocked && (exiting || entering));
    this.bool('doorFR', !ov.unlocked && pass && (occ & OCC.row1Passenger) !== 0);
    this.bool('doorRL', !ov.unlocked && pass && (occ & OCC.row2Driver) !== 0);
    this.bool('doorRR', !ov.unlocked && pass && (occ & OCC.row2Passenger) !== 0);
    this.bool('lockFL', locked);
    this.bool('lockFR', locked);
    this.bool('lockRL', locked);
    this.bool('lockRR', locked);
    this.bool('trunk', !ov.unlocked && still && (occ & OCC.trunk) !== 0 && since >= 8 && since < 14);

    this.num('cabinTemp', r1(st.cabin[i]!));
    this.bool('ac', (driving || step.charging) && extT > 18);
    this.num('extTemp', r1(extT));
    this.num('humidity', oor === 2 ? r1(100.5 + r.range(0, 40)) : r1(step.humidity));
    const lv = driving ? 14.2 + r.normal() * 0.08 : step.charging ? 13.8 + r.normal() * 0.05 : 12.65 - Math.min(0.3, since / 36_000) + r.normal() * 0.02;
    this.num('lvVoltage', r2(lv));
    this.str('lvState', driving ? 'ON' : still && (since < 15 || until < 20) ? 'ACC' : 'OFF');
    this.bool('connectivity', hash32(seed, i, 0xc0 + Math.floor(t / 60_000)) % 100 >= 2);
    const dtc = hash32(seed, i, 0xd7) % 100;
    this.num('dtcCount', dtc < 85 ? 0 : dtc < 95 ? 1 : 2 + (dtc % 2));
    this.num('toService', r1(15_000 - ((st.odo[i]! / 1000) % 15_000)));
    this.num('tripDistance', Math.max(0, Math.floor(st.odo[i]! - st.tripStartOdo[i]!)));
    this.num('tripDuration', r1(driving ? step.sinceMode : st.tripDur[i]!));
    if (bad === 'unknown-signal') this.s += `,${JSON.stringify(UNKNOWN_PATHS[seq % UNKNOWN_PATHS.length])}:${r.int(100)}`;

    let body = this.s;
    let entries = this.n;
    const samples = cap - this.n;
    if (samples > 0) {
      body += '},"samples":[' + this.samples(i, step, samples, ov, r).substring(1) + ']}';
      entries += samples;
    } else body += '}}';
    this.count = entries;
    const head = '{"vin":"' + (bad === 'bad-vin' ? corruptVin(vin, seq) : vin) + '","ts":' + t + ',"seq":' + seq + ',"signals":{';
    const msg = head + body;
    // Broken JSON is cut somewhere after the header, as a dropped connection would.
    return bad === 'broken-json' ? msg.substring(0, head.length + 5 + r.int(msg.length - head.length - 10)) : msg;
  }

  /** `samples` of the high-rate signals, evenly spaced inside the interval, as `,[path,ts,value]...`. */
  private samples(i: number, step: Step, total: number, ov: ReportOverride, r: Mulberry32): string {
    const counts = [0, 0, 0, 0, 0, 0, 0, 0, 0];
    for (let k = 0; k < total; k++) counts[SAMPLE_PATTERN[k % SAMPLE_PATTERN.length]!]!++;
    const m = MODELS[this.fleet.model[i]!]!;
    const engine = hasEngine(m.powertrain);
    const t0 = step.t - step.dt * 1000;
    const { v0, v1, accel: a } = step;
    const spoof = !Number.isNaN(ov.speed) || ov.speedAdd !== 0;
    const driving = step.mode === DRIVING;
    let s = '';
    for (let j = 0; j < SAMPLE_SIGNALS; j++) {
      const c = counts[j]!;
      for (let k = 1; k <= c; k++) {
        const f = k / (c + 1);
        const ts = Math.round(t0 + step.dt * 1000 * f);
        const v = v0 + (v1 - v0) * f;
        switch (j) {
          case 0:
            s += SK.speed + ts + ',' + r2(spoof ? Math.max(0, (Number.isNaN(ov.speed) ? v + ov.speedAdd : ov.speed) + r.normal() * 0.3) : v) + ']';
            break;
          case 1:
            s += engine
              ? SK.rpm + ts + ',' + r1(engineRpm(m, v, a, step.engineOn)) + ']'
              : SK.motorRpm + ts + ',' + r1(motorRpm(v)) + ']';
            break;
          case 2:
            s += SK.accelLong + ts + ',' + r2(a + r.normal() * 0.03) + ']';
            break;
          case 3:
            s += SK.wheelFL + ts + ',' + r2(Math.max(0, v * (1 + r.normal() * 0.002))) + ']';
            break;
          case 4:
            s += SK.wheelFR + ts + ',' + r2(Math.max(0, v * (1 + r.normal() * 0.002))) + ']';
            break;
          case 5:
            s += SK.accelPedal + ts + ',' + (driving && a > 0.05 ? clampInt(12 + a * 28 + (v / 3.6) * 0.3, 0, 100) : 0) + ']';
            break;
          case 6:
            s += SK.brakePedal + ts + ',' + (driving && a < -0.3 ? clampInt(-a * 22, 0, 100) : 0) + ']';
            break;
          case 7:
            s += SK.steering + ts + ',' + step.steer + ']';
            break;
          default:
            s += SK.yaw + ts + ',' + r2(step.yaw) + ']';
        }
      }
    }
    return s;
  }
}

/** A VIN no decoder accepts: a forbidden letter (I, O, Q) or a wrong length. */
function corruptVin(vin: string, seq: number): string {
  switch (seq % 3) {
    case 0:
      return vin.slice(0, 16) + 'O';
    case 1:
      return vin.slice(0, 16);
    default:
      return 'I' + vin.slice(1);
  }
}

