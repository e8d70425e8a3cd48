/**
 * One incident: its state and the moves the workflow allows, assignment, the timeline of its
 * alerts with the signals around each (evidence), affected vehicles, ATM techniques, playbook
 * steps and their results, history and comments.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router';
import { ApiError, ATM_TAG, call, fmtAgo, fmtTime, type Alert, type Incident, type IncidentEvent, type IncidentState } from '../api';
import { SeverityBadge } from '../components/severity';
import { SignalChart } from '../components/signal-chart';
import { useCred } from '../session';

interface Detail { incident: Incident; alerts: { items: Alert[]; total: number; limit: number }; history: IncidentEvent[]; links: { a: string; b: string; relation: string }[] }
interface Comment { id: string; time: number; author: string; authorName: string; text: string }
interface ActionRun { id: string; playbook?: string; step?: number; action: string; status: string; params: unknown; result?: unknown; startedAt: number; finishedAt?: number }
interface Playbook { id: string; title: string; steps: number }

/** Action run statuses that will not change any more; others are polled for every RUN_POLL_MS. */
const FINISHED = new Set(['succeeded', 'failed', 'skipped', 'cancelled']);
const RUN_POLL_MS = 2000;
/** Alerts whose evidence chart is drawn at once; the others on demand. */
const CHARTS_AT_ONCE = 3;

