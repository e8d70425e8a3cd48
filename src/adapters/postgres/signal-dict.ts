/**
 * The persisted signal-id dictionary (VSS path <-> catalog id). Ids end up in every stored signal
 * row, so the dictionary only grows: saving an entry already stored is a no-op, and an entry that
 * contradicts a stored one (same id for another path, or same path under another id) rejects the
 * whole call rather than re-pointing rows already written. Savers from several processes take
 * the table's EXCLUSIVE lock (readers are not blocked), so the check and the insert see the same
 * dictionary.
 */
import { StoreError } from '../../core/errors.js';
import type { PgPool } from './connection.js';

interface Entry {
  readonly id: number;
  readonly path: string;
}

/** path -> id. */
export async function loadSignalDictionary(pool: PgPool): Promise<Map<string, number>> {
  const rows = await pool.query<{ id: string; path: string }>('SELECT id, path FROM signal_dict');
  return new Map(rows.map((r) => [r.path, Number(r.id)]));
}

/** Adds the new entries of `entries` in one transaction. */
export async function saveSignalDictionary(pool: PgPool, entries: readonly Entry[]): Promise<void> {
  for (const { id, path } of entries) {
    if (!Number.isInteger(id) || id < 0 || id > 0xffff_ffff || typeof path !== 'string' || path === '') {
      throw new StoreError(`invalid signal dictionary entry ${JSON.stringify({ id, path })}`);
    }
  }
  if (entries.length === 0) return;
  await pool.transaction(async (client) => {
    await client.run('LOCK TABLE signal_dict IN EXCLUSIVE MODE');
    const stored = await client.query<{ id: string; path: string }>('SELECT id, path FROM signal_dict');
    const byId = new Map(stored.map((r) => [Number(r.id), r.path]));
    const byPath = new Map(stored.map((r) => [r.path, Number(r.id)]));
    const fresh: Entry[] = [];
    for (const { id, path } of entries) {
      if (byId.get(id) === path) continue;
      const clash = byId.has(id)
        ? `${id} -> '${byId.get(id)}'`
        : byPath.has(path)
          ? `${byPath.get(path)} -> '${path}'`
          : undefined;
      if (clash) throw new StoreError(`signal dictionary conflict: ${id} -> '${path}' contradicts ${clash}`);
      byId.set(id, path);
      byPath.set(path, id);
      fresh.push({ id, path });
    }
    if (fresh.length === 0) return;
    await client.run('INSERT INTO signal_dict (id, path) SELECT * FROM unnest($1::bigint[], $2::text[])', [
      fresh.map((e) => e.id),
      fresh.map((e) => e.path),
    ]);
  });
}
