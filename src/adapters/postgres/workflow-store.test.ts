import { afterAll } from 'vitest';
import { runWorkflowStoreContract } from '../../../test/contract/workflow-store-contract.js';
import { PostgresStore } from './postgres-store.js';
import { dropTestSchemas, testOptions } from './test-db.js';
import { PostgresWorkflowStore } from './workflow-store.js';

afterAll(dropTestSchemas);

runWorkflowStoreContract('postgres', async () => {
  const db = await PostgresStore.open(testOptions());
  return { store: new PostgresWorkflowStore(db.connection), close: () => db.close() };
});
