/**
 * Every real DBC in the shared datasets: parses without error, and the two decoders (generated
 * code and interpreted plans) agree bit for bit on every message, for seeded random frames of
 * full and short length.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataset } from '../../../test/datasets.js';
import { compileDbc, formatDiagnostic, parseDbc, type DbcDatabase } from './index.js';

const dir = dataset('dbc', 'dbc/opendbc.test.ts');

function dbcFiles(root: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(root)) {
    const p = join(root, name);
    if (statSync(p).isDirectory()) out.push(...dbcFiles(p));
    else if (name.endsWith('.dbc')) out.push(p);
  }
  return out.sort();
}

/** mulberry32: a small, seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe.skipIf(dir.skip)('opendbc', () => {
  const files = dir.present ? dbcFiles(dir.path) : [];
  const parsed = new Map<string, DbcDatabase>();

  it('parses every file with no error', () => {
    let messages = 0;
    let signals = 0;
    let warnings = 0;
    const errors: string[] = [];
    for (const f of files) {
      const r = parseDbc(readFileSync(f, 'utf8'), f.slice(dir.path.length));
      errors.push(...r.errors.map(formatDiagnostic));
      warnings += r.warnings.length;
      messages += r.db.messages.length;
      signals += r.db.messages.reduce((a, m) => a + m.signals.length, 0);
      parsed.set(f, r.db);
    }
    console.log(`opendbc: ${files.length} files, ${messages} messages, ${signals} signals, ${errors.length} errors, ${warnings} warnings`);
    expect(errors).toEqual([]);
    expect(files.length).toBeGreaterThanOrEqual(118);
    expect(messages).toBeGreaterThan(4000);
  });

  it('decodes every message identically with generated code and with plans (seeded random frames)', () => {
    const next = random(20261203);
    let frames = 0;
    let rows = 0;
    const data = new Uint8Array(64);
    const capacity = 1024;
    const a = { s: new Uint32Array(capacity), v: new Float64Array(capacity) };
    const b = { s: new Uint32Array(capacity), v: new Float64Array(capacity) };
    const abits = new BigUint64Array(a.v.buffer);
    const bbits = new BigUint64Array(b.v.buffer);
    for (const [f, db] of parsed) {
      const gen = compileDbc(db, { strategy: 'codegen' });
      const plan = compileDbc(db, { strategy: 'plan' });
      expect(gen.strategy).toBe('codegen');
      for (const m of db.messages) {
        if (!gen.has(m.id)) continue;
        for (let k = 0; k < 24; k++) {
          // Mostly full frames; some short ones, and a few all-ones or all-zero payloads.
          const n = k % 6 === 5 ? Math.floor(next() * (m.size + 1)) : m.size;
          for (let i = 0; i < 64; i++) data[i] = k === 0 ? 0xff : k === 1 ? 0 : Math.floor(next() * 256);
          const pa = gen.decode(m.id, data, 0, n, a.s, a.v, 0);
          const pb = plan.decode(m.id, data, 0, n, b.s, b.v, 0);
          frames++;
          rows += pa;
          if (pa !== pb || a.s.subarray(0, pa).some((x, i) => x !== b.s[i]) || abits.subarray(0, pa).some((x, i) => x !== bbits[i])) {
            expect.fail(`${f}: message ${m.name} (${m.id}), length ${n}, data ${Buffer.from(data.subarray(0, n)).toString('hex')}: codegen [${[...a.v.subarray(0, pa)]}] vs plan [${[...b.v.subarray(0, pb)]}]`);
          }
        }
      }
      expect(gen.stats).toEqual(plan.stats);
    }
    console.log(`opendbc: codegen and plans agree on ${frames} frames, ${rows} signal values`);
    expect(rows).toBeGreaterThan(100_000);
  });
});
