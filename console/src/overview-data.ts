/**
 * What the overview reads, and the queries that read it, apart from the page so that main.tsx
 * can start them while the session is still being checked (a reload draws the overview one
 * round trip sooner). Server aggregates only: the counts per time bucket over every stored alert
 * and incident (GET /v1/alerts/timeline), alerts by model (GET /v1/fleet/counts), the live
 * counters (GET /v1/status) and the open incidents, whose vehicles' positions come in one
 * request (GET /v1/vehicles/positions).
 */
import type { QueryClient } from '@tanstack/react-query';
import { call, OPEN_STATES, qs, SEVERITIES, type Credentials, type Incident, type Page, type Severity } from './api';

export interface Status { stored: Record<string, number>; rates: { messagesPerS: number; signalsPerS: number; alertsPerS: number }; uptimeS: number }
export interface Timeline {
  from: number; to: number; bucketMs: number;
  buckets: ({ start: number; incidents: number } & Record<Severity, number>)[];
  bySeverity: Record<Severity, number>;
}
interface Counts { groups: { key: Record<string, string | number | null>; count: number; vehicles: number }[] }
export interface Position { id: string; model: string | null; lat: number; lon: number }
export interface ChartData {
  alertsOverTime: Record<string, string | number>[];
  incidentsOverTime: { label: string; count: number }[];
  bySeverity: { severity: Severity; count: number }[];
  byModel: { model: string; count: number }[];
  bucketLabel: string;
}

/** Buckets of the over-time charts at most. */
const BUCKETS = 24;
/** Open incidents whose vehicles go on the map at most (one positions request). */
export const MAP_VEHICLES = 100;

const statusQuery = (cred: Credentials) => ({ queryKey: ['status', cred.tenant], queryFn: () => call<Status>(cred, 'GET', `/v1/status${qs({ tenant: cred.tenant })}`) });
const openQuery = (cred: Credentials) => ({
  queryKey: ['incidents', cred.tenant, 'open-overview'],
  queryFn: () => call<Page<Incident>>(cred, 'GET', `/v1/incidents${qs({ state: OPEN_STATES.join(','), limit: MAP_VEHICLES * 2, sort: '-lastAlertAt' })}`),
});
const chartsQuery = (cred: Credentials) => ({ queryKey: ['overview', cred.tenant, 'charts'], queryFn: () => loadCharts(cred) });

export const overviewQueries = { status: statusQuery, open: openQuery, charts: chartsQuery };

/** Starts the overview's requests now (their answers wait in the cache for the page). */
export function prefetchOverview(client: QueryClient, cred: Credentials): void {
  void client.prefetchQuery(statusQuery(cred));
  void client.prefetchQuery(chartsQuery(cred));
  // The map's positions right after the open incidents, not once the page has rendered them.
  void client.fetchQuery(openQuery(cred)).then((open) => client.prefetchQuery(positionsQuery(cred, mapVehicles(open.items))), () => undefined);
}

/** The vehicles of open incidents, newest activity first, at most MAP_VEHICLES. */
export function mapVehicles(open: readonly Incident[]): string[] {
  return [...new Set(open.map((i) => i.vehicle).filter((v): v is string => !!v && /^[0-9a-f]{16}$/.test(v)))].slice(0, MAP_VEHICLES);
}

export const positionsQuery = (cred: Credentials, vehicles: readonly string[]) => ({
  queryKey: ['overview', cred.tenant, 'positions', vehicles.join(',')],
  queryFn: async () => (vehicles.length ? (await call<{ items: Position[] }>(cred, 'GET', `/v1/vehicles/positions${qs({ vehicles: vehicles.join(',') })}`)).items : []),
});

async function loadCharts(cred: Credentials): Promise<ChartData> {
  const [tl, models] = await Promise.all([
    call<Timeline>(cred, 'GET', `/v1/alerts/timeline${qs({ buckets: BUCKETS })}`),
    call<Counts>(cred, 'GET', '/v1/fleet/counts?of=alerts&by=model&limit=12'),
  ]);
  const long = tl.to - tl.from > 86_400_000;
  const label = (t: number) => {
    const iso = new Date(t).toISOString();
    return long ? iso.slice(5, 16).replace('T', ' ') : tl.bucketMs >= 60_000 ? iso.slice(11, 16) : iso.slice(11, 19);
  };
  return {
    alertsOverTime: tl.buckets.map((b) => ({ label: label(b.start), ...Object.fromEntries(SEVERITIES.map((s) => [s, b[s] ?? 0])) })),
    incidentsOverTime: tl.buckets.map((b) => ({ label: label(b.start), count: b.incidents })),
    // Most severe on top.
    bySeverity: [...SEVERITIES].reverse().map((s) => ({ severity: s, count: tl.bySeverity[s] ?? 0 })),
    byModel: models.groups.map((g) => ({ model: String(g.key['model'] ?? 'unknown'), count: g.count })),
    bucketLabel: fmtSpan(tl.bucketMs),
  };
}

/** `15 min`, `1 h`, `30 s`: a bucket's width. */
function fmtSpan(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}
