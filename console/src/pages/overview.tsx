/**
 * Overview: live counters (GET /v1/status, refreshed every 5 s and at each new alert), alerts
 * and incidents over time (the latest 1000 of each, bucketed), alerts by severity (exact
 * totals) and by model (GET /v1/fleet/counts), and the map of vehicles with open incidents.
 */
import { useQuery } from '@tanstack/react-query';
import { Bar, BarChart, CartesianGrid, Cell, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ReactElement } from 'react';
import { useNavigate } from 'react-router';
import { call, OPEN_STATES, qs, SEVERITIES, type Alert, type Credentials, type Incident, type Page } from '../api';
import { SEVERITY_COLORS } from '../components/severity';
import { WorldMap, type MapPoint } from '../components/world-map';
import { useLive } from '../live';
import { useCred } from '../session';

interface Status { stored: Record<string, number>; rates: { messagesPerS: number; signalsPerS: number; alertsPerS: number }; uptimeS: number }
interface Counts { groups: { key: Record<string, string | number | null>; count: number; vehicles: number }[] }
/** Vehicles with open incidents placed on the map at most (one request each). */
const MAP_VEHICLES = 40;

export function OverviewPage() {
  const cred = useCred();
  const live = useLive();
  const navigate = useNavigate();
  const status = useQuery({ queryKey: ['status', cred.tenant], queryFn: () => call<Status>(cred, 'GET', `/v1/status${qs({ tenant: cred.tenant })}`), refetchInterval: 5000 });
  const open = useQuery({ queryKey: ['incidents', cred.tenant, 'open-overview'], queryFn: () => call<Page<Incident>>(cred, 'GET', `/v1/incidents${qs({ state: OPEN_STATES.join(','), limit: 1000, sort: '-risk' })}`) });
  const overview = useQuery({ queryKey: ['overview', cred.tenant], queryFn: () => loadOverview(cred) });
  // Its own list of open incidents, so the positions load at once, beside the rest.
  const points = useQuery({
    queryKey: ['overview', cred.tenant, 'map'],
    queryFn: async () => locate(cred, (await call<Page<Incident>>(cred, 'GET', `/v1/incidents${qs({ state: OPEN_STATES.join(','), limit: 200, sort: '-lastAlertAt' })}`)).items),
  });
  const s = status.data;
  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">Overview</h1>
      <div className="counters" role="list" aria-label="Live counters">
        <Counter label="Vehicles" value={s?.stored['vehicles']} />
        <Counter label="Signals stored" value={s?.stored['signals']} />
        <Counter label="Alerts stored" value={s?.stored['alerts']} />
        <Counter label="Open incidents" value={open.data?.total} />
        <Counter label="New alerts (live)" value={live.count} testId="counter-live" />
        <Counter label="Signals / s" value={s?.rates.signalsPerS} />
      </div>
      {overview.error && <p role="alert" className="error">{(overview.error as Error).message}</p>}
      <div className="grid2">
        <ChartCard title={`Alerts over time (latest ${overview.data?.alertSample ?? 0})`}>
          <BarChart data={overview.data?.alertsOverTime ?? []}>
            <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
            <XAxis dataKey="label" stroke="var(--muted)" fontSize={11} /><YAxis stroke="var(--muted)" fontSize={11} allowDecimals={false} />
            <Tooltip contentStyle={{ background: 'var(--panel)', border: '1px solid var(--border)' }} />
            <Legend wrapperStyle={{ fontSize: 11 }} />
            {SEVERITIES.map((sev) => <Bar key={sev} dataKey={sev} stackId="a" fill={SEVERITY_COLORS[sev]} isAnimationActive={false} />)}
          </BarChart>
        </ChartCard>
        <ChartCard title={`Incidents over time (latest ${overview.data?.incidentSample ?? 0}, by creation)`}>
          <BarChart data={overview.data?.incidentsOverTime ?? []}>
            <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
            <XAxis dataKey="label" stroke="var(--muted)" fontSize={11} /><YAxis stroke="var(--muted)" fontSize={11} allowDecimals={false} />
            <Tooltip contentStyle={{ background: 'var(--panel)', border: '1px solid var(--border)' }} />
            <Bar dataKey="count" name="incidents" fill="#4f9dde" isAnimationActive={false} />
          </BarChart>
        </ChartCard>
        <ChartCard title="Alerts by severity (all stored)">
          <BarChart data={overview.data?.bySeverity ?? []} layout="vertical">
            <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
            <XAxis type="number" stroke="var(--muted)" fontSize={11} allowDecimals={false} /><YAxis type="category" dataKey="severity" stroke="var(--muted)" fontSize={11} width={70} />
            <Tooltip contentStyle={{ background: 'var(--panel)', border: '1px solid var(--border)' }} />
            <Bar dataKey="count" name="alerts" isAnimationActive={false}>
              {(overview.data?.bySeverity ?? []).map((d) => <Cell key={d.severity} fill={SEVERITY_COLORS[d.severity]} />)}
            </Bar>
          </BarChart>
        </ChartCard>
        <ChartCard title="Alerts by model (last 30 days)">
          <BarChart data={overview.data?.byModel ?? []} layout="vertical">
            <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
            <XAxis type="number" stroke="var(--muted)" fontSize={11} allowDecimals={false} /><YAxis type="category" dataKey="model" stroke="var(--muted)" fontSize={11} width={110} />
            <Tooltip contentStyle={{ background: 'var(--panel)', border: '1px solid var(--border)' }} />
            <Bar dataKey="count" name="alerts" fill="#c764d8" isAnimationActive={false} />
          </BarChart>
        </ChartCard>
      </div>
      <section className="card" aria-labelledby="map-title">
        <h2 id="map-title">Vehicles with open incidents ({points.data?.length ?? 0} located)</h2>
        <WorldMap points={points.data ?? []} onOpen={(p) => navigate(p.href)} />
      </section>
    </section>
  );
}

