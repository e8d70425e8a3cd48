/**
 * Dead-letter replay after a fix: a signal the built-in catalog lacks is refused; with the
 * full VSS 6.0 catalog loaded, replaying the dead letters stores it and removes them.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startVigil } from '../src/api/vigil.js';
import { makeVin } from '../src/normalize/vin.js';
import { parseConfig } from '../src/runtime/config.js';
import { apiToken, bearer } from './http-helpers.js';

const VSS6 = resolve(import.meta.dirname, '../../shared/datasets/vss/vss_release_6.0.json');
const present = existsSync(VSS6);
if (!present && process.env.CI === 'true') throw new Error(`dataset missing under CI: ${VSS6}`);
const run = promisify(execFile);

async function refuseHorn(dataDir: string, n: number): Promise<void> {
  // One lane: this only sets up dead letters (each worker thread costs ~2 s of CPU to load from source).
  const v = await startVigil(parseConfig({ dataDir, http: { enabled: false }, runtime: { workers: 1 } }));
  const vin = makeVin({ wmi: 'YV4', vds: 'A22RK', year: 2023, plant: '2' }, 77);
  for (let i = 0; i < n; i++) {
    await v.pipeline.push({ kind: 'signals', tenant: 'demo', source: 'test', receivedAt: Date.now(), payload: JSON.stringify({ vin, ts: Date.now() - 1000 + i, signals: { 'Vehicle.Speed': 10, 'Vehicle.Body.Horn.IsActive': true } }) });
  }
  await v.pipeline.drain();
  expect((await v.store.listDeadLetters({ code: 'signal.unknown', limit: 100 })).length).toBe(n);
  await v.stop();
}

describe.skipIf(!present)('dead-letter replay', () => {
  it('replays through a running server after the catalog is fixed', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-replay-'));
    await refuseHorn(dataDir, 5);
    const fixed = await startVigil(parseConfig({ dataDir, http: { port: 0 }, catalog: { vss: [VSS6] } }));
    try {
      const auth = bearer(await apiToken(fixed, 'admin', fixed.config.tenant));
      const res = await fetch(`${fixed.url}/v1/dead-letters/replay`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ code: 'signal.unknown' }) });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ selected: 5, replayed: 5, deadAgain: 0, skipped: 0 });
      expect(await fixed.store.listDeadLetters({ limit: 10 })).toEqual([]);
      expect((await fixed.store.counts('demo')).signals).toBe(5 + 5); // 5 speeds first time, 5 horns now
      const bad = await fetch(`${fixed.url}/v1/dead-letters/replay`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ limit: -1 }) });
      expect(bad.status).toBe(400);
    } finally {
      await fixed.stop();
    }
  });

  it('replays offline from the CLI with the fixed config, and keeps what is refused again', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-replay-cli-'));
    await refuseHorn(dataDir, 3);
    const config = join(dataDir, 'fixed.yaml');
    writeFileSync(config, `dataDir: ${dataDir}\ncatalog:\n  vss: [${VSS6}]\n`);
    const { stdout } = await run(process.execPath, ['bin/vigil.js', 'dlq', 'replay', '--url', 'http://127.0.0.1:59999', '-c', config], { env: { ...process.env, VIGIL_FROM_SOURCE: '1' } });
    expect(stdout).toMatch(/^replayed 3 of 3 dead letters \(store in .*\); 0 refused again/);
    // Without the fix, a replay moves the dead letters to the replay's source: nothing is lost.
    await refuseHorn(dataDir, 2);
    const again = await run(process.execPath, ['bin/vigil.js', 'dlq', 'replay', '--url', 'http://127.0.0.1:59999', '--data-dir', dataDir], { env: { ...process.env, VIGIL_FROM_SOURCE: '1' } });
    expect(again.stdout).toMatch(/replayed 2 of 2 dead letters .*; 2 refused again \(vigil dlq list --source dlq-replay-[0-9a-f]{8}\)/);
  }, 180_000); // two CLI processes, each loading Vigil from source (tsx); 60 s ran out at load ~10
});
