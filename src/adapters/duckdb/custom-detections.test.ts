import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DuckDBStore } from './duckdb-store.js';
import { DuckDBCustomDetections } from './custom-detections.js';

const dir = mkdtempSync(path.join(tmpdir(), 'vigil-custom-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const d = (tenant: string, id: string, enabled = true) => ({ tenant, id, yaml: `id: ${id}\n`, template: 'bluetooth-stack-rce', vulnerability: 'CVE-2017-1000251', enabled, createdBy: 'tok1', createdAt: 1_700_000_000_000 });

describe('DuckDBCustomDetections', () => {
  it('saves, replaces, lists per tenant, enables, deletes, and keeps rows across a reopen of the file', async () => {
    const file = path.join(dir, 'vigil.duckdb');
    const first = await DuckDBStore.open({ path: file, threads: 1 });
    const s1 = new DuckDBCustomDetections(first.connection);
    await s1.save(d('acme', 'custom.a'));
    await s1.save({ ...d('acme', 'custom.a'), yaml: 'id: custom.a\n# v2\n' });
    await s1.save(d('acme', 'custom.b', false));
    await s1.save(d('globex', 'custom.a'));
    expect((await s1.list({ tenant: 'acme' })).map((x) => [x.id, x.enabled])).toEqual([['custom.a', true], ['custom.b', false]]);
    expect((await s1.get('acme', 'custom.a'))!.yaml).toContain('# v2');
    expect(await s1.count({ tenant: 'acme' })).toBe(2);
    expect(await s1.count({ tenant: 'acme', enabled: false })).toBe(1);
    expect((await s1.list({ tenant: 'acme', limit: 1, offset: 1 })).map((x) => x.id)).toEqual(['custom.b']);
    expect(await s1.get('acme', 'custom.zz')).toBeUndefined();
    expect(await s1.setEnabled('acme', 'custom.a', false)).toBe(true);
    expect(await s1.setEnabled('acme', 'custom.zz', true)).toBe(false);
    expect(await s1.delete('globex', 'custom.a')).toBe(true);
    expect(await s1.delete('globex', 'custom.a')).toBe(false);
    await first.close();

    const second = await DuckDBStore.open({ path: file, threads: 1 });
    try {
      const s2 = new DuckDBCustomDetections(second.connection);
      expect(await s2.list({})).toEqual([
        { ...d('acme', 'custom.a', false), yaml: 'id: custom.a\n# v2\n' },
        d('acme', 'custom.b', false),
      ]);
      expect(await s2.enabled()).toEqual([]);
      await s2.setEnabled('acme', 'custom.b', true);
      expect((await s2.enabled()).map((x) => `${x.tenant}/${x.id}`)).toEqual(['acme/custom.b']);
    } finally {
      await second.close();
    }
  });

  it('refuses a row without its tenant, id or text', async () => {
    const db = await DuckDBStore.open({ path: ':memory:', threads: 1 });
    try {
      await expect(new DuckDBCustomDetections(db.connection).save({ ...d('acme', 'x'), tenant: '' })).rejects.toThrow(/detection.tenant must be a non-empty string/);
    } finally {
      await db.close();
    }
  });
});
