/**
 * Built-in signal detectors: physical plausibility checks that need only the twin.
 * (The rule engine, CAN models and fleet correlation are separate components.)
 */
import type { SignalDetector } from './detector.js';

const SPEED = 'Vehicle.Speed';
const ODOMETER = 'Vehicle.TraveledDistance';
const WHEEL_FL = 'Vehicle.Chassis.Axle.Row1.Wheel.Left.Speed';

/** Largest plausible change of vehicle speed: 15 m/s² (1.5 g) = 54 km/h per second. */
export const MAX_SPEED_CHANGE_KMH_PER_S = 54;
/** Odometer decrease tolerated as rounding (VSS TraveledDistance is in metres). */
export const ODOMETER_TOLERANCE_M = 50;

export const odometerRollback: SignalDetector = {
  id: 'vigil.odometer_rollback',
  title: 'Odometer rolled back',
  severity: 'high',
  tags: ['ATM-T0016', 'ATM-T0070', 'R155-A5:4.3.6'],
  trigger: ODOMETER,
  reads: [ODOMETER],
  bind(catalog) {
    const odo = catalog.get(ODOMETER)!.id;
    return (twin, _time, value) => {
      const prev = twin.value(odo);
      return prev - value > ODOMETER_TOLERANCE_M ? { previousM: prev, currentM: value } : undefined;
    };
  },
};

export const impossibleAcceleration: SignalDetector = {
  id: 'vigil.speed_impossible_change',
  title: 'Vehicle speed changed faster than physically possible',
  severity: 'medium',
  tags: ['ATM-T0070', 'ATM-T0071', 'R155-A5:4.3.2'],
  trigger: SPEED,
  reads: [SPEED],
  bind(catalog) {
    const speed = catalog.get(SPEED)!.id;
    return (twin, time, value) => {
      const dt = (time - twin.time(speed)) / 1000;
      if (!(dt > 0 && dt <= 5)) return undefined;
      const rate = Math.abs(value - twin.value(speed)) / dt;
      return rate > MAX_SPEED_CHANGE_KMH_PER_S
        ? { previousKmh: twin.value(speed), currentKmh: value, seconds: dt, kmhPerSecond: Math.round(rate) }
        : undefined;
    };
  },
};

/** Vehicle speed and wheel speed disagree: a spoofed speed message on the bus. */
export const speedWheelMismatch: SignalDetector = {
  id: 'vigil.speed_wheel_mismatch',
  title: 'Vehicle speed disagrees with wheel speed',
  severity: 'high',
  tags: ['ATM-T0070', 'ATM-T0071', 'R155-A5:4.3.2'],
  trigger: SPEED,
  reads: [SPEED, WHEEL_FL],
  bind(catalog) {
    const wheel = catalog.get(WHEEL_FL)!.id;
    return (twin, time, value) => {
      const wt = twin.time(wheel);
      if (!(time - wt <= 2000 && time >= wt)) return undefined;
      const w = twin.value(wheel);
      const diff = Math.abs(value - w);
      return diff > Math.max(20, 0.3 * Math.max(value, w)) ? { vehicleSpeedKmh: value, wheelSpeedKmh: w } : undefined;
    };
  },
};

export const BUILTIN_DETECTORS: readonly SignalDetector[] = [odometerRollback, impossibleAcceleration, speedWheelMismatch];
