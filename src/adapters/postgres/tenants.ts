/**
 * Tenant names <-> small integer ids, as in the DuckDB adapter: rows store the id, a name gets
 * its id on the first write that carries it, ids are never reused, and reads never create a
 * tenant. Several processes may register the same new name at once: the unique name and
 * `ON CONFLICT DO NOTHING` make the first win and the others read its id. Ids are cached once
 * known (they never change); registration commits on its own, outside any write transaction,
 * so a rolled-back write cannot leave a cached id the database forgot.
 */
import { StoreError } from '../../core/errors.js';
import type { Queryable } from './connection.js';

/** Resolves tenant names to ids, registering new names on write. */
export class TenantRegistry {
  private readonly ids = new Map<string, number>();

  constructor(private readonly db: Queryable) {}

  /** The id of `name`, or undefined when no row was ever written for it. */
  async find(name: string): Promise<number | undefined> {
    const cached = this.ids.get(name);
    if (cached !== undefined) return cached;
    const [row] = await this.db.query<{ id: number }>('SELECT id FROM tenants WHERE name = $1', [name]);
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
    await this.db.run('INSERT INTO tenants (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [name]);
    const id = await this.find(name);
    if (id === undefined) throw new StoreError(`tenant '${name}' was registered but cannot be read back`);
    return id;
  }

  /** Ids for every distinct name in `names`, registering new ones. */
  async ensureAll(names: Iterable<string>): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const name of names) if (!out.has(name)) out.set(name, await this.ensure(name));
    return out;
  }
}
