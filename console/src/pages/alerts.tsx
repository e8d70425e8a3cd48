/**
 * The alert queue: filters (severity, outcome, rule, vehicle), sorting by the server (every
 * alert, not just the loaded ones: `GET /v1/alerts?sort=`, stable pages), a
 * virtualized table that loads pages of 1000 as it scrolls (up to every alert, 100,000 and
 * more), new alerts refetched as they arrive (with more than 5 pages loaded, on a click), bulk actions through the incident and suppression routes, and the keyboard:
 * j/k move, x selects, Enter opens (the incident of the alert, else its vehicle).
 */
import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { useNavigate } from 'react-router';
import { ApiError, call, fmtTime, qs, SEVERITIES, type Alert, type Page, type Severity } from '../api';
import { SeverityBadge } from '../components/severity';
import { useLive } from '../live';
import { useCred } from '../session';

const PAGE = 1000;
/** Pages refetched by themselves when new alerts arrive; with more loaded, a button offers it. */
const AUTO_REFRESH_PAGES = 5;
const ROW_PX = 34;
/** Columns the server sorts by (GET /v1/alerts `sort`). */
type SortKey = 'time' | 'severity' | 'rule' | 'vehicle' | 'outcome';

export function AlertsPage() {
  const cred = useCred();
  const client = useQueryClient();
  const navigate = useNavigate();
  const [severity, setSeverity] = useState<Severity | ''>('');
  const [outcome, setOutcome] = useState('');
  const [rule, setRule] = useState('');
  const [vehicle, setVehicle] = useState('');
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: 'time', desc: true });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [cursor, setCursor] = useState(0);
  const [message, setMessage] = useState<string | undefined>();
  const filters = { severity: severity || undefined, outcome: outcome || undefined, rule: rule.trim() || undefined, vehicle: vehicle.trim() || undefined };

  const q = useInfiniteQuery({
    queryKey: ['alerts', cred.tenant, filters, sort],
    initialPageParam: 0,
    queryFn: ({ pageParam }) => call<Page<Alert>>(cred, 'GET', `/v1/alerts${qs({ ...filters, sort: `${sort.desc ? '-' : ''}${sort.key}`, limit: PAGE, offset: pageParam })}`),
    getNextPageParam: (last) => (last.offset + last.items.length < last.total ? last.offset + last.items.length : undefined),
  });
  const loaded = useMemo(() => q.data?.pages.flatMap((p) => p.items) ?? [], [q.data]);
  const total = q.data?.pages[0]?.total ?? 0;
  const rows = loaded;

  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_PX, overscan: 20 });
  const items = virtual.getVirtualItems();
  const lastIndex = items.at(-1)?.index ?? 0;
  useEffect(() => {
    if (lastIndex >= rows.length - 50 && q.hasNextPage && !q.isFetchingNextPage) void q.fetchNextPage();
  }, [lastIndex, rows.length, q]);

  // New alerts: refetch while few pages are loaded (a refetch reloads every loaded page), else offer it.
  const live = useLive();
  const [seen, setSeen] = useState(live.count);
  const pagesLoaded = q.data?.pages.length ?? 0;
  const unseen = live.count - seen;
  const { refetch, isFetching } = q;
  useEffect(() => {
    if (unseen <= 0 || pagesLoaded > AUTO_REFRESH_PAGES || isFetching) return;
    const t = window.setTimeout(() => {
      setSeen(live.count);
      void refetch();
    }, 1000);
    return () => window.clearTimeout(t);
  }, [unseen, pagesLoaded, live.count, refetch, isFetching]);

  const chosen = rows.filter((a) => selected.has(a.id));
  const incidentsOf = (alerts: Alert[]) => [...new Set(alerts.filter((a) => a.outcome?.kind === 'incident').map((a) => a.outcome!.ref))];
  const bulk = useMutation({
    mutationFn: async (action: { kind: 'assign'; assignee: string } | { kind: 'fp'; reason: string } | { kind: 'suppress'; days: number; reason: string }) => {
      if (action.kind === 'suppress') {
        const pairs = [...new Map(chosen.map((a) => [`${a.rule}/${a.vehicle ?? ''}`, a])).values()];
        for (const a of pairs) await call(cred, 'POST', '/v1/suppressions', { rule: a.rule, ...(a.vehicle ? { vehicle: a.vehicle } : {}), days: action.days, reason: action.reason });
        return `${pairs.length} suppression(s) created for ${action.days} days`;
      }
      const ids = incidentsOf(chosen);
      if (!ids.length) throw new Error('none of the selected alerts opened or joined an incident');
      // An incident whose state does not allow the move is left as it is and counted (the server
      // answers 409 with the moves it allows); the others go on.
      const refused: string[] = [];
      for (const id of ids) {
        try {
          if (action.kind === 'assign') await call(cred, 'POST', `/v1/incidents/${encodeURIComponent(id)}/assign`, { assignee: action.assignee });
          else await call(cred, 'POST', `/v1/incidents/${encodeURIComponent(id)}/verdict`, { verdict: 'false_positive', reason: action.reason });
        } catch (e) {
          if (!(e instanceof ApiError && e.status === 409)) throw e;
          refused.push(`${id}: ${e.message}`);
        }
      }
      const done = `${ids.length - refused.length} incident(s) ${action.kind === 'assign' ? `assigned to ${action.assignee}` : 'closed as false positive'}`;
      return refused.length ? `${done}; ${refused.length} left as they are (${refused.join('; ')})` : done;
    },
    onSuccess: (m) => {
      setMessage(m);
      setSelected(new Set());
      void client.invalidateQueries({ queryKey: ['alerts'] });
      void client.invalidateQueries({ queryKey: ['incidents'] });
    },
    onError: (e) => setMessage(`Failed: ${(e as Error).message}`),
  });

  const open = (a: Alert | undefined) => {
    if (!a) return;
    if (a.outcome?.kind === 'incident') navigate(`/incidents/${encodeURIComponent(a.outcome.ref)}`);
    else if (a.vehicle) navigate(`/vehicles/${a.vehicle}`);
  };
  const toggle = (id: string) => setSelected((s) => {
    const n = new Set(s);
    if (n.has(id)) n.delete(id);
    else n.add(id);
    return n;
  });
  const onKey = (e: KeyboardEvent) => {
    if (e.target instanceof HTMLInputElement && e.target.type !== 'checkbox') return;
    const move = (to: number) => {
      const i = Math.max(0, Math.min(rows.length - 1, to));
      setCursor(i);
      virtual.scrollToIndex(i);
      e.preventDefault();
    };
    if (e.key === 'j' || e.key === 'ArrowDown') move(cursor + 1);
    else if (e.key === 'k' || e.key === 'ArrowUp') move(cursor - 1);
    else if (e.key === 'x' || e.key === ' ') { const a = rows[cursor]; if (a) toggle(a.id); e.preventDefault(); }
    else if (e.key === 'Enter') { open(rows[cursor]); e.preventDefault(); }
  };
  const ariaSort = (key: SortKey) => (sort.key === key ? (sort.desc ? 'descending' : 'ascending') : 'none');
  const header = (key: SortKey, label: string) => (
    <button type="button" className="th-sort" onClick={() => { setSort((s) => ({ key, desc: s.key === key ? !s.desc : key === 'time' || key === 'severity' })); setCursor(0); virtual.scrollToIndex(0); }}
      aria-label={`Sort by ${label}`} aria-pressed={sort.key === key}>
      {label}{sort.key === key ? (sort.desc ? ' ▼' : ' ▲') : ''}
    </button>
  );

  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">Alert queue</h1>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <label>Severity
          <select value={severity} onChange={(e) => setSeverity(e.target.value as Severity | '')}>
            <option value="">any</option>
            {SEVERITIES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
        <label>Outcome
          <select value={outcome} onChange={(e) => setOutcome(e.target.value)}>
            <option value="">any</option>
            {['incident', 'duplicate', 'suppressed', 'pending'].map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
        <label>Rule <input value={rule} onChange={(e) => setRule(e.target.value)} placeholder="rule id" size={22} /></label>
        <label>Vehicle <input value={vehicle} onChange={(e) => setVehicle(e.target.value)} placeholder="16 hex digits" size={18} pattern="[0-9a-f]{16}" /></label>
        <span className="muted" aria-live="polite">{q.isLoading ? 'loading…' : `${total.toLocaleString()} alerts (${loaded.length.toLocaleString()} loaded)`}</span>
      </form>
      <div className="bulk" role="toolbar" aria-label="Bulk actions on selected alerts">
        <span>{chosen.length} selected</span>
        <button type="button" disabled={!chosen.length || bulk.isPending} onClick={() => { const who = window.prompt('Assign the incidents of the selected alerts to:'); if (who) bulk.mutate({ kind: 'assign', assignee: who }); }}>Assign…</button>
        <button type="button" disabled={!chosen.length || bulk.isPending} onClick={() => { const why = window.prompt('Suppress rule (+vehicle) of the selected alerts for 7 days. Reason:'); if (why) bulk.mutate({ kind: 'suppress', days: 7, reason: why }); }}>Suppress 7 days…</button>
        <button type="button" disabled={!chosen.length || bulk.isPending} onClick={() => { const why = window.prompt('Close the incidents of the selected alerts as false positive. Reason:'); if (why) bulk.mutate({ kind: 'fp', reason: why }); }}>Close as false positive…</button>
        <span className="muted keys">Keys: j/k move · x select · Enter open</span>
        {message && <span role="status" className="note">{message}</span>}
        {unseen > 0 && pagesLoaded > AUTO_REFRESH_PAGES && (
          <button type="button" className="ghost" onClick={() => { setSeen(live.count); void q.refetch(); }}>{unseen} new alert(s): refresh</button>
        )}
      </div>
      {q.error && <p role="alert" className="error">{(q.error as Error).message}</p>}
      <div className="table" role="grid" aria-label="Alerts" aria-rowcount={total} tabIndex={0} onKeyDown={onKey} data-testid="alert-table">
        <div className="tr th" role="row">
          <span role="columnheader" className="c-sel"><input type="checkbox" aria-label="Select all loaded alerts" checked={chosen.length > 0 && chosen.length === rows.length}
            onChange={(e) => setSelected(e.target.checked ? new Set(rows.map((a) => a.id)) : new Set())} /></span>
          <span role="columnheader" className="c-time" aria-sort={ariaSort('time')}>{header('time', 'Time')}</span>
          <span role="columnheader" className="c-sev" aria-sort={ariaSort('severity')}>{header('severity', 'Severity')}</span>
          <span role="columnheader" className="c-rule" aria-sort={ariaSort('rule')}>{header('rule', 'Rule')}</span>
          <span role="columnheader" className="c-title">Title</span>
          <span role="columnheader" className="c-veh" aria-sort={ariaSort('vehicle')}>{header('vehicle', 'Vehicle')}</span>
          <span role="columnheader" className="c-out" aria-sort={ariaSort('outcome')}>{header('outcome', 'Outcome')}</span>
        </div>
        <div ref={scroller} className="tbody">
          <div style={{ height: virtual.getTotalSize(), position: 'relative' }}>
            {items.map((v) => {
              const a = rows[v.index]!;
              return (
                <div key={a.id} role="row" aria-rowindex={v.index + 2} aria-selected={selected.has(a.id)}
                  className={`tr${v.index === cursor ? ' cursor' : ''}${selected.has(a.id) ? ' selected' : ''}`}
                  style={{ position: 'absolute', top: 0, transform: `translateY(${v.start}px)`, height: ROW_PX, width: '100%' }}
                  onClick={() => setCursor(v.index)} onDoubleClick={() => open(a)}>
                  <span role="gridcell" className="c-sel"><input type="checkbox" aria-label={`Select alert ${a.title}`} checked={selected.has(a.id)} onChange={() => toggle(a.id)} tabIndex={-1} /></span>
                  <span role="gridcell" className="c-time">{fmtTime(a.time)}</span>
                  <span role="gridcell" className="c-sev"><SeverityBadge severity={a.severity} /></span>
                  <span role="gridcell" className="c-rule mono">{a.rule}</span>
                  <span role="gridcell" className="c-title">{a.title}</span>
                  <span role="gridcell" className="c-veh mono">{a.vehicle ?? '—'}</span>
                  <span role="gridcell" className="c-out">{a.outcome ? (a.outcome.kind === 'incident' ? <a href={`/incidents/${encodeURIComponent(a.outcome.ref)}`} onClick={(e) => { e.preventDefault(); open(a); }} tabIndex={-1}>incident</a> : a.outcome.kind) : 'pending'}</span>
                </div>
              );
            })}
          </div>
        </div>
      </div>
    </section>
  );
}
