import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from './access.js';
import { canonicalJson, ChainVerifier, entryHash, GENESIS_HASH, sealEntry, verifyChain } from './audit-chain.js';

function chain(n: number): AuditEntry[] {
  const out: AuditEntry[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const e = sealEntry({ seq, time: 1_700_000_000_000 + seq, tenant: seq % 2 ? 'a' : 'b', actor: 'tok1', actorName: 'ops', action: 'incident.transition', targetType: 'incident', targetId: `inc-${seq}`, details: { to: 'triaged', n: seq, nested: { z: 1, a: [1, { y: 2, b: 3 }] } }, prevHash: prev });
    out.push(e);
    prev = e.hash;
  }
  return out;
}

describe('canonicalJson', () => {
  it('sorts keys at every level and drops undefined members, whatever the build order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { y: 1, x: 2 }], c: undefined } })).toBe('{"a":{"d":[3,{"x":2,"y":1}]},"b":1}');
    expect(canonicalJson({ a: { c: 1, d: 2 }, b: 1 })).toBe(canonicalJson({ b: 1, a: { d: 2, c: 1 } }));
    expect(canonicalJson([undefined, 'x', null])).toBe('[null,"x",null]');
    expect(canonicalJson('a"b')).toBe('"a\\"b"');
  });
});

describe('audit hash chain', () => {
  it('hashes sha256(prevHash + canonical entry without hash), starting from 64 zeros', () => {
    const [first] = chain(1);
    const { hash: _h, ...rest } = first!;
    expect(first!.prevHash).toBe(GENESIS_HASH);
    expect(first!.hash).toBe(createHash('sha256').update(GENESIS_HASH + canonicalJson(rest)).digest('hex'));
    // Field order does not matter: the same entry read back in another key order hashes the same.
    const reordered = Object.fromEntries(Object.entries(first!).reverse()) as unknown as AuditEntry;
    expect(entryHash(reordered)).toBe(first!.hash);
  });

  it('an intact chain verifies, also when checked page by page', () => {
    const entries = chain(50);
    expect(verifyChain(entries)).toEqual({ ok: true, entries: 50, lastHash: entries[49]!.hash });
    const v = new ChainVerifier({ seq: 21, prevHash: entries[19]!.hash });
    for (const e of entries.slice(20)) expect(v.push(e)).toBe(true);
    expect(v.result()).toMatchObject({ ok: true, entries: 30 });
    expect(verifyChain([])).toEqual({ ok: true, entries: 0, lastHash: GENESIS_HASH });
  });

  it('finds a changed detail, actor, time or tenant at its seq', () => {
    const cases: [string, (e: AuditEntry) => AuditEntry][] = [
      ['details', (e) => ({ ...e, details: { ...e.details, to: 'resolved' } })],
      ['actor', (e) => ({ ...e, actor: 'someone-else' })],
      ['time', (e) => ({ ...e, time: e.time + 1 })],
      ['tenant', (e) => ({ ...e, tenant: 'c' })],
    ];
    for (const [what, change] of cases) {
      const entries = chain(10);
      entries[6] = change(entries[6]!);
      const r = verifyChain(entries);
      expect(r, what).toMatchObject({ ok: false, seq: 7, entries: 6 });
      expect(!r.ok && r.reason, what).toMatch(/the entry was changed/);
    }
  });

  it('a rewritten entry with a recomputed hash still breaks the next link', () => {
    const entries = chain(10);
    entries[3] = sealEntry({ ...entries[3]!, details: { forged: true } });
    expect(verifyChain(entries)).toMatchObject({ ok: false, seq: 5, reason: expect.stringMatching(/does not match the hash of entry 4/) });
  });

  it('finds removed and reordered entries', () => {
    const removed = chain(10);
    removed.splice(4, 2);
    expect(verifyChain(removed)).toMatchObject({ ok: false, seq: 7, reason: 'entries 5..6 are missing' });
    const swapped = chain(10);
    [swapped[2], swapped[3]] = [swapped[3]!, swapped[2]!];
    expect(verifyChain(swapped)).toMatchObject({ ok: false, seq: 4, reason: expect.stringMatching(/missing/) });
    const dup = chain(5);
    dup.splice(3, 0, dup[2]!);
    expect(verifyChain(dup)).toMatchObject({ ok: false, seq: 3, reason: 'seq 3 out of order (expected 4)' });
  });
});
