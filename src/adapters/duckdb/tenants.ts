/**
 * Tenant names <-> small integer ids. Rows store the id (USMALLINT, 2 bytes a row on the signals
 * hot path); a name gets its id on the first write that carries it, and ids are never reused.
 * Reads never create a tenant: an unknown name simply has no rows.
 *
 * Known ids are cached: this process is the database's only writer (DuckDB locks the file).
 * Every method assumes the caller holds the connection's turn and is outside a transaction, so
 * a rolled-back write cannot leave a cached id that the database forgot.
 */
import { StoreError } from '../../core/errors.js';
import type { SerialConnection } from './connection.js';

/** The largest tenant id a USMALLINT holds. */
export const MAX_TENANT_ID = 65_535;

/** Resolves tenant names to ids, registering new names on write. */
export class TenantRegistry {
  private readonly ids = new Map<string, number>();

  constructor(private readonly db: SerialConnection) {}

  /** The id of `name`, or undefined when no row was ever written for it. */
  async find(name: string): Promise<number | undefined> {
    const cached = this.ids.get(name);
    if (cached !== undefined) return cached;
    const [row] = await this.db.all<{ id: number }>('SELECT id FROM tenants WHERE name = ?', [name]);
    if (row) this.ids.set(name, row.id);
    return row?.id;
  }

  /** The id of `name`, registering the tenant when it is new. */
  async ensure(name: string): Promise<number> {
    if (typeof name !== 'string' || name.length === 0) {
      throw new StoreError(`a tenant name must be a non-empty string, got ${JSON.stringify(name)}`);
    }
    const known = await this.find(name);
    if (known !== undefined) return known;
    const [row] = await this.db.all<{ next: number }>('SELECT coalesce(max(id), 0) + 1 AS next FROM tenants');
    const id = row?.next ?? 1;
    if (id > MAX_TENANT_ID) throw new StoreError(`cannot register tenant '${name}': all ${MAX_TENANT_ID} ids are used`);
    await this.db.run('INSERT INTO tenants (id, name) VALUES (?, ?)', [id, name]);
    this.ids.set(name, id);
    return id;
  }

  /** Ids for every distinct name in `names`, registering new ones. */
  async ensureAll(names: Iterable<string>): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const name of names) if (!out.has(name)) out.set(name, await this.ensure(name));
    return out;
  }
}
