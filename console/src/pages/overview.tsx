/**
 * Overview: live counters (GET /v1/status, refreshed every 5 s and at each new alert), alerts
 * and incidents over time and alerts by severity (server aggregates over every stored one) and
 * by model, and the map of vehicles with open incidents. The charts (recharts) and the map
 * (d3-geo and the country shapes) are chunks of their own, fetched as this module loads, in
 * parallel with the data (overview-data.ts), so neither waits for the other.
 */
import { useQuery } from '@tanstack/react-query';
import { lazy, Suspense } from 'react';
import { useNavigate } from 'react-router';
import { useLive } from '../live';
import { mapVehicles, overviewQueries, positionsQuery } from '../overview-data';
import { useCred } from '../session';

// Started now, not when first rendered: the chunks download while the data is asked for.
const chartsChunk = import('../components/overview-charts');
const mapChunk = import('../components/world-map');
const OverviewCharts = lazy(() => chartsChunk);
const WorldMap = lazy(() => mapChunk.then((m) => ({ default: m.WorldMap })));

const CHART_TITLES = ['Alerts over time, by severity', 'Incidents over time, by creation', 'Alerts by severity (all stored)', 'Alerts by model (last 30 days)'];

export function OverviewPage() {
  const cred = useCred();
  const live = useLive();
  const navigate = useNavigate();
  const status = useQuery({ ...overviewQueries.status(cred), refetchInterval: 5000 });
  const open = useQuery(overviewQueries.open(cred));
  const charts = useQuery(overviewQueries.charts(cred));
  const vehicles = mapVehicles(open.data?.items ?? []);
  const positions = useQuery({ ...positionsQuery(cred, vehicles), enabled: open.isSuccess });
  const points = (positions.data ?? []).map((p) => ({ id: p.id, lat: p.lat, lon: p.lon, label: `${p.model ?? 'vehicle'} ${p.id}`, href: `/vehicles/${p.id}` }));
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
      {charts.error && <p role="alert" className="error">{(charts.error as Error).message}</p>}
      <div className="grid2">
        <Suspense fallback={CHART_TITLES.map((t) => <ChartPlaceholder key={t} title={t} />)}>
          <OverviewCharts data={charts.data} />
        </Suspense>
      </div>
      <section className="card" aria-labelledby="map-title">
        <h2 id="map-title">Vehicles with open incidents ({positions.data ? `${points.length} located` : '…'})</h2>
        <Suspense fallback={<div className="map map-placeholder" aria-hidden="true" />}>
          <WorldMap points={points} onOpen={(p) => navigate(p.href)} />
        </Suspense>
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

/** The size of a chart card while its chunk loads: the page does not jump when it arrives. */
function ChartPlaceholder({ title }: { title: string }) {
  return (
    <section className="card chart-card" aria-label={title} aria-busy="true">
      <h2>{title}</h2>
      <div className="chart-placeholder" aria-hidden="true" />
    </section>
  );
}