export function IncidentPage() {
  const { id = '' } = useParams();
  const cred = useCred();
  const client = useQueryClient();
  const path = `/v1/incidents/${encodeURIComponent(id)}`;
  const q = useQuery({ queryKey: ['incidents', cred.tenant, 'detail', id], queryFn: () => call<Detail>(cred, 'GET', path) });
  const comments = useQuery({ queryKey: ['incidents', cred.tenant, 'comments', id], queryFn: () => call<{ items: Comment[] }>(cred, 'GET', `${path}/comments`) });
  const runs = useQuery({ queryKey: ['incidents', cred.tenant, 'runs', id], queryFn: () => call<{ items: ActionRun[] }>(cred, 'GET', `/v1/action-runs?incident=${encodeURIComponent(id)}&limit=200`),
    // While a step is still going, its result is polled for.
    refetchInterval: (query) => (query.state.data?.items.some((r) => !FINISHED.has(r.status)) ? RUN_POLL_MS : false),
  });
  const playbooks = useQuery({ queryKey: ['playbooks', cred.tenant], queryFn: () => call<{ items: Playbook[] }>(cred, 'GET', '/v1/playbooks') });
  const [error, setError] = useState<string | undefined>();
  const refresh = () => void client.invalidateQueries({ queryKey: ['incidents'] });
  const act = useMutation({
    mutationFn: ({ method = 'POST', sub, body }: { method?: string; sub: string; body?: unknown }) => call(cred, method, `${path}${sub}`, body),
    onSuccess: () => { setError(undefined); refresh(); },
    onError: (e) => {
      const allowed = e instanceof ApiError ? (e.body as { allowed?: string[] } | undefined)?.allowed : undefined;
      setError(`${(e as Error).message}${allowed ? ` (allowed: ${allowed.join(', ')})` : ''}`);
    },
  });
  const [comment, setComment] = useState('');
  const [openCharts, setOpenCharts] = useState<Set<string>>(new Set());

  if (q.isLoading) return <p className="page muted">loading…</p>;
  if (q.error || !q.data) return <p role="alert" className="page error">{(q.error as Error | null)?.message ?? 'not found'}</p>;
  const { incident: inc, alerts, history } = q.data;
  const vehicles = [...new Set([...(inc.vehicle ? [inc.vehicle] : []), ...alerts.items.map((a) => a.vehicle).filter((v): v is string => !!v)])];
  const techniques = [...new Set(alerts.items.flatMap((a) => a.tags.filter((t) => ATM_TAG.test(t))))].sort();
  const timeline = [...alerts.items].sort((a, b) => a.time - b.time);
  const submitComment = (e: FormEvent) => {
    e.preventDefault();
    if (!comment.trim()) return;
    act.mutate({ sub: '/comments', body: { text: comment.trim() } }, { onSuccess: () => setComment('') });
  };

  return (
    <section className="page incident" aria-labelledby="page-title">
      <p className="crumbs"><Link to="/incidents">Incidents</Link> / <span className="mono">{inc.id}</span></p>
      <h1 id="page-title">{inc.title}</h1>
      <div className="facts">
        <span>State <strong className={`state state-${inc.state}`} data-testid="incident-state">{inc.state}</strong></span>
        <span>Severity <SeverityBadge severity={inc.severity} /></span>
        <span>Risk <strong>{Math.round(inc.risk)}</strong></span>
        <span>Kind {inc.kind}</span>
        <span>Alerts {inc.alertCount}</span>
        <span>Assignee <strong>{inc.assignee ?? 'nobody'}</strong></span>
        <span>SLA {inc.slaBreached ? <strong className="breach">breached</strong> : inc.slaDueAt ? `due ${fmtAgo(inc.slaDueAt)}` : '—'}</span>
        <span>First {fmtTime(inc.firstAlertAt)} · last {fmtTime(inc.lastAlertAt)}</span>
      </div>

      <div className="card actions" role="group" aria-label="Change state">
        <span>Move to:</span>
        {inc.allowed.map((to: IncidentState) => (
          <button key={to} type="button" disabled={act.isPending} onClick={() => {
            const reason = to === 'false_positive' || to === 'resolved' ? window.prompt(`Reason for ${to}:`) ?? undefined : undefined;
            act.mutate({ sub: '/transition', body: { to, ...(reason ? { reason } : {}) } });
          }}>{to.replace('_', ' ')}</button>
        ))}
        <span className="spacer" />
        <button type="button" className="ghost" onClick={() => { const who = window.prompt('Assign to:', inc.assignee ?? ''); if (who !== null) act.mutate({ sub: '/assign', body: { assignee: who.trim() || null } }); }}>Assign…</button>
        {error && <p role="alert" className="error">{error}</p>}
      </div>

      <div className="grid2">
        <section className="card" aria-labelledby="veh-title">
          <h2 id="veh-title">Affected vehicles ({inc.vehicleCount})</h2>
          <ul className="chips">{vehicles.map((v) => <li key={v}><Link className="mono" to={`/vehicles/${v}`}>{v}</Link></li>)}</ul>
        </section>
        <section className="card" aria-labelledby="atm-title">
          <h2 id="atm-title">ATM techniques</h2>
          {techniques.length ? <ul className="chips">{techniques.map((t) => <li key={t} className="mono">{t}</li>)}</ul> : <p className="muted">none tagged</p>}
          <p className="muted">Rules: {inc.rules.join(', ')}</p>
        </section>
      </div>

      <section className="card" aria-labelledby="tl-title">
        <h2 id="tl-title">Timeline of alerts ({alerts.items.length} of {alerts.total})</h2>
        <ol className="timeline">
          {timeline.map((a, i) => (
            <li key={a.id}>
              <div className="tl-head">
                <span className="mono">{fmtTime(a.time)}</span> <SeverityBadge severity={a.severity} /> <strong>{a.title}</strong>
                <span className="muted mono"> {a.rule}{a.vehicle ? ` · ${a.vehicle}` : ''}</span>
                {i >= CHARTS_AT_ONCE && !openCharts.has(a.id) && (
                  <button type="button" className="ghost" onClick={() => setOpenCharts((s) => new Set(s).add(a.id))}>Show signals</button>
                )}
              </div>
              {(i < CHARTS_AT_ONCE || openCharts.has(a.id)) && <SignalChart alert={a} />}
            </li>
          ))}
        </ol>
      </section>

      <section className="card" aria-labelledby="pb-title">
        <h2 id="pb-title">Playbook steps and results</h2>
        <div className="row">
          <label htmlFor="pb-run">Run playbook</label>
          <select id="pb-run" defaultValue="" onChange={(e) => { if (e.target.value) act.mutate({ sub: `/playbooks/${encodeURIComponent(e.target.value)}/run`, body: {} }); e.target.value = ''; }}>
            <option value="">choose…</option>
            {playbooks.data?.items.map((p) => <option key={p.id} value={p.id}>{p.title} ({p.steps} steps)</option>)}
          </select>
        </div>
        {runs.data?.items.length ? (
          <table className="plain" aria-label="Playbook runs">
            <thead><tr><th>Started</th><th>Playbook</th><th>Step</th><th>Action</th><th>Status</th><th>Result</th></tr></thead>
            <tbody>
              {[...runs.data.items].sort(byRunThenStep).map((r) => (
                <tr key={r.id}>
                  <td>{fmtTime(r.startedAt)}</td><td>{r.playbook ?? 'ad hoc'}</td><td>{r.step ?? '—'}</td><td>{r.action}</td>
                  <td><span className={`run run-${r.status}`}>{r.status}</span></td>
                  <td className="mono small">{r.result === undefined ? '—' : JSON.stringify(r.result).slice(0, 160)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : <p className="muted">No playbook has run on this incident.</p>}
      </section>

      <div className="grid2">
        <section className="card" aria-labelledby="hist-title">
          <h2 id="hist-title">History</h2>
          <ol className="history">
            {history.map((e) => (
              <li key={e.id}><span className="mono">{fmtTime(e.time)}</span> <strong>{e.kind}</strong> {describe(e)} <span className="muted">by {String(e.body['actorName'] ?? e.actor)}</span></li>
            ))}
          </ol>
        </section>
        <section className="card" aria-labelledby="com-title">
          <h2 id="com-title">Comments</h2>
          <ol className="history">
            {comments.data?.items.map((c) => <li key={c.id}><span className="mono">{fmtTime(c.time)}</span> <strong>{c.authorName}</strong>: {c.text}</li>)}
          </ol>
          <form onSubmit={submitComment} className="comment">
            <label htmlFor="comment">Add a comment</label>
            <textarea id="comment" value={comment} onChange={(e) => setComment(e.target.value)} rows={3} />
            <button type="submit" disabled={!comment.trim() || act.isPending}>Comment</button>
          </form>
        </section>
      </div>
    </section>
  );
}

/** A playbook's steps in order, runs oldest first (the API lists newest first). */
function byRunThenStep(a: ActionRun, b: ActionRun): number {
  return a.startedAt - b.startedAt || (a.step ?? 0) - (b.step ?? 0);
}

function describe(e: IncidentEvent): string {
  const b = e.body;
  if (e.kind === 'action') return `${String(b['action'] ?? '')} ${String(b['status'] ?? '')}${b['playbook'] ? ` (playbook ${String(b['playbook'])})` : ''}`;
  if (e.kind === 'state') return `${String(b['from'] ?? '')} → ${String(b['to'] ?? '')}${b['reason'] ? ` (${String(b['reason'])})` : ''}`;
  if (e.kind === 'assign') return `→ ${String(b['to'] ?? 'nobody')}`;
  if (e.kind === 'comment') return String(b['text'] ?? '');
  if (e.kind === 'created') return [b['rule'], b['kind']].filter((x) => typeof x === 'string').join(' · ');
  const rest = Object.entries(b).filter(([k]) => k !== 'actorName');
  return rest.length ? JSON.stringify(Object.fromEntries(rest)).slice(0, 120) : '';
}
