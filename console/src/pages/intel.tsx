/**
 * Intel: vulnerabilities with the tenant's exposure, KEV and EPSS flags and priority
 * (GET /v1/intel/vulnerabilities); one chosen shows its exposure by model and the exposed
 * vehicles (GET /v1/intel/vulnerabilities/{id}/exposure).
 */
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { call, fmtTime, qs, type Page } from '../api';
import { useCred } from '../session';

interface Vuln {
  id: string; title: string; published?: number; cvss: number | null; severity: string | null; epss: number | null; epssPercentile: number | null;
  kev: boolean; knownRansomware: boolean; withdrawn: boolean; vehicles: number; affected: number; needsReview: number; ecus: string[]; priority: number;
}
interface Count { vehicles: number; affected: number; needsReview: number }
interface Exposure extends Count {
  byModel: (Count & { make: string | null; model: string | null })[];
  list: Page<{ vehicle: string; make?: string; model?: string; year?: number; result: string; ecus: { ecu: string; softwareVersion: string }[] }>;
}

export function IntelPage() {
  const cred = useCred();
  const [kev, setKev] = useState('');
  const [exposed, setExposed] = useState('');
  const [text, setText] = useState('');
  const [sort, setSort] = useState('-priority');
  const [chosen, setChosen] = useState<string | undefined>();
  const list = useQuery({
    queryKey: ['intel', cred.tenant, kev, exposed, text, sort],
    queryFn: () => call<Page<Vuln>>(cred, 'GET', `/v1/intel/vulnerabilities${qs({ kev, exposed, q: text.trim(), sort, limit: 200 })}`),
  });
  const exposure = useQuery({
    queryKey: ['intel', cred.tenant, 'exposure', chosen],
    enabled: chosen !== undefined,
    queryFn: () => call<Exposure>(cred, 'GET', `/v1/intel/vulnerabilities/${encodeURIComponent(chosen!)}/exposure?limit=100`),
  });
  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">Intel</h1>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <label>KEV <select value={kev} onChange={(e) => setKev(e.target.value)}><option value="">any</option><option value="true">known exploited</option><option value="false">not in KEV</option></select></label>
        <label>Exposure <select value={exposed} onChange={(e) => setExposed(e.target.value)}><option value="">any</option><option value="true">exposes vehicles</option><option value="false">none exposed</option></select></label>
        <label>Search <input value={text} onChange={(e) => setText(e.target.value)} placeholder="id, alias or words" /></label>
        <label>Sort <select value={sort} onChange={(e) => setSort(e.target.value)}>
          <option value="-priority">priority</option><option value="-cvss">CVSS</option><option value="-epss">EPSS</option><option value="-exposure">vehicles exposed</option><option value="-published">newest</option>
        </select></label>
        <span className="muted">{list.data ? `${list.data.total} vulnerabilities` : 'loading…'}</span>
      </form>
      {list.error && <p role="alert" className="error">{(list.error as Error).message}</p>}
      <table className="plain" aria-label="Vulnerabilities">
        <thead><tr><th>Vulnerability</th><th>Title</th><th>Priority</th><th>CVSS</th><th>EPSS</th><th>Flags</th><th>Vehicles exposed</th><th>ECUs</th><th>Published</th></tr></thead>
        <tbody>
          {list.data?.items.map((v) => (
            <tr key={v.id} className={chosen === v.id ? 'chosen' : ''}>
              <td><button type="button" className="linkish mono" onClick={() => setChosen(v.id)} aria-pressed={chosen === v.id}>{v.id}</button></td>
              <td>{v.title}</td>
              <td><strong>{Math.round(v.priority)}</strong></td>
              <td>{v.cvss ?? '—'}{v.severity ? <span className="muted small"> {v.severity.toLowerCase()}</span> : null}</td>
              <td>{v.epss === null ? '—' : `${(v.epss * 100).toFixed(1)}%`}{v.epssPercentile !== null ? <span className="muted small"> p{Math.round(v.epssPercentile * 100)}</span> : null}</td>
              <td>
                {v.kev && <span className="flag flag-kev" title="in CISA's Known Exploited Vulnerabilities catalog">KEV</span>}
                {v.knownRansomware && <span className="flag flag-kev" title="known ransomware use">ransomware</span>}
                {v.withdrawn && <span className="flag">withdrawn</span>}
              </td>
              <td>{v.vehicles ? `${v.affected} affected${v.needsReview ? `, ${v.needsReview} to review` : ''}` : '—'}</td>
              <td className="small">{v.ecus.join(', ') || '—'}</td>
              <td>{v.published ? fmtTime(v.published).slice(0, 10) : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {chosen && (
        <section className="card exposure" aria-labelledby="exp-title">
          <h2 id="exp-title">Exposure of {chosen} by model</h2>
          {exposure.error && <p role="alert" className="error">{(exposure.error as Error).message}</p>}
          {exposure.data && (exposure.data.vehicles === 0 ? <p className="muted">No vehicle of this tenant is exposed.</p> : (
            <div className="grid2">
              <ResponsiveContainer width="100%" height={Math.max(120, 34 * exposure.data.byModel.length)}>
                <BarChart data={exposure.data.byModel.map((m) => ({ model: `${m.make ?? '?'} ${m.model ?? '?'}`, affected: m.affected, review: m.needsReview }))} layout="vertical">
                  <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
                  <XAxis type="number" allowDecimals={false} stroke="var(--muted)" fontSize={11} />
                  <YAxis type="category" dataKey="model" width={130} stroke="var(--muted)" fontSize={11} />
                  <Tooltip contentStyle={{ background: 'var(--panel)', border: '1px solid var(--border)' }} />
                  <Bar dataKey="affected" stackId="a" fill="#d63c3c" isAnimationActive={false} />
                  <Bar dataKey="review" name="needs review" stackId="a" fill="#e0b040" isAnimationActive={false} />
                </BarChart>
              </ResponsiveContainer>
              <table className="plain" aria-label="Exposed vehicles">
                <thead><tr><th>Vehicle</th><th>Model</th><th>Result</th><th>ECU software</th></tr></thead>
                <tbody>
                  {exposure.data.list.items.map((x) => (
                    <tr key={x.vehicle}>
                      <td><Link className="mono" to={`/vehicles/${x.vehicle}`}>{x.vehicle}</Link></td>
                      <td>{[x.make, x.model, x.year].filter(Boolean).join(' ')}</td><td>{x.result.replace('_', ' ')}</td>
                      <td className="mono small">{x.ecus.map((e) => `${e.ecu} ${e.softwareVersion}`).join(', ')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ))}
        </section>
      )}
    </section>
  );
}
