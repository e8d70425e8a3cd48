import { describe, expect, it } from 'vitest';
import { CanFrameBatchBuilder, type CanFrameBatch } from '../../core/can.js';
import { ConfigError } from '../../core/errors.js';
import { CanDetector, learnCanProfile, MAX_TRACKED_UNKNOWN_IDS, MODEL, parseCanProfile, type CanProfile } from './index.js';

/** Synthetic bus: 0x100 every 10 ms (byte 0 a counter, bytes 1-7 constant), 0x200 every 20 ms (constant), small jitter. */
function bus(ms: number, start = 0, seed = 1): { b: CanFrameBatchBuilder; counter: () => number } {
  const b = new CanFrameBatchBuilder({ tenant: 't', vin: 'V', source: 'test' }, 1024, 8, true);
  let x = seed;
  const jitter = (): number => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return (x / 2147483648) * 0.8;
  };
  let counter = 0;
  for (let t = start; t < start + ms; t += 10) {
    b.push(t + jitter(), 0x100, [counter++ & 0xff, 0xaa, 0x55, 0x0f, 0xf0, 0x11, 0x22, 0x33]);
    if (Math.round(t) % 20 === 0) b.push(t + 3 + jitter(), 0x200, [1, 2, 3, 4]);
  }
  return { b, counter: () => counter };
}

const clean = (ms = 20_000): CanFrameBatch => bus(ms).b.build();
/** The n-gram model is off unless a test turns it on (on this regular bus `auto` would enable it). */
const profileOf = (opts: Parameters<typeof learnCanProfile>[1] = { ngram: 'off' }): CanProfile => learnCanProfile([clean()], opts);

/** A trace of `ms` clean traffic followed by `extra` frames pushed by the caller. */
function traceWith(extra: (b: CanFrameBatchBuilder, t: number) => void, ms = 2000): CanFrameBatch {
  const { b } = bus(ms, 100_000, 7);
  extra(b, 100_000 + ms);
  return b.build();
}

