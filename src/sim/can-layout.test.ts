import { describe, expect, it } from 'vitest';
import { CAN_ID, CanEncoder, canChecksumOk, candumpLine, decodeCanFrame } from './can-layout.js';
import { PATHS } from './signals.js';
import { FleetSimulator } from './simulator.js';

describe('CAN frame layout', () => {
  it('round-trips speed, wheel speeds, engine speed, gear, pedals and doors', () => {
    const enc = new CanEncoder();
    const speed = enc.speed(1000, 87.34, 87.1, 87.6);
    expect(speed.id).toBe(0x1d0);
    expect(decodeCanFrame(speed.id, speed.data)).toEqual({ [PATHS.speed]: 87.34, [PATHS.wheelFL]: 87.1, [PATHS.wheelFR]: 87.6 });
    const pt = enc.powertrain(1000, 2315.5, -1, 23, 0, true, true);
    expect(decodeCanFrame(pt.id, pt.data)).toMatchObject({ rpm: 2315.5, [PATHS.gear]: -1, [PATHS.accelPedal]: 23, [PATHS.brakePedal]: 0, [PATHS.moving]: true });
    const body = enc.body(1000, [true, false, false, true, true], [false, false, false, false]);
    expect(decodeCanFrame(body.id, body.data)).toMatchObject({ [PATHS.doorFL]: true, [PATHS.doorFR]: false, [PATHS.doorRR]: true, [PATHS.trunk]: true, [PATHS.lockFL]: false });
    for (const f of [speed, pt, body]) expect(canChecksumOk(f.data)).toBe(true);
    expect(decodeCanFrame(0x123, speed.data)).toBeUndefined();
  });

  it('counts each id with its own 4-bit rolling counter', () => {
    const enc = new CanEncoder();
    const counters = Array.from({ length: 18 }, (_, k) => enc.speed(k, 1, 1, 1).data[6]);
    expect(counters.slice(0, 17)).toEqual([...Array.from({ length: 16 }, (_, k) => k), 0]);
    expect(enc.body(0, [], []).data[6]).toBe(0);
  });

  it('writes candump log lines', () => {
    const enc = new CanEncoder();
    const f = enc.frame(1_764_064_800_123, CAN_ID.speed, [0x00, 0x11, 0x22, 0x33, 0x44, 0x55]);
    expect(candumpLine(f)).toBe('(1764064800.123000) can0 1D0#00112233445500FF');
    expect(candumpLine(enc.frame(5, CAN_ID.powertrain, []), 'vcan1')).toBe('(0.005000) vcan1 0C9#0000000000000000');
  });

  it('encodes a simulated message: frames at the snapshot and sample times, in time order', () => {
    const sim = new FleetSimulator({ vehicles: 3, seed: 1, attacks: false, malformedRate: 0 });
    const [msg] = [...sim.items(sim.options.start + 1000)].filter((x) => x.kind === 'signals');
    const parsed = JSON.parse(msg!.payload) as { ts: number; signals: Record<string, number | boolean>; samples: [string, number, number][] };
    const frames = new CanEncoder().fromMessage(parsed);
    const speedFrames = frames.filter((f) => f.id === CAN_ID.speed);
    expect(speedFrames).toHaveLength(1 + parsed.samples.filter((s) => s[0] === PATHS.speed).length);
    expect(frames.filter((f) => f.id === CAN_ID.body)).toHaveLength(1);
    expect(frames.map((f) => f.ts)).toEqual([...frames.map((f) => f.ts)].sort((a, b) => a - b));
    const last = decodeCanFrame(CAN_ID.speed, speedFrames.at(-1)!.data)!;
    expect(last[PATHS.speed]).toBeCloseTo(parsed.signals[PATHS.speed] as number, 2);
  });
});
