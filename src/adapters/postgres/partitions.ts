/**
 * Day partitions of the time-partitioned tables (`signals`, `can_frames`), created on demand
 * right before a COPY needs them. Several writers (processes, pooled connections) may need the
 * same new day at once, so creation runs in its own short transaction under an advisory lock
 * per (schema, table): the first creates the partition, the others find it there. There is no
 * default partition — a row always lands in its day's — so a new day never has to scan one.
 *
 * Partitions are named `<table>_d<yyyymmdd>` and cover [00:00, 24:00) UTC of their day.
 * Days already seen by this process are cached; dropping a partition behind a running process
 * (retention) must go through `forget()`.
 */
import { StoreError } from '../../core/errors.js';
import type { PgPool } from './connection.js';

/** Tables partitioned by day on `ts`. */
export type PartitionedTable = 'signals' | 'can_frames';

const DAY_MS = 86_400_000;
/** Second key of the partition-creation advisory lock is hashtext('<schema>.<table>'). */
const LOCK_CLASS_PARTITION = 0x5649_4702;
/**
 * New days one write may open. A batch spanning more is almost surely a clock fault; refusing
 * it keeps a bad device from creating thousands of tables.
 */
export const MAX_NEW_DAYS_PER_WRITE = 366;

/** The partition name of `day` (days since the epoch). */
export function partitionName(table: PartitionedTable, day: number): string {
  return `${table}_d${new Date(day * DAY_MS).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

/** Creates missing day partitions; one instance per pool. */
export class DayPartitions {
  private readonly known = new Map<PartitionedTable, Set<number>>();

  constructor(private readonly pool: PgPool) {}

  /** Makes sure every day in `days` has its partition of `table`. */
  async ensure(table: PartitionedTable, days: Iterable<number>): Promise<void> {
    const seen = this.known.get(table) ?? new Set<number>();
    this.known.set(table, seen);
    const missing = [...days].filter((d) => !seen.has(d));
    if (missing.length === 0) return;
    if (missing.length > MAX_NEW_DAYS_PER_WRITE) {
      throw new StoreError(`one write spans ${missing.length} new days of ${table}; at most ${MAX_NEW_DAYS_PER_WRITE} are created at once (clock fault?)`);
    }
    // Which exist already (made by another process)? One query, no lock.
    const names = missing.map((d) => partitionName(table, d));
    const rows = await this.pool.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relname = ANY($2)`,
      [this.pool.schema, names],
    );
    const present = new Set(rows.map((r) => r.name));
    const create = missing.filter((d) => !present.has(partitionName(table, d)));
    if (create.length > 0) {
      await this.pool.transaction(async (client) => {
        await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_CLASS_PARTITION, `${this.pool.schema}.${table}`]);
        for (const day of create) {
          const from = new Date(day * DAY_MS).toISOString();
          const to = new Date((day + 1) * DAY_MS).toISOString();
          await client.run(
            `CREATE TABLE IF NOT EXISTS ${partitionName(table, day)} PARTITION OF ${table} FOR VALUES FROM ('${from}') TO ('${to}')`,
          );
        }
      });
    }
    for (const d of missing) seen.add(d);
  }

  /** Forgets cached days (after partitions were dropped), so the next write re-checks them. */
  forget(): void {
    this.known.clear();
  }
}