describe('CanDetector', () => {
  it('raises nothing on clean traffic from the same bus', () => {
    const r = new CanDetector(profileOf()).score(bus(5000, 50_000, 3).b.build());
    expect(r.flagged).toBe(0);
    expect(r.alerts).toEqual([]);
  });

  it('flags an id never seen in training, with the id in the reason', () => {
    const trace = traceWith((b, t) => b.push(t + 5, 0x7ff, [0]));
    const r = new CanDetector(profileOf()).score(trace);
    expect(r.flagged).toBe(1);
    expect(r.flags[trace.size - 1]).toBe(MODEL.allowList);
    expect(r.alerts[0]).toMatchObject({ model: 'allowList', id: 0x7ff, reason: 'id 7ff never seen in training' });
  });

  it('flags a frame injected between two scheduled ones, and not the on-time frame after it', () => {
    const { b, counter } = bus(1000, 100_000, 7);
    const t = 100_000 + 1000;
    const c = counter();
    b.push(t, 0x100, [c & 0xff, 0xaa, 0x55, 0x0f, 0xf0, 0x11, 0x22, 0x33]);
    b.push(t + 5, 0x100, [c & 0xff, 0xaa, 0x55, 0x0f, 0xf0, 0x11, 0x22, 0x33]); // replayed copy, half a period early
    b.push(t + 10, 0x100, [(c + 1) & 0xff, 0xaa, 0x55, 0x0f, 0xf0, 0x11, 0x22, 0x33]);
    const trace = b.build();
    const r = new CanDetector(profileOf()).score(trace);
    const n = trace.size;
    expect([r.flags[n - 3], r.flags[n - 2], r.flags[n - 1]]).toEqual([0, MODEL.timing, 0]);
    expect(r.alerts[0]).toMatchObject({ model: 'timing', id: 0x100 });
    expect(r.alerts[0]!.reason).toMatch(/^100 came [45]\.\d{3} ms before it was due$/);
  });

  it('flags a flood of a known id', () => {
    const trace = traceWith((b, t) => {
      for (let k = 0; k < 50; k++) b.push(t + k * 0.2, 0x200, [1, 2, 3, 4]);
    });
    const r = new CanDetector(profileOf()).score(trace);
    const last50 = [...r.flags.subarray(trace.size - 50)];
    expect(last50.filter((f) => (f & MODEL.timing) !== 0).length).toBeGreaterThanOrEqual(49);
  });

  it('reports a silence longer than learnt on the frame that ends it, and keeps scoring', () => {
    const trace = traceWith((b, t) => {
      b.push(t + 500, 0x200, [1, 2, 3, 4]);
      b.push(t + 520, 0x200, [1, 2, 3, 4]);
    });
    const r = new CanDetector(profileOf()).score(trace);
    expect(r.flags[trace.size - 2]).toBe(MODEL.suspension);
    expect(r.flags[trace.size - 1]).toBe(0);
    expect(r.alerts.find((a) => a.model === 'suspension')!.reason).toMatch(/^200 was silent for 5\d\d\.\d+ ms$/);
  });

  it('flags an unseen data length and a forged payload, but not one flipped bit', () => {
    const trace = traceWith((b, t) => {
      b.push(t + 3, 0x200, [1, 2, 3]); // dlc 3
      b.push(t + 23, 0x200, [0xfe, 0xfd, 0xfc, 0xfb]); // 28 constant bits wrong
      b.push(t + 43, 0x200, [1, 2, 3, 5]); // 1 bit: a new vehicle state, below payloadMinViolations
    });
    const r = new CanDetector(profileOf()).score(trace);
    const n = trace.size;
    expect(r.flags[n - 3]! & MODEL.dlc).toBe(MODEL.dlc);
    expect(r.flags[n - 2]! & MODEL.payload).toBe(MODEL.payload);
    expect(r.flags[n - 1]).toBe(0);
  });

  it('flags a counter that jumps, and follows a lasting jump after RESYNC_FRAMES frames', () => {
    const { b, counter } = bus(1000, 100_000, 7);
    const t = 100_000 + 1000;
    const c = counter() + 100;
    for (let k = 0; k < 8; k++) b.push(t + k * 10, 0x100, [(c + k) & 0xff, 0xaa, 0x55, 0x0f, 0xf0, 0x11, 0x22, 0x33]);
    const trace = b.build();
    const r = new CanDetector(profileOf()).score(trace);
    const tail = [...r.flags.subarray(trace.size - 8)];
    expect(tail[0]).toBe(MODEL.step);
    expect(tail.slice(-2)).toEqual([0, 0]);
    expect(r.alerts.find((a) => a.model === 'step')!.reason).toMatch(/^100 byte 0 went from \d+ to \d+$/);
  });

  it('does not take a frame lost on the bus for a counter jump: the expected change scales with the periods elapsed', () => {
    const { b, counter } = bus(1000, 100_000, 7);
    const t = 100_000 + 1000;
    const c = counter();
    b.push(t + 20, 0x100, [(c + 2) & 0xff, 0xaa, 0x55, 0x0f, 0xf0, 0x11, 0x22, 0x33]); // the frame at t never came
    b.push(t + 30, 0x100, [(c + 3) & 0xff, 0xaa, 0x55, 0x0f, 0xf0, 0x11, 0x22, 0x33]);
    b.push(t + 40, 0x100, [(c + 1) & 0xff, 0xaa, 0x55, 0x0f, 0xf0, 0x11, 0x22, 0x33]); // but a counter going back is wrong
    const trace = b.build();
    const r = new CanDetector(profileOf()).score(trace);
    expect([...r.flags.subarray(trace.size - 3)]).toEqual([0, 0, MODEL.step]);
  });

  it('when an injected frame takes a slot, flags it (not the legitimate frame after it) once the payload shows it', () => {
    const { b, counter } = bus(1000, 100_000, 7);
    const t = 100_000 + 1000;
    const c = counter();
    b.push(t - 0.5, 0x100, [(c + 1) & 0xff, 0xaa, 0x55, 0x0f, 0xf0, 0x11, 0x22, 0x33]); // forged just before the slot, counter one ahead (within the step limit)
    b.push(t + 0.5, 0x100, [c & 0xff, 0xaa, 0x55, 0x0f, 0xf0, 0x11, 0x22, 0x33]); // the real frame
    b.push(t + 10, 0x100, [(c + 1) & 0xff, 0xaa, 0x55, 0x0f, 0xf0, 0x11, 0x22, 0x33]);
    const trace = b.build();
    const r = new CanDetector(profileOf()).score(trace);
    const n = trace.size;
    expect(r.flags[n - 3]! & MODEL.timing).toBe(MODEL.timing);
    expect([r.flags[n - 2], r.flags[n - 1]]).toEqual([0, 0]);
  });

  it('when a copy with the same payload takes a slot, keeps the frame nearer the id\'s long-run phase (a logger that scatters timestamps by 4 ms)', () => {
    // 0x300 every 20 ms, constant payload, timestamps scattered 0..4 ms late (as a USB logger's).
    const jittery = (from: number, to: number, seed: number, b = new CanFrameBatchBuilder({ tenant: 't', vin: 'V', source: 'test' }, 1024, 8, true)): CanFrameBatchBuilder => {
      let x = seed;
      for (let t = from; t < to; t += 20) {
        x = (x * 1103515245 + 12345) % 2147483648;
        b.push(t + (x / 2147483648) * 4, 0x300, [7, 7, 7, 7]);
      }
      return b;
    };
    const profile = learnCanProfile([jittery(0, 60_000, 1).build()], { ngram: 'off' });
    const b = jittery(100_000, 101_000, 5);
    b.push(101_001, 0x300, [7, 7, 7, 7]); // a replayed copy, not early for the earliest-arrival schedule
    b.push(101_002.5, 0x300, [7, 7, 7, 7]); // the real frame, nearer the middle of the scatter
    jittery(101_020, 101_100, 9, b);
    const trace = b.build();
    const r = new CanDetector(profile).score(trace);
    const copy = trace.size - 6;
    expect(trace.time[copy]).toBe(101_001);
    expect(r.flags[copy]).toBe(MODEL.timing);
    expect(r.flagged).toBe(1);
  });

  it('learns a long-short rhythm and keeps the frame that follows it when a copy takes its slot', () => {
    // 0x310 every 30 ms on average, gaps alternating 26 and 34 ms (as 0x290 on the DAGA V40).
    const rhythm = (from: number, slots: number, b = new CanFrameBatchBuilder({ tenant: 't', vin: 'V', source: 'test' }, 1024, 8, true)): CanFrameBatchBuilder => {
      for (let k = 0; k < slots; k++) b.push(from + k * 30 + (k % 2 === 0 ? 0 : -4) + (k % 7) * 0.05, 0x310, [0, 0, 0, 0]);
      return b;
    };
    const profile = learnCanProfile([rhythm(0, 2000).build()], { ngram: 'off' });
    expect(profile.ids[0]!.timing).toMatchObject({ kind: 'periodic', alternating: true });
    expect(learnCanProfile([clean()], { ngram: 'off' }).ids.every((m) => !('alternating' in m.timing))).toBe(true);
    const b = rhythm(100_000, 40); // the last slot (k = 39, odd) is due 4 ms before the mean phase
    b.push(100_000 + 40 * 30 - 1.5, 0x310, [0, 0, 0, 0]); // a copy, nearer the mean phase
    b.push(100_000 + 40 * 30 + 0.1, 0x310, [0, 0, 0, 0]); // the real frame of slot 40 (even: on the mean phase)
    b.push(100_000 + 41 * 30 - 4, 0x310, [0, 0, 0, 0]);
    const trace = b.build();
    const r = new CanDetector(profile).score(trace);
    expect([...r.flags.subarray(trace.size - 3)]).toEqual([MODEL.timing, 0, 0]);
    expect(r.flagged).toBe(1);
  });

  it('when two frames tie on timing, keeps the one whose payload does not bring back a byte that rarely changes', () => {
    // 0x320 every 20 ms, jitter 0..0.8 ms; byte 1 changes once per 100 frames, byte 0 is a free-running flag.
    const mk = (from: number, slots: number, b = new CanFrameBatchBuilder({ tenant: 't', vin: 'V', source: 'test' }, 1024, 8, true)): CanFrameBatchBuilder => {
      for (let k = 0; k < slots; k++) b.push(from + k * 20 + ((k * 7) % 9) * 0.1, 0x320, [k & 1, Math.floor(k / 100) & 0xff, 0, 0]);
      return b;
    };
    const profile = learnCanProfile([mk(0, 5000).build()], { ngram: 'off' });
    const b = mk(100_000, 450); // byte 1 is now 4
    const t = 100_000 + 450 * 20;
    b.push(t + 0.4, 0x320, [0, 3, 0, 0]); // a replayed copy from the drive before (byte 1 = 3), on the phase
    b.push(t + 0.7, 0x320, [0, 4, 0, 0]); // the real frame, 0.3 ms later
    b.push(t + 20.2, 0x320, [1, 4, 0, 0]);
    const trace = b.build();
    const r = new CanDetector(profile).score(trace);
    expect([...r.flags.subarray(trace.size - 3)]).toEqual([MODEL.timing, 0, 0]);
  });

  it('with the n-gram model on, flags an id sequence never seen', () => {
    const profile = profileOf({ ngram: 'auto' });
    expect(profile.ngram).toMatchObject({ enabled: true, holdoutUnseen: 0 });
    expect(profile.ngram.grams).toEqual(expect.arrayContaining(['100 100', '100 200', '200 100']));
    const trace = traceWith((b, t) => {
      b.push(t + 3, 0x200, [1, 2, 3, 4]);
      b.push(t + 23.5, 0x200, [1, 2, 3, 4]); // 200 200 never happens on this bus
    });
    const r = new CanDetector(profile).score(trace);
    expect(r.flags[trace.size - 1]! & MODEL.ngram).toBe(MODEL.ngram);
  });

  it('keeps a bounded memory of unknown ids: beyond the cap they share one alert cooldown', () => {
    const trace = traceWith((b, t) => {
      for (let k = 0; k < MAX_TRACKED_UNKNOWN_IDS + 500; k++) b.push(t + k * 0.01, 0x80000000 + 0x1000 + k, [0]);
    });
    const r = new CanDetector(profileOf()).score(trace);
    expect(r.alerts.filter((a) => a.model === 'allowList')).toHaveLength(MAX_TRACKED_UNKNOWN_IDS + 1);
    expect(r.flagged).toBe(MAX_TRACKED_UNKNOWN_IDS + 500);
  });

  it('a profile survives JSON, and a broken one is refused with every problem', () => {
    const profile = profileOf();
    const again = parseCanProfile(JSON.parse(JSON.stringify(profile)));
    const trace = traceWith((b, t) => b.push(t + 1, 0x100, [0, 0, 0, 0, 0, 0, 0, 0]));
    expect([...new CanDetector(again).score(trace).flags]).toEqual([...new CanDetector(profile).score(trace).flags]);
    const broken = { ...profile, format: 'x', ids: [{ ...profile.ids[0], timing: { kind: 'sometimes' } }], ngram: { n: 9 } };
    const err = (() => {
      try {
        parseCanProfile(broken, 'p.json');
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.problems).toEqual([
      'format: expected "vigil-can-profile/1", got "x"',
      'ids[0].timing.kind: expected periodic or aperiodic',
      'ngram: expected { n: 2..4, enabled, grams: [...] }',
    ]);
  });
});
