import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runWorkflowStoreContract } from '../../../test/contract/workflow-store-contract.js';
import { DuckDBStore } from './duckdb-store.js';
import { DuckDBWorkflowStore } from './workflow-store.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDbPath(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-workflow-'));
  dirs.push(dir);
  return path.join(dir, 'vigil.duckdb');
}

runWorkflowStoreContract('duckdb :memory:', async () => {
  const db = await DuckDBStore.open({ path: ':memory:', threads: 1 });
  return { store: new DuckDBWorkflowStore(db.connection), close: () => db.close() };
});

describe('DuckDBWorkflowStore', () => {
  it('keeps history, links and tuning across a close and reopen of the file', async () => {
    const file = tempDbPath();
    const first = await DuckDBStore.open({ path: file, threads: 1 });
    const w1 = new DuckDBWorkflowStore(first.connection);
    await w1.appendEvents([{ tenant: 'acme', incident: 'i1', id: 'e1', time: 1_000, actor: 'system', kind: 'created', body: {} }]);
    await w1.insertLink({ tenant: 'acme', a: 'i1', b: 'i2', relation: 'related', createdBy: 't', createdAt: 2_000 });
    await w1.saveTuning({ tenant: 'acme', rule: 'r1', params: { threshold: 9 }, reason: 'why', createdBy: 't', createdAt: 3_000 });
    await first.close();
    const again = await DuckDBStore.open({ path: file, threads: 1 });
    const w2 = new DuckDBWorkflowStore(again.connection);
    expect((await w2.events('acme', 'i1')).map((e) => e.id)).toEqual(['e1']);
    expect((await w2.links('acme', 'i2')).map((l) => l.a)).toEqual(['i1']);
    expect((await w2.listTuning('acme'))[0]!.params).toEqual({ threshold: 9 });
    await again.close();
  });
});
