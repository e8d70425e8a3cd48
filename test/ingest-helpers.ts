/** Shared by the HTTP ingest and NATS tests: a store whose writes can be held, polling, a seeded PRNG. */
import type { Store } from '../src/core/store.js';

const WRITES = new Set(['appendSignals', 'appendCanFrames', 'insertSecurityEvents', 'insertApiEvents', 'insertAlerts', 'insertDeadLetters', 'upsertVehicles']);

/**
 * A store whose writes wait while the gate is closed: the pipeline fills up and nothing
 * becomes durable, so the tests can look at what a source does meanwhile.
 */
export function gated(store: Store): { store: Store; open(): void; close(): void } {
  let gate: Promise<void> = Promise.resolve();
  let release = (): void => {};
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      if (!WRITES.has(String(prop))) return (v as (...a: unknown[]) => unknown).bind(target);
      return async (...args: unknown[]) => {
        await gate;
        return (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
      };
    },
  });
  return {
    store: proxy,
    open: () => release(),
    close: () => {
      gate = new Promise((r) => (release = r));
    },
  };
}

export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** mulberry32: a small seeded PRNG, so a failing fuzz run can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
