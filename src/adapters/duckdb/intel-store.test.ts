/**
 * Intel storage and exposure on a real DuckDB holding a generated fleet of two tenants (the
 * simulator's fleet, test/fleet-fixture.ts) with the demo SBOMs (src/sim/sboms.ts) and the
 * demo advisories (examples/intel). Every expected answer is computed here, in plain JS, from
 * the same vehicles with SbomIndex and matchSbom, and compared with what the SQL returns.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert, VehicleRecord } from '../../core/records.js';
import { importFeedDocuments, type FeedDocument } from '../../intel/feeds/index.js';
import { matchSbom } from '../../intel/match/index.js';
import { SbomIndex } from '../../intel/sbom/binding.js';
import { parseCycloneDx } from '../../intel/sbom/cyclonedx.js';
import type { Sbom } from '../../intel/sbom/types.js';
import { ManualClock } from '../../core/clock.js';
import { IntelService } from '../../runtime/intel-service.js';
import { demoSboms } from '../../sim/sboms.js';
import { fleetFixture } from '../../../test/fleet-fixture.js';
import { DuckDBStore } from './duckdb-store.js';
import { DuckDBIntelStore } from './intel-store.js';

const T = 'acme';
const OTHER = 'globex';
const EXAMPLES = join(import.meta.dirname, '../../../examples/intel');
const feed: FeedDocument[] = readdirSync(EXAMPLES).filter((f) => f.endsWith('.json')).sort().map((f) => ({ name: f, text: readFileSync(join(EXAMPLES, f), 'utf8') }));
const fx = fleetFixture({ seed: 5, vehicles: 4000, tenants: [T, OTHER], noisyShare: 0, alertsPerNoisy: 0, planted: 10, end: Date.UTC(2026, 1, 1), days: 1, incidents: false });
// One vehicle of ours reports its ECU name in another case and its version with spaces around: the binding still holds.
const odd = fx.vehicles.find((v) => v.tenant === T && v.make === 'Tesla' && v.software?.['IVI'] === '2024.45.32.12')!;
const vehicles: VehicleRecord[] = fx.vehicles.map((v) => v === odd ? { ...v, software: { ...Object.fromEntries(Object.entries(v.software!).filter(([k]) => k !== 'IVI')), ivi: ' 2024.45.32.12 ' } } : v);

// ---- the expected answers, from the rows -----------------------------------------------------

const expected = (() => {
  const imp = importFeedDocuments(feed);
  const sboms: Sbom[] = demoSboms().map((s) => parseCycloneDx(s.doc, { document: s.name }).sbom!);
  const index = new SbomIndex(sboms);
  const exposing = new Map<Sbom, Map<string, 'affected' | 'needs_review'>>();
  for (const s of sboms) {
    const byVuln = new Map<string, 'affected' | 'needs_review'>();
    for (const m of matchSbom(s, imp.vulnerabilities, { csaf: imp.csaf, vex: imp.vex })) {
      if (m.result === 'affected') byVuln.set(m.vulnerabilityId, 'affected');
      else if (m.result === 'needs_review' && !byVuln.has(m.vulnerabilityId)) byVuln.set(m.vulnerabilityId, 'needs_review');
    }
    exposing.set(s, byVuln);
  }
  /** vulnerability -> vehicle -> result, for our tenant. */
  const out = new Map<string, Map<string, 'affected' | 'needs_review'>>();
  for (const v of vehicles.filter((x) => x.tenant === T)) {
    for (const s of index.forVehicle(v)) {
      for (const [id, r] of exposing.get(s)!) {
        const per = out.get(id) ?? new Map<string, 'affected' | 'needs_review'>();
        if (per.get(v.id) !== 'affected') per.set(v.id, r);
        out.set(id, per);
      }
    }
  }
  return out;
})();
const byId = new Map(vehicles.filter((v) => v.tenant === T).map((v) => [v.id, v]));

let store: DuckDBStore;
let intel: DuckDBIntelStore;
let service: IntelService;
const offered: Alert[] = [];
const clock = new ManualClock(Date.UTC(2026, 1, 15));

beforeAll(async () => {
  store = await DuckDBStore.open({ path: ':memory:' });
  await store.upsertVehicles(vehicles);
  intel = new DuckDBIntelStore(store.connection);
  service = new IntelService({ store: intel, clock, insertAlerts: (a) => store.insertAlerts(a), offerAlerts: (a) => offered.push(...a) });
  await service.importFeeds(feed, { tenant: T, actor: 'test' });
  await service.importSboms(demoSboms().map((s) => ({ name: s.name, text: JSON.stringify(s.doc) })), { tenant: T, actor: 'test' });
}, 120_000);
afterAll(async () => store?.close());

