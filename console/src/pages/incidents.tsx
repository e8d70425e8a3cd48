/** Incidents: filter by state and severity, sort, open one. */
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { call, fmtAgo, INCIDENT_STATES, OPEN_STATES, qs, SEVERITIES, type Incident, type Page } from '../api';
import { SeverityBadge } from '../components/severity';
import { useCred } from '../session';

const SORTS = { '-lastAlertAt': 'last alert', '-risk': 'risk', '-severity': 'severity', '-createdAt': 'newest', slaDueAt: 'SLA due' } as const;

export function IncidentsPage() {
  const cred = useCred();
  const [state, setState] = useState<string>(OPEN_STATES.join(','));
  const [severity, setSeverity] = useState('');
  const [sort, setSort] = useState<keyof typeof SORTS>('-lastAlertAt');
  const q = useQuery({
    queryKey: ['incidents', cred.tenant, state, severity, sort],
    queryFn: () => call<Page<Incident>>(cred, 'GET', `/v1/incidents${qs({ state, severity, sort, limit: 200 })}`),
  });
  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">Incidents</h1>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <label>State
          <select value={state} onChange={(e) => setState(e.target.value)}>
            <option value={OPEN_STATES.join(',')}>open</option>
            <option value="">any</option>
            {INCIDENT_STATES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
        <label>Severity
          <select value={severity} onChange={(e) => setSeverity(e.target.value)}>
            <option value="">any</option>
            {SEVERITIES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
        <label>Sort
          <select value={sort} onChange={(e) => setSort(e.target.value as keyof typeof SORTS)}>
            {Object.entries(SORTS).map(([k, v]) => <option key={k} value={k}>{v}</option>)}
          </select>
        </label>
        <span className="muted">{q.data ? `${q.data.total} incidents` : 'loading…'}</span>
      </form>
      {q.error && <p role="alert" className="error">{(q.error as Error).message}</p>}
      <table className="plain" aria-label="Incidents">
        <thead><tr><th>Title</th><th>State</th><th>Severity</th><th>Risk</th><th>Alerts</th><th>Vehicles</th><th>Assignee</th><th>Last alert</th><th>SLA</th></tr></thead>
        <tbody>
          {q.data?.items.map((i) => (
            <tr key={i.id}>
              <td><Link to={`/incidents/${encodeURIComponent(i.id)}`}>{i.title}</Link></td>
              <td><span className={`state state-${i.state}`}>{i.state}</span></td>
              <td><SeverityBadge severity={i.severity} /></td>
              <td>{Math.round(i.risk)}</td>
              <td>{i.alertCount}</td>
              <td>{i.vehicleCount}</td>
              <td>{i.assignee ?? '—'}</td>
              <td>{fmtAgo(i.lastAlertAt)}</td>
              <td>{i.slaBreached ? <span className="breach">breached</span> : i.slaDueAt ? fmtAgo(i.slaDueAt) : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
