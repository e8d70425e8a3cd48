import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import { dropTestSchemas, testSchema, TEST_PG_URL } from '../adapters/postgres/test-db.js';
import { parseConfig } from '../runtime/config.js';
import { startVigil } from './vigil.js';
import { openSharedStores } from './store-factory.js';

afterAll(dropTestSchemas);

describe('store factory', () => {
  it('opens the PostgreSQL stores a postgres store configuration names, on one schema', async () => {
    const config = parseConfig({ store: { kind: 'postgres', url: TEST_PG_URL, schema: testSchema(), poolSize: 2 } });
    const stores = await openSharedStores(config.store, new ManualClock(Date.UTC(2026, 0, 1)));
    try {
      expect(stores.store.dialect).toBe('postgres');
      const { token, secret } = await stores.tokens.create({ name: 'n', role: 'viewer', tenant: 'acme', createdBy: 'x' });
      expect(await stores.tokens.verify(secret, Date.UTC(2026, 0, 1))).toMatchObject({ id: token.id });
      expect(await stores.incidents.listIncidents({ tenant: 'acme', limit: 5 })).toEqual({ items: [], total: 0 });
      expect(await stores.workflow.listTuning()).toEqual([]);
    } finally {
      await stores.close();
    }
  });

  it('refuses a DuckDB configuration, and vigil serve refuses a postgres one naming the DuckDB-only services', async () => {
    await expect(openSharedStores(parseConfig({}).store, new ManualClock(0))).rejects.toBeInstanceOf(ConfigError);
    const config = parseConfig({ store: { kind: 'postgres', url: TEST_PG_URL, schema: testSchema() } });
    await expect(startVigil(config)).rejects.toThrow(/not yet servable[\s\S]*ask executor/);
  });
});