function Counter({ label, value, testId }: { label: string; value: number | undefined; testId?: string }) {
  return (
    <div className="counter card" role="listitem" data-testid={testId}>
      <span className="value">{value === undefined ? '…' : value.toLocaleString()}</span>
      <span className="label">{label}</span>
    </div>
  );
}

function ChartCard({ title, children }: { title: string; children: ReactElement }) {
  return (
    <section className="card chart-card" aria-label={title}>
      <h2>{title}</h2>
      <ResponsiveContainer width="100%" height={220}>{children}</ResponsiveContainer>
    </section>
  );
}

async function loadOverview(cred: Credentials) {
  const [alerts, incidents, models, ...severities] = await Promise.all([
    call<Page<Alert>>(cred, 'GET', '/v1/alerts?limit=1000'),
    call<Page<Incident>>(cred, 'GET', '/v1/incidents?limit=1000&sort=-createdAt'),
    call<Counts>(cred, 'GET', '/v1/fleet/counts?of=alerts&by=model&limit=12'),
    ...SEVERITIES.map((s) => call<Page<Alert>>(cred, 'GET', `/v1/alerts?severity=${s}&limit=1`)),
  ]);
  const alertBuckets = buckets(alerts.items.map((a) => a.time));
  const alertsOverTime = alertBuckets.map((b) => ({ label: b.label, ...Object.fromEntries(SEVERITIES.map((s) => [s, 0])) } as Record<string, string | number>));
  for (const a of alerts.items) {
    const row = alertsOverTime[bucketOf(alertBuckets, a.time)]!;
    row[a.severity] = (row[a.severity] as number) + 1;
  }
  const incBuckets = buckets(incidents.items.map((i) => i.createdAt));
  const incidentsOverTime = incBuckets.map((b) => ({ label: b.label, count: 0 }));
  for (const i of incidents.items) incidentsOverTime[bucketOf(incBuckets, i.createdAt)]!.count++;
  return {
    alertSample: alerts.items.length, incidentSample: incidents.items.length, alertsOverTime, incidentsOverTime,
    bySeverity: SEVERITIES.map((s, i) => ({ severity: s, count: severities[i]!.total })),
    byModel: models.groups.map((g) => ({ model: String(g.key['model'] ?? 'unknown'), count: g.count })),
  };
}

/** 24 equal buckets over the span of `times`, labelled by their start (UTC). */
function buckets(times: number[]): { start: number; width: number; label: string }[] {
  if (!times.length) return [];
  const lo = Math.min(...times);
  const hi = Math.max(...times) + 1;
  const width = Math.max(1000, Math.ceil((hi - lo) / 24));
  const long = hi - lo > 86_400_000;
  return Array.from({ length: Math.ceil((hi - lo) / width) }, (_, i) => {
    const start = lo + i * width;
    const iso = new Date(start).toISOString();
    return { start, width, label: long ? iso.slice(5, 16).replace('T', ' ') : iso.slice(11, 19) };
  });
}

function bucketOf(b: { start: number; width: number }[], t: number): number {
  return Math.min(b.length - 1, Math.floor((t - b[0]!.start) / b[0]!.width));
}

/** Where the vehicles of open incidents are: the live twin's last position. */
async function locate(cred: Credentials, incidents: readonly Incident[]): Promise<MapPoint[]> {
  const vehicles = [...new Set(incidents.map((i) => i.vehicle).filter((v): v is string => !!v && /^[0-9a-f]{16}$/.test(v)))].slice(0, MAP_VEHICLES);
  const twins = await Promise.all(vehicles.map((v) => call<{ id: string; identity: { model?: string }; signals: { path: string; value: unknown }[] }>(cred, 'GET', `/v1/vehicles/${v}`).catch(() => undefined)));
  const out: MapPoint[] = [];
  for (const t of twins) {
    if (!t) continue;
    const lat = t.signals.find((s) => s.path === 'Vehicle.CurrentLocation.Latitude')?.value;
    const lon = t.signals.find((s) => s.path === 'Vehicle.CurrentLocation.Longitude')?.value;
    if (typeof lat === 'number' && typeof lon === 'number') out.push({ id: t.id, lat, lon, label: `${t.identity.model ?? 'vehicle'} ${t.id}`, href: `/vehicles/${t.id}` });
  }
  return out;
}
