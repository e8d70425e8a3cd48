/**
 * Detections: the rules the server runs with their status and alert counts (GET /v1/rules),
 * and the ATM coverage matrix: ATM tactics (the rules' ATM-TA tags; "untagged tactic" when a
 * rule names none) or UN R155 threat groups (the ATM tactic table is third-party data Vigil
 * does not ship, and few rules tag a tactic) by techniques (ATM-T tags), each cell coloured by
 * how many enabled rules cover it. A rule of the pack can be switched off and on for the tenant
 * (PATCH /v1/rules/{id}, admin); one the config disables stays configuration.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { call, type Severity } from '../api';
import { SeverityBadge } from '../components/severity';
import { useCred, useSession } from '../session';

interface Rule { threatGroups: string[]; id: string; title: string | null; severity: Severity | null; tags: string[]; type: string | null; file: string | null; status: string; alerts: number; incidents: number; missingSignals?: string[]; switchable: boolean }
const NO_TACTIC = 'untagged tactic';
const NO_GROUP = 'no R155 reference';
/** UN R155 Annex 5 Part A threat groups (src/report/taxonomy.ts). */
const GROUP_LABELS: Record<string, string> = {
  '4.3.1': '4.3.1 Back-end servers', '4.3.2': '4.3.2 Communication channels', '4.3.3': '4.3.3 Update procedures',
  '4.3.4': '4.3.4 Unintended human actions', '4.3.5': '4.3.5 External connectivity', '4.3.6': '4.3.6 Vehicle data and code',
  '4.3.7': '4.3.7 Weaknesses if not hardened',
};
type Rows = 'tactic' | 'r155';

export function DetectionsPage() {
  const cred = useCred();
  const q = useQuery({ queryKey: ['rules', cred.tenant], queryFn: () => call<{ items: Rule[] }>(cred, 'GET', '/v1/rules') });
  const client = useQueryClient();
  const admin = useSession().session?.role === 'admin';
  const [switchError, setSwitchError] = useState<string | undefined>();
  const toggle = useMutation({
    mutationFn: (r: Rule) => call<Rule>(cred, 'PATCH', `/v1/rules/${encodeURIComponent(r.id)}`, { enabled: r.status !== 'enabled' }),
    onSuccess: () => { setSwitchError(undefined); void client.invalidateQueries({ queryKey: ['rules'] }); },
    onError: (e) => setSwitchError((e as Error).message),
  });
  const [filter, setFilter] = useState('');
  const rules = q.data?.items ?? [];
  const shown = rules.filter((r) => !filter || `${r.id} ${r.title ?? ''} ${r.tags.join(' ')}`.toLowerCase().includes(filter.toLowerCase()));
  const [rowsBy, setRowsBy] = useState<Rows>('tactic');
  const matrix = useMemo(() => coverage(rules, rowsBy), [rules, rowsBy]);
  const max = Math.max(1, ...matrix.cells.values());
  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">Detections</h1>
      {q.error && <p role="alert" className="error">{(q.error as Error).message}</p>}
      <section className="card" aria-labelledby="atm-title">
        <h2 id="atm-title">ATM coverage ({matrix.techniques.length} techniques, {rules.filter((r) => r.status === 'enabled').length} enabled rules)</h2>
        <label className="row">Rows
          <select value={rowsBy} onChange={(e) => setRowsBy(e.target.value as Rows)}>
            <option value="tactic">ATM tactics (the rules' ATM-TA tags)</option>
            <option value="r155">UN R155 threat groups (the rules' R155 tags)</option>
          </select>
        </label>
        <div className="matrix-wrap">
          <table className="matrix" aria-label="ATM coverage: tactics by techniques">
            <thead><tr><th scope="col">{rowsBy === 'tactic' ? 'Tactic' : 'Threat group'} \ technique</th>{matrix.techniques.map((t) => <th key={t} scope="col" className="vert"><span>{t}</span></th>)}</tr></thead>
            <tbody>
              {matrix.tactics.map((ta) => (
                <tr key={ta}>
                  <th scope="row" className="mono">{GROUP_LABELS[ta] ?? ta}</th>
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
      <div className="filters"><label>Filter <input value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="id, title or tag" /></label><span className="muted">{shown.length} of {rules.length} rules</span>
        {switchError && <span role="alert" className="error">{switchError}</span>}</div>
      <table className="plain" aria-label="Detection rules">
        <thead><tr><th>Rule</th><th>Title</th><th>Severity</th><th>Type</th><th>Status</th><th>Alerts</th><th>Incidents</th><th>Tags</th></tr></thead>
        <tbody>
          {shown.map((r) => (
            <tr key={r.id}>
              <td className="mono small">{r.id}</td><td>{r.title ?? '—'}</td><td>{r.severity ? <SeverityBadge severity={r.severity} /> : '—'}</td><td>{r.type ?? '—'}</td>
              <td className="status-cell">
                <span className={`status status-${r.status}`} title={r.missingSignals?.join(', ')}>{r.status}</span>
                {r.switchable && admin && (
                  <button type="button" className="ghost small" disabled={toggle.isPending} onClick={() => toggle.mutate(r)} aria-label={`${r.status === 'enabled' ? 'Disable' : 'Enable'} rule ${r.id} for this tenant`}>
                    {r.status === 'enabled' ? 'Disable' : 'Enable'}
                  </button>
                )}
              </td>
              <td>{r.alerts}</td><td>{r.incidents}</td><td className="mono small">{r.tags.join(' ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function coverage(rules: readonly Rule[], rowsBy: Rows): { tactics: string[]; techniques: string[]; cells: Map<string, number> } {
  const cells = new Map<string, number>();
  const tactics = new Set<string>();
  const techniques = new Set<string>();
  for (const r of rules) {
    if (r.status !== 'enabled') continue;
    const ts = rowsBy === 'tactic' ? r.tags.filter((t) => /^ATM-TA\d{4}$/.test(t)) : r.threatGroups;
    const techs = r.tags.filter((t) => /^ATM-T\d{4}$/.test(t));
    for (const ta of ts.length ? ts : [rowsBy === 'tactic' ? NO_TACTIC : NO_GROUP]) {
      for (const t of techs) {
        tactics.add(ta);
        techniques.add(t);
        cells.set(`${ta}|${t}`, (cells.get(`${ta}|${t}`) ?? 0) + 1);
      }
    }
  }
  return { tactics: [...tactics].sort(), techniques: [...techniques].sort(), cells };
}
