/**
 * A small built-in CAN frame layout for the simulator's candump output, documented in
 * README.md ("CAN frame layout") so a DBC can describe it. Standard 11-bit ids, 8 data
 * bytes, little-endian (Intel) integers; byte 6 holds a 4-bit rolling counter and byte 7
 * the checksum (sum of bytes 0-6, mod 256).
 *
 * | id    | name             | bytes                                                                 |
 * |-------|------------------|-----------------------------------------------------------------------|
 * | 0x1D0 | VIGIL_SPEED      | 0-1 Vehicle.Speed u16 ×0.01 km/h; 2-3 / 4-5 Row1 left / right wheel speed u16 ×0.01 km/h |
 * | 0x0C9 | VIGIL_POWERTRAIN | 0-1 engine (or motor) speed u16 ×0.25 rpm; 2 CurrentGear i8; 3 accelerator %; 4 brake %; 5 bit0 engine/motor turning, bit1 moving |
 * | 0x3B3 | VIGIL_BODY       | 0 door open bits (FL, FR, RL, RR, trunk = bits 0-4); 1 door locked bits (FL, FR, RL, RR = bits 0-3) |
 */
import { PATHS } from './signals.js';

export const CAN_ID = { speed: 0x1d0, powertrain: 0x0c9, body: 0x3b3 } as const;

export interface CanFrame {
  /** Epoch ms. */
  readonly ts: number;
  readonly id: number;
  readonly data: Uint8Array;
}

/** Signal values a frame carries, by VSS path; engine or motor speed (whichever the vehicle has) under `rpm`. */
export type FrameSignals = Readonly<Record<string, number | boolean>>;

const u16 = (x: number, factor: number): number => Math.max(0, Math.min(0xffff, Math.round(x / factor)));

/** Encodes frames with a rolling counter per id; one encoder per vehicle (per CAN bus). */
export class CanEncoder {
  private readonly counters = new Map<number, number>();

  frame(ts: number, id: number, payload: readonly number[]): CanFrame {
    const data = new Uint8Array(8);
    for (let k = 0; k < 6; k++) data[k] = payload[k] ?? 0;
    const c = this.counters.get(id) ?? 0;
    this.counters.set(id, (c + 1) & 0x0f);
    data[6] = c;
    let sum = 0;
    for (let k = 0; k < 7; k++) sum += data[k]!;
    data[7] = sum & 0xff;
    return { ts, id, data };
  }

  speed(ts: number, speed: number, wheelLeft: number, wheelRight: number): CanFrame {
    const s = u16(speed, 0.01);
    const l = u16(wheelLeft, 0.01);
    const r = u16(wheelRight, 0.01);
    return this.frame(ts, CAN_ID.speed, [s & 0xff, s >> 8, l & 0xff, l >> 8, r & 0xff, r >> 8]);
  }

  powertrain(ts: number, rpm: number, gear: number, accelerator: number, brake: number, turning: boolean, moving: boolean): CanFrame {
    const v = u16(rpm, 0.25);
    return this.frame(ts, CAN_ID.powertrain, [v & 0xff, v >> 8, gear & 0xff, accelerator & 0xff, brake & 0xff, (turning ? 1 : 0) | (moving ? 2 : 0)]);
  }

  body(ts: number, open: readonly boolean[], locked: readonly boolean[]): CanFrame {
    const bits = (b: readonly boolean[]): number => b.reduce((acc, x, k) => acc | (x ? 1 << k : 0), 0);
    return this.frame(ts, CAN_ID.body, [bits(open), bits(locked)]);
  }

