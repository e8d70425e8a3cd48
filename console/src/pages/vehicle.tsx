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
interface Exposure { id: string; title: string; cvss: number | null; kev: boolean; epss: number | null; result: string; ecus: { ecu: string; softwareVersion: string }[] }
interface TimelineItem { time: number; kind: string; summary: string; ref?: string }

export function VehiclePage() {
  const { id = '' } = useParams();
  const cred = useCred();
  const twin = useQuery({ queryKey: ['vehicle', cred.tenant, id], queryFn: () => call<Twin>(cred, 'GET', `/v1/vehicles/${id}`), refetchInterval: 2000 });
  const exposures = useQuery({ queryKey: ['vehicle-vulns', cred.tenant, id], queryFn: () => call<{ items: Exposure[] }>(cred, 'GET', `/v1/vehicles/${id}/vulnerabilities`) });
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
        <span>Trim {ident.trim ?? '—'}</span><span>Region {ident.region ?? '—'}</span><span>Cohort {cohortText(v.cohort)}</span>
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
      <section className="card" aria-labelledby="vuln-title">
        <h2 id="vuln-title">Exposures</h2>
        {exposures.error ? <p className="muted">{(exposures.error as Error).message}</p> : exposures.data?.items.length ? (
          <table className="plain"><thead><tr><th>Vulnerability</th><th>Title</th><th>CVSS</th><th>Flags</th><th>Result</th><th>Through</th></tr></thead>
            <tbody>{exposures.data.items.map((x) => (
              <tr key={x.id}><td className="mono">{x.id}</td><td>{x.title}</td><td>{x.cvss ?? '—'}</td>
                <td>{x.kev && <span className="flag flag-kev">KEV</span>}{x.epss !== null && <span className="muted small"> EPSS {(x.epss * 100).toFixed(1)}%</span>}</td>
                <td>{x.result.replace('_', ' ')}</td><td className="mono small">{x.ecus.map((e) => `${e.ecu} ${e.softwareVersion}`).join(', ')}</td></tr>
            ))}</tbody></table>
        ) : <p className="muted">No known vulnerability exposes this vehicle.</p>}
      </section>
      <section className="card" aria-labelledby="tl-title">
        <h2 id="tl-title">Timeline</h2>
        <ol className="history">
          {timeline.data?.items.map((e, i) => <li key={`${e.time}-${i}`}><span className="mono">{fmtTime(e.time)}</span> <span className={`kind kind-${e.kind}`}>{e.kind}</span> {e.summary}</li>)}
        </ol>
      </section>
    </section>
  );
}

/** The twin's cohort key (make, model, year, ECU software as JSON) as words. */
function cohortText(cohort: string | null): string {
  if (!cohort) return '—';
  try {
    const parts = JSON.parse(cohort) as unknown[];
    return parts.map((p) => (Array.isArray(p) ? p.map((e) => (Array.isArray(e) ? e.join(' ') : String(e))).join(', ') : String(p))).join(' · ');
  } catch {
    return cohort;
  }
}

function formatValue(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(3);
  return String(v);
}
