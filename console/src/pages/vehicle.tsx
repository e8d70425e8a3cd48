/** One vehicle: identity, ECUs and their software, live signals (refreshed every 2 s), timeline. */
import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { call, fmtAgo, fmtTime } from '../api';
import { useCred } from '../session';

interface Twin {
  id: string; live: boolean; identity: { make?: string; model?: string; year?: number; trim?: string; region?: string };
  ecus: { name: string; software: string }[]; cohort: string | null; firstSeen: number | null; lastSeen: number | null; signalCount: number;
  signals: { path: string; value: unknown; time: number; unit?: string }[];
}
interface TimelineItem { time: number; kind: string; summary: string; ref?: string }

export function VehiclePage() {
  const { id = '' } = useParams();
  const cred = useCred();
  const twin = useQuery({ queryKey: ['vehicle', cred.tenant, id], queryFn: () => call<Twin>(cred, 'GET', `/v1/vehicles/${id}`), refetchInterval: 2000 });
  const timeline = useQuery({ queryKey: ['vehicle-timeline', cred.tenant, id], queryFn: () => call<{ items: TimelineItem[] }>(cred, 'GET', `/v1/vehicles/${id}/timeline?limit=200`), refetchInterval: 10_000 });
  if (twin.isLoading) return <p className="page muted">loading…</p>;
  if (twin.error || !twin.data) return <p role="alert" className="page error">{(twin.error as Error | null)?.message ?? 'not found'}</p>;
  const v = twin.data;
  const ident = v.identity;
  return (
    <section className="page" aria-labelledby="page-title">
      <p className="crumbs"><Link to="/vehicles">Vehicles</Link> / <span className="mono">{v.id}</span></p>
      <h1 id="page-title">{[ident.make, ident.model, ident.year].filter(Boolean).join(' ') || 'Vehicle'} <span className="mono muted">{v.id}</span></h1>
      <div className="facts">
        <span>{v.live ? <strong className="ok">live twin</strong> : 'from the store'}</span>
        <span>Trim {ident.trim ?? '—'}</span><span>Region {ident.region ?? '—'}</span><span>Cohort {v.cohort ?? '—'}</span>
        <span>First seen {fmtTime(v.firstSeen)}</span><span>Last seen {v.lastSeen ? fmtAgo(v.lastSeen) : '—'}</span>
        <span>{v.signalCount.toLocaleString()} signals</span>
      </div>
      <div className="grid2">
        <section className="card" aria-labelledby="ecu-title">
          <h2 id="ecu-title">ECUs and software</h2>
          {v.ecus.length ? (
            <table className="plain"><thead><tr><th>ECU</th><th>Software</th></tr></thead>
              <tbody>{v.ecus.map((e) => <tr key={e.name}><td>{e.name}</td><td className="mono">{e.software}</td></tr>)}</tbody></table>
          ) : <p className="muted">No ECU software registered (POST /v1/vehicles/import).</p>}
        </section>
        <section className="card" aria-labelledby="sig-title">
          <h2 id="sig-title">Live signals</h2>
          {v.signals.length ? (
            <table className="plain" data-testid="live-signals"><thead><tr><th>Signal</th><th>Value</th><th>At</th></tr></thead>
              <tbody>{v.signals.map((s) => <tr key={s.path}><td className="mono small">{s.path}</td><td>{formatValue(s.value)}{s.unit ? ` ${s.unit}` : ''}</td><td>{fmtAgo(s.time)}</td></tr>)}</tbody></table>
          ) : <p className="muted">No live values (no worker holds this vehicle's twin).</p>}
        </section>
      </div>
      <section className="card" aria-labelledby="tl-title">
        <h2 id="tl-title">Timeline</h2>
        <ol className="history">
          {timeline.data?.items.map((e, i) => <li key={`${e.time}-${i}`}><span className="mono">{fmtTime(e.time)}</span> <span className={`kind kind-${e.kind}`}>{e.kind}</span> {e.summary}</li>)}
        </ol>
      </section>
    </section>
  );
}

function formatValue(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(3);
  return String(v);
}