describe('exposure over vehicles x SBOM binding x matches', () => {
  it('the demo advisories expose vehicles (the test has something to compare)', () => {
    expect(expected.get('VIGIL-DEMO-2026-0001')?.size).toBeGreaterThan(50);
    expect(expected.get('VIGIL-DEMO-2026-0002')?.size).toBeGreaterThan(50);
    expect(expected.get('VIGIL-DEMO-2026-0001')!.has(odd.id)).toBe(true);
  });

  for (const id of ['VIGIL-DEMO-2026-0001', 'VIGIL-DEMO-2026-0002', 'VIGIL-DEMO-2026-0003']) {
    it(`${id}: the same vehicles, results and counts by make, model, year and region as computed in JS`, async () => {
      const want = expected.get(id)!;
      const list = await intel.exposedVehicles(T, id, { limit: 100_000 });
      expect(new Map(list.map((v) => [v.vehicle, v.result]))).toEqual(want);
      const e = await intel.exposure(T, id);
      expect(e.vehicles).toBe(want.size);
      expect(e.affected).toBe([...want.values()].filter((r) => r === 'affected').length);
      const count = (f: (v: VehicleRecord) => unknown): Map<unknown, number> => {
        const m = new Map<unknown, number>();
        for (const vid of want.keys()) m.set(f(byId.get(vid)!), (m.get(f(byId.get(vid)!)) ?? 0) + 1);
        return m;
      };
      expect(new Map(e.byMake.map((r) => [r.make, r.vehicles]))).toEqual(count((v) => v.make));
      expect(new Map(e.byModel.map((r) => [`${r.make}/${r.model}`, r.vehicles]))).toEqual(count((v) => `${v.make}/${v.model}`));
      expect(new Map(e.byYear.map((r) => [r.year, r.vehicles]))).toEqual(count((v) => v.year));
      expect(new Map(e.byRegion.map((r) => [r.region, r.vehicles]))).toEqual(count((v) => v.region));
      expect(e.bySoftware.reduce((a, r) => a + r.vehicles, 0)).toBeGreaterThanOrEqual(want.size);
      // paging walks the same list
      const page1 = await intel.exposedVehicles(T, id, { limit: 10 });
      const page2 = await intel.exposedVehicles(T, id, { limit: 10, offset: 10 });
      expect([...page1, ...page2].map((v) => v.vehicle)).toEqual(list.slice(0, 20).map((v) => v.vehicle));
    });
  }

  it('a vehicle lists the vulnerabilities exposing it, with basis and confidence', async () => {
    const vs = await intel.vehicleVulnerabilities(T, odd.id);
    const want = [...expected].filter(([, per]) => per.has(odd.id)).map(([id]) => id).sort();
    expect(vs.map((v) => v.id).sort()).toEqual(want);
    const bt = vs.find((v) => v.id === 'VIGIL-DEMO-2026-0001')!;
    expect(bt).toMatchObject({ result: 'affected', basis: 'purl+range', confidence: 0.95, components: ['pkg:generic/bluez@5.55'] });
    expect(bt.ecus).toEqual([{ ecu: 'ivi', softwareVersion: ' 2024.45.32.12 ' }]);
  });

  it('a vehicle whose software changes after a fleet-wide answer is counted by its new software (the unpacked pairs follow)', async () => {
    const id = 'VIGIL-DEMO-2026-0001';
    const want = expected.get(id)!;
    const a = vehicles.find((v) => v !== odd && want.has(v.id))!;
    expect((await intel.exposure(T, id)).vehicles).toBe(want.size);
    await store.upsertVehicles([{ ...a, signalCount: 0, software: { Gateway: 'none-0.0' } }]);
    const without = await intel.exposedVehicles(T, id, { limit: 100_000 });
    expect(without).toHaveLength(want.size - 1);
    expect(without.some((v) => v.vehicle === a.id)).toBe(false);
    // back, with its ECU names in another case and its versions padded: bound again
    await store.upsertVehicles([{ ...a, signalCount: 0, software: Object.fromEntries(Object.entries(a.software!).map(([k, v]) => [k.toUpperCase(), ` ${v} `])) }]);
    expect((await intel.exposure(T, id)).vehicles).toBe(want.size);
    expect((await intel.exposedVehicles(T, id, { limit: 100_000 })).find((v) => v.vehicle === a.id)?.result).toBe(want.get(a.id));
    await store.upsertVehicles([{ ...a, signalCount: 0 }]);
    expect((await intel.topExposed(T, 10)).find((v) => v.id === id)?.vehicles).toBe(want.size);
  });

  it("another tenant's vehicles running the same software are not exposed (its SBOMs are its own)", async () => {
    expect((await intel.exposure(OTHER, 'VIGIL-DEMO-2026-0001')).vehicles).toBe(0);
    const theirs = vehicles.find((v) => v.tenant === OTHER)!;
    expect(await intel.vehicleVulnerabilities(OTHER, theirs.id)).toEqual([]);
  });

  it('new intel exposing vehicles raised one fleet-level alert per vulnerability, stored', async () => {
    const ids = [...expected.keys()].sort();
    expect(offered.map((a) => a.details['cve']).sort()).toEqual(ids);
    const a = offered.find((x) => x.details['cve'] === 'VIGIL-DEMO-2026-0002')!;
    expect(a).toMatchObject({ tenant: T, rule: 'intel.new-exposure' });
    expect(a.vehicle).toBeUndefined();
    expect(a.details['exposed']).toBe(expected.get('VIGIL-DEMO-2026-0002')!.size);
    expect((await store.listAlerts({ tenant: T, limit: 100 })).filter((x) => x.rule === 'intel.new-exposure')).toHaveLength(ids.length);
    const top = await intel.topExposed(T, 2);
    expect(top).toHaveLength(2);
    expect(top[0]!.firstExposedAt).toBe(clock.now());
    expect(top[0]!.priority).toBeGreaterThanOrEqual(top[1]!.priority);
    // importing the same advisories again raises nothing new
    const again = await service.importFeeds(feed, { tenant: T, actor: 'test' });
    expect(again.alerts).toEqual([]);
    expect(again.added).toEqual([]);
  });
});

