/**
 * Detections: the rules the server runs with their status and alert counts (GET /v1/rules),
 * and the ATM coverage matrix: ATM tactics (the rules' ATM-TA tags; "untagged tactic" when a
 * rule names none) by techniques (ATM-T tags), each cell coloured by how many enabled rules
 * cover it. Enabling and disabling is configuration (detection.disabled), not an API call.
 */
import { useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { call, type Severity } from '../api';
import { SeverityBadge } from '../components/severity';
import { useCred } from '../session';

interface Rule { id: string; title: string | null; severity: Severity | null; tags: string[]; type: string | null; file: string | null; status: string; alerts: number; incidents: number; missingSignals?: string[] }
const NO_TACTIC = 'untagged tactic';

export function DetectionsPage() {
  const cred = useCred();
  const q = useQuery({ queryKey: ['rules', cred.tenant], queryFn: () => call<{ items: Rule[] }>(cred, 'GET', '/v1/rules') });
  const [filter, setFilter] = useState('');
  const rules = q.data?.items ?? [];
  const shown = rules.filter((r) => !filter || `${r.id} ${r.title ?? ''} ${r.tags.join(' ')}`.toLowerCase().includes(filter.toLowerCase()));
  const matrix = useMemo(() => coverage(rules), [rules]);
  const max = Math.max(1, ...matrix.cells.values());
  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">Detections</h1>
      {q.error && <p role="alert" className="error">{(q.error as Error).message}</p>}
      <section className="card" aria-labelledby="atm-title">
        <h2 id="atm-title">ATM coverage ({matrix.techniques.length} techniques, {rules.filter((r) => r.status === 'enabled').length} enabled rules)</h2>
        <div className="matrix-wrap">
          <table className="matrix" aria-label="ATM coverage: tactics by techniques">
            <thead><tr><th scope="col">Tactic \ technique</th>{matrix.techniques.map((t) => <th key={t} scope="col" className="vert"><span>{t}</span></th>)}</tr></thead>
            <tbody>
              {matrix.tactics.map((ta) => (
                <tr key={ta}>
                  <th scope="row" className="mono">{ta}</th>
                  {matrix.techniques.map((t) => {
                    const n = matrix.cells.get(`${ta}|${t}`) ?? 0;
                    return <td key={t} title={`${ta} × ${t}: ${n} rule(s)`} style={{ background: n ? `rgba(59,178,115,${0.25 + 0.75 * (n / max)})` : undefined }}>{n || ''}</td>;
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <div className="filters"><label>Filter <input value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="id, title or tag" /></label><span className="muted">{shown.length} of {rules.length} rules</span></div>
      <table className="plain" aria-label="Detection rules">
        <thead><tr><th>Rule</th><th>Title</th><th>Severity</th><th>Type</th><th>Status</th><th>Alerts</th><th>Incidents</th><th>Tags</th></tr></thead>
        <tbody>
          {shown.map((r) => (
            <tr key={r.id}>
              <td className="mono small">{r.id}</td><td>{r.title ?? '—'}</td><td>{r.severity ? <SeverityBadge severity={r.severity} /> : '—'}</td><td>{r.type ?? '—'}</td>
              <td><span className={`status status-${r.status}`} title={r.missingSignals?.join(', ')}>{r.status}</span></td>
              <td>{r.alerts}</td><td>{r.incidents}</td><td className="mono small">{r.tags.join(' ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function coverage(rules: readonly Rule[]): { tactics: string[]; techniques: string[]; cells: Map<string, number> } {
  const cells = new Map<string, number>();
  const tactics = new Set<string>();
  const techniques = new Set<string>();
  for (const r of rules) {
    if (r.status !== 'enabled') continue;
    const ts = r.tags.filter((t) => /^ATM-TA\d{4}$/.test(t));
    const techs = r.tags.filter((t) => /^ATM-T\d{4}$/.test(t));
    for (const ta of ts.length ? ts : [NO_TACTIC]) {
      for (const t of techs) {
        tactics.add(ta);
        techniques.add(t);
        cells.set(`${ta}|${t}`, (cells.get(`${ta}|${t}`) ?? 0) + 1);
      }
    }
  }
  return { tactics: [...tactics].sort(), techniques: [...techniques].sort(), cells };
}