  /**
   * The frames for one decoded signals message: a 0x1D0 and a 0x0C9 frame at the snapshot
   * time and at each sample time of speed / engine speed, and one 0x3B3 at the snapshot.
   * With `injected`, the reported speed is an attacker's: the genuine ECU's 0x1D0 frame
   * (speed from the wheels) is followed 1 ms later by the injected one, doubling the rate
   * of 0x1D0 on the bus as a real injection does.
   */
  fromMessage(msg: { ts: number; signals?: Record<string, unknown>; samples?: readonly unknown[] }, injected = false): CanFrame[] {
    const s = msg.signals ?? {};
    const num = (p: string, d = 0): number => (typeof s[p] === 'number' ? (s[p] as number) : d);
    const bool = (p: string): boolean => s[p] === true;
    const rpmPath = typeof s[PATHS.rpm] === 'number' ? PATHS.rpm : PATHS.motorRpm;
    const speedAt = new Map<number, number>([[msg.ts, num(PATHS.speed)]]);
    const rpmAt = new Map<number, number>([[msg.ts, num(rpmPath)]]);
    for (const x of msg.samples ?? []) {
      if (!Array.isArray(x) || typeof x[1] !== 'number' || typeof x[2] !== 'number') continue;
      if (x[0] === PATHS.speed) speedAt.set(x[1], x[2]);
      else if (x[0] === rpmPath) rpmAt.set(x[1], x[2]);
    }
    const frames: CanFrame[] = [];
    const wl = num(PATHS.wheelFL);
    const wr = num(PATHS.wheelFR);
    for (const [ts, v] of speedAt) {
      if (injected) {
        frames.push(this.speed(ts, (wl + wr) / 2, wl, wr));
        frames.push(this.speed(ts + 1, v, wl, wr));
      } else frames.push(this.speed(ts, v, wl, wr));
    }
    const turning = bool(PATHS.engineRunning) || num(PATHS.motorRpm) > 0;
    const moving = bool(PATHS.moving);
    for (const [ts, rpm] of rpmAt) {
      frames.push(this.powertrain(ts, rpm, num(PATHS.gear), num(PATHS.accelPedal), num(PATHS.brakePedal), turning, moving));
    }
    frames.push(
      this.body(
        msg.ts,
        [bool(PATHS.doorFL), bool(PATHS.doorFR), bool(PATHS.doorRL), bool(PATHS.doorRR), bool(PATHS.trunk)],
        [bool(PATHS.lockFL), bool(PATHS.lockFR), bool(PATHS.lockRL), bool(PATHS.lockRR)],
      ),
    );
    return frames.sort((a, b) => a.ts - b.ts || a.id - b.id);
  }
}

/** Decode a frame of the built-in layout back into VSS values (for tests and replays). */
export function decodeCanFrame(id: number, data: Uint8Array): FrameSignals | undefined {
  if (data.length !== 8) return undefined;
  const w = (k: number): number => data[k]! | (data[k + 1]! << 8);
  switch (id) {
    case CAN_ID.speed:
      return { [PATHS.speed]: w(0) / 100, [PATHS.wheelFL]: w(2) / 100, [PATHS.wheelFR]: w(4) / 100 };
    case CAN_ID.powertrain:
      return {
        rpm: w(0) / 4,
        [PATHS.gear]: (data[2]! << 24) >> 24,
        [PATHS.accelPedal]: data[3]!,
        [PATHS.brakePedal]: data[4]!,
        [PATHS.moving]: (data[5]! & 2) !== 0,
      };
    case CAN_ID.body:
      return {
        [PATHS.doorFL]: (data[0]! & 1) !== 0,
        [PATHS.doorFR]: (data[0]! & 2) !== 0,
        [PATHS.doorRL]: (data[0]! & 4) !== 0,
        [PATHS.doorRR]: (data[0]! & 8) !== 0,
        [PATHS.trunk]: (data[0]! & 16) !== 0,
        [PATHS.lockFL]: (data[1]! & 1) !== 0,
        [PATHS.lockFR]: (data[1]! & 2) !== 0,
        [PATHS.lockRL]: (data[1]! & 4) !== 0,
        [PATHS.lockRR]: (data[1]! & 8) !== 0,
      };
    default:
      return undefined;
  }
}

/** Whether a frame's checksum (byte 7) matches bytes 0-6. */
export function canChecksumOk(data: Uint8Array): boolean {
  let sum = 0;
  for (let k = 0; k < 7; k++) sum += data[k]!;
  return data.length === 8 && (sum & 0xff) === data[7];
}

/** One candump log line: `(1764064800.123456) can0 1D0#0011223344556677`. */
export function candumpLine(frame: CanFrame, iface = 'can0'): string {
  const sec = Math.floor(frame.ts / 1000);
  const micros = Math.round((frame.ts - sec * 1000) * 1000);
  const id = frame.id.toString(16).toUpperCase().padStart(3, '0');
  let hex = '';
  for (const b of frame.data) hex += b.toString(16).toUpperCase().padStart(2, '0');
  return `(${sec}.${String(micros).padStart(6, '0')}) ${iface} ${id}#${hex}`;
}
