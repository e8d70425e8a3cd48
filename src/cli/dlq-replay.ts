/**
 * `vigil dlq replay`: through a running server's API when one answers; otherwise an embedded
 * pipeline (no sources, no HTTP) is started on the data directory, replays, and stops.
 */
import { replayDeadLetters, type ReplayResult } from '../api/dlq.js';
import { startVigil } from '../api/vigil.js';
import { parseConfig } from '../runtime/config.js';
import { readConfigFile } from './serve.js';
import { authHeaders } from './api-token.js';

export interface ReplayFlags {
  readonly url: string;
  readonly dataDir: string;
  readonly code?: string;
  readonly source?: string;
  readonly tenant?: string;
  readonly limit?: number;
  /** Config for the embedded pipeline (e.g. the catalog that fixes the refusals). */
  readonly config?: string;
}

export async function dlqReplay(flags: ReplayFlags): Promise<void> {
  const filter = {
    ...(flags.code ? { code: flags.code } : {}),
    ...(flags.source ? { source: flags.source } : {}),
    ...(flags.tenant ? { tenant: flags.tenant } : {}),
    ...(flags.limit ? { limit: flags.limit } : {}),
  };
  let result: ReplayResult;
  let where: string;
  let res: Response | undefined;
  try {
    res = await fetch(`${flags.url}/v1/dead-letters/replay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authHeaders(flags.dataDir) },
      body: JSON.stringify(filter),
      signal: AbortSignal.timeout(600_000),
    });
  } catch {
    res = undefined;
  }
  if (res) {
    if (!res.ok) throw new Error(`${flags.url} answered ${res.status}: ${await res.text()}`);
    result = (await res.json()) as ReplayResult;
    where = `server ${flags.url}`;
  } else {
    const base = flags.config ? readConfigFile(flags.config) : parseConfig({ dataDir: flags.dataDir });
    const vigil = await startVigil({ ...base, dataDir: flags.config ? base.dataDir : flags.dataDir, http: { ...base.http, enabled: false }, sources: [] });
    try {
      result = await replayDeadLetters(vigil.store, vigil.pipeline, filter);
    } finally {
      await vigil.stop();
    }
    where = `store in ${flags.dataDir}`;
  }
  process.stdout.write(
    `replayed ${result.replayed} of ${result.selected} dead letters (${where}); ${result.deadAgain} refused again ` +
      `(vigil dlq list --source ${result.replaySource}); ${result.skipped} skipped (CAN frame batches: re-import the trace)\n`,
  );
}
