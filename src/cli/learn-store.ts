/**
 * `vigil learn can --from-store`: a CAN profile learnt from the raw frames the pipeline stored
 * for one vehicle in a learning window (`--since`, `--until`), read back through the Store
 * port page by page. The vehicle is named by VIN and found by its pseudonym, so the secret of
 * the store's deployment is needed (the config's `normalize.secretEnv` or the data directory's
 * `pseudonym.secret`; never created here). A silence longer than LEARN_SEGMENT_GAP_MS (the
 * vehicle was off) ends a recording, so it is not learnt as a gap of the bus.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { CanFrameBatchBuilder } from '../core/can.js';
import { ConfigError } from '../core/errors.js';
import type { Store } from '../core/store.js';
import { DuckDBStore } from '../adapters/duckdb/duckdb-store.js';
import { CanLearner, type CanProfile, type LearnOptions } from '../detect/can/index.js';
import { Pseudonymizer } from '../normalize/pseudonym.js';
import { parseConfig, parseConfigYaml, type VigilConfig } from '../runtime/config.js';

/** Frames read from the store per query. */
export const LEARN_PAGE_FRAMES = 100_000;
/** A silence this long between stored frames ends a recording (the vehicle was off). */
export const LEARN_SEGMENT_GAP_MS = 10_000;

export interface StoreWindow {
  readonly tenant: string;
  /** The vehicle's pseudonymized key. */
  readonly vehicle: string;
  /** Epoch ms, inclusive. */
  readonly since: number;
  /** Epoch ms, exclusive. */
  readonly until: number;
}

/** Learn from one vehicle's stored frames in a window; throws when there are none. */
export async function learnFromStore(store: Store, w: StoreWindow, options: LearnOptions): Promise<CanProfile> {
  const learner = new CanLearner(options);
  const builder = (): CanFrameBatchBuilder => new CanFrameBatchBuilder({ tenant: w.tenant, vin: w.vehicle, source: 'store' }, 4096, 64);
  let from = w.since;
  /** Frames at exactly `from` already learnt: a page may end inside one microsecond. */
  let seenAtFrom = 0;
  let frames = 0;
  let last = Number.NaN;
  for (;;) {
    const rows = await store.queryCanFrames({ tenant: w.tenant, vehicle: w.vehicle, from, to: w.until, limit: LEARN_PAGE_FRAMES });
    let b = builder();
    let skip = seenAtFrom;
    for (const r of rows) {
      if (skip > 0 && r.time === from) {
        skip--;
        continue;
      }
      if (r.time - last > LEARN_SEGMENT_GAP_MS) {
        if (b.size > 0) learner.add(b.build());
        learner.endSegment();
        b = builder();
      }
      b.push(r.time, r.id, r.data);
      last = r.time;
      frames++;
    }
    if (b.size > 0) learner.add(b.build());
    if (rows.length < LEARN_PAGE_FRAMES) break;
    const end = rows[rows.length - 1]!.time;
    seenAtFrom = rows.filter((r) => r.time === end).length;
    if (end === from && seenAtFrom >= LEARN_PAGE_FRAMES) throw new ConfigError('cannot page the stored frames', [`over ${LEARN_PAGE_FRAMES} frames at ${end}`]);
    from = end;
  }
  if (frames === 0) throw new ConfigError('nothing to learn from', [`no CAN frames stored for ${w.vehicle} (tenant ${w.tenant}) from ${new Date(w.since).toISOString()} to ${new Date(w.until).toISOString()}`]);
  return learner.profile();
}

/** The config (`--config`, or the defaults), its store opened read-write, and the pseudonym of `vin`. */
export async function openStoreFor(configFile: string | undefined, tenant: string | undefined, vin: string): Promise<{ store: Store; tenant: string; vehicle: string; config: VigilConfig }> {
  const config = configFile === undefined ? parseConfig({}) : parseConfigYaml(readFileSync(configFile, 'utf8'), configFile);
  const path = isAbsolute(config.store.path) ? config.store.path : join(config.dataDir, config.store.path);
  if (config.store.path === ':memory:' || !existsSync(path)) throw new ConfigError('no store to learn from', [`store.path: ${path} does not exist`]);
  const fromEnv = process.env[config.normalize.secretEnv];
  const secretFile = join(config.dataDir, 'pseudonym.secret');
  if (!fromEnv && !existsSync(secretFile)) throw new ConfigError('cannot find the vehicle', [`set ${config.normalize.secretEnv} or keep ${secretFile}: the pseudonym secret the store was written with`]);
  const secret = fromEnv || readFileSync(secretFile, 'utf8').trim();
  const t = tenant ?? config.tenant;
  const store = await DuckDBStore.open({ path });
  return { store, tenant: t, vehicle: new Pseudonymizer(secret).key(t, vin), config };
}