describe('VEX decisions', () => {
  it('an analyst decision flips the matches of that component and persists across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-intel-'));
    const path = join(dir, 'vigil.duckdb');
    try {
      let db = await DuckDBStore.open({ path });
      await db.upsertVehicles(vehicles);
      let svc = new IntelService({ store: new DuckDBIntelStore(db.connection), clock });
      await svc.importFeeds(feed, { tenant: T, actor: 'test' });
      for (const s of demoSboms().filter((x) => x.ecu === 'IVI')) await svc.importSbom({ name: s.name, text: JSON.stringify(s.doc) }, { tenant: T, actor: 'test' });
      const before = await new DuckDBIntelStore(db.connection).exposure(T, 'VIGIL-DEMO-2026-0001');
      expect(before.vehicles).toBe(expected.get('VIGIL-DEMO-2026-0001')!.size);
      await svc.decideVex({ tenant: T, vulnerability: 'VIGIL-DEMO-2026-0001', componentIdentity: 'pkg:generic/bluez@5.55', status: 'not_affected',
        justification: 'vulnerable_code_not_in_execute_path', reason: 'L2CAP ERTM disabled in our build', decidedBy: 'ana', decidedAt: clock.now() });
      const on555 = [...expected.get('VIGIL-DEMO-2026-0001')!.keys()].filter((id) => {
        const ivi = Object.entries(byId.get(id)!.software ?? {}).find(([k]) => k.toLowerCase() === 'ivi')?.[1]?.trim();
        return ['2024.45.32.12', 'iDrive 8 24-11-520', 'Sensus 4.12', 'Gen5W 1.9.8.052', 'DiLink 3.0.12'].includes(ivi ?? '');
      });
      expect(on555.length).toBeGreaterThan(0);
      const after = await new DuckDBIntelStore(db.connection).exposure(T, 'VIGIL-DEMO-2026-0001');
      expect(after.vehicles).toBe(before.vehicles - on555.length);
      await db.close();

      db = await DuckDBStore.open({ path });
      const reopened = new DuckDBIntelStore(db.connection);
      expect((await reopened.exposure(T, 'VIGIL-DEMO-2026-0001')).vehicles).toBe(after.vehicles);
      expect(await reopened.vexDecisions(T)).toMatchObject([{ componentIdentity: 'pkg:generic/bluez@5.55', status: 'not_affected', decidedBy: 'ana' }]);
      const flipped = (await reopened.matches(T, 'VIGIL-DEMO-2026-0001', { limit: 100 })).filter((m) => m.componentIdentity === 'pkg:generic/bluez@5.55');
      expect(flipped.length).toBeGreaterThan(0);
      expect(flipped.every((m) => m.result === 'not_affected' && m.vex?.computed === 'affected')).toBe(true);
      // matching everything again after the restart keeps the decision
      svc = new IntelService({ store: reopened, clock });
      await svc.rematchAll();
      expect((await reopened.exposure(T, 'VIGIL-DEMO-2026-0001')).vehicles).toBe(after.vehicles);
      await db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
