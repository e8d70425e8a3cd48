/**
 * The persisted signal-id dictionary (VSS path <-> catalog id). Ids end up in every stored signal
 * row, so the dictionary only grows: saving an entry already stored is a no-op, and an entry that
 * contradicts a stored one (same id for another path, or same path under another id) rejects the
 * whole call rather than re-pointing rows already written.
 */
import { StoreError } from '../../core/errors.js';
import type { SerialConnection, SqlParam } from './connection.js';
import { insertRows } from './sql.js';

interface Entry {
  readonly id: number;
  readonly path: string;
}

/** path -> id. The caller holds the connection's turn. */
export async function loadSignalDictionary(db: SerialConnection): Promise<Map<string, number>> {
  const rows = await db.all<Entry>('SELECT id, path FROM signal_dict');
  return new Map(rows.map((r) => [r.path, r.id]));
}

/** Adds the new entries of `entries` in one transaction. The caller holds the connection's turn. */
export async function saveSignalDictionary(db: SerialConnection, entries: readonly Entry[]): Promise<void> {
  const stored = await db.all<Entry>('SELECT id, path FROM signal_dict');
  const byId = new Map(stored.map((r) => [r.id, r.path]));
  const byPath = new Map(stored.map((r) => [r.path, r.id]));
  const fresh: SqlParam[][] = [];
  for (const { id, path } of entries) {
    if (!Number.isInteger(id) || id < 0 || id > 0xffff_ffff || typeof path !== 'string' || path === '') {
      throw new StoreError(`invalid signal dictionary entry ${JSON.stringify({ id, path })}`);
    }
    if (byId.get(id) === path) continue;
    const clash = byId.has(id)
      ? `${id} -> '${byId.get(id)}'`
      : byPath.has(path)
        ? `${byPath.get(path)} -> '${path}'`
        : undefined;
    if (clash) throw new StoreError(`signal dictionary conflict: ${id} -> '${path}' contradicts ${clash}`);
    byId.set(id, path);
    byPath.set(path, id);
    fresh.push([id, path]);
  }
  if (fresh.length) await db.transaction(() => insertRows(db, 'signal_dict', ['id', 'path'], fresh));
}
