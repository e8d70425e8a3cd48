/** The signals around one alert, from its captured evidence (GET /v1/alerts/{id}): one line per signal path. */
import { useQuery } from '@tanstack/react-query';
import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { call, fmtTime, type Alert } from '../api';
import { useCred } from '../session';

interface EvidenceSignal { time: number; path: string; value: number | null }
interface AlertWithEvidence extends Alert {
  evidence: { capturedAt: number; evidence: { signals?: { rows: EvidenceSignal[]; truncated: boolean }; complete?: boolean } } | null;
}

const COLORS = ['#4f9dde', '#e07830', '#3bb273', '#c764d8', '#e0b040', '#d63c3c'];
/** Lines drawn at most: the paths with the most samples. */
const MAX_LINES = 6;

export function SignalChart({ alert }: { alert: Alert }) {
  const cred = useCred();
  const q = useQuery({ queryKey: ['alert', cred.tenant, alert.id], queryFn: () => call<AlertWithEvidence>(cred, 'GET', `/v1/alerts/${encodeURIComponent(alert.id)}`) });
  if (q.isLoading) return <p className="muted">loading evidence…</p>;
  if (q.error) return <p className="error">{(q.error as Error).message}</p>;
  const rows = q.data?.evidence?.evidence.signals?.rows ?? [];
  if (!q.data?.evidence) return <p className="muted">Evidence not captured yet (it is taken once the window after the alert has passed).</p>;
  if (!rows.length) return <p className="muted">No signals in the evidence window.</p>;
  const counts = new Map<string, number>();
  for (const r of rows) if (r.value !== null) counts.set(r.path, (counts.get(r.path) ?? 0) + 1);
  const paths = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, MAX_LINES).map(([p]) => p);
  const byTime = new Map<number, Record<string, number>>();
  for (const r of rows) {
    if (r.value === null || !paths.includes(r.path)) continue;
    const point = byTime.get(r.time) ?? { time: r.time };
    point[r.path] = r.value;
    byTime.set(r.time, point);
  }
  const data = [...byTime.values()].sort((a, b) => a['time']! - b['time']!);
  const span = data.length ? data.at(-1)!['time']! - data[0]!['time']! : 0;
  // Milliseconds on the axis when the window is short, else they would repeat the same second.
  const tick = (t: number) => new Date(t).toISOString().slice(11, span < 20_000 ? 23 : 19);
  return (
    <figure className="chart" aria-label={`Signals around alert ${alert.title}`}>
      <ResponsiveContainer width="100%" height={220}>
        <LineChart data={data} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
          <XAxis dataKey="time" type="number" domain={['dataMin', 'dataMax']} tickFormatter={tick} stroke="var(--muted)" fontSize={11} />
          {paths.map((p, i) => <YAxis key={p} yAxisId={p} hide={i > 0} stroke="var(--muted)" fontSize={11} width={50} />)}
          <Tooltip labelFormatter={(t) => fmtTime(Number(t))} contentStyle={{ background: 'var(--panel)', border: '1px solid var(--border)' }} />
          <Legend wrapperStyle={{ fontSize: 11 }} />
          <ReferenceLine x={alert.time} yAxisId={paths[0]} stroke="#d63c3c" label={{ value: 'alert', fill: '#d63c3c', fontSize: 11 }} />
          {paths.map((p, i) => <Line key={p} yAxisId={p} type="monotone" dataKey={p} stroke={COLORS[i % COLORS.length]} dot={false} connectNulls isAnimationActive={false} />)}
        </LineChart>
      </ResponsiveContainer>
      <figcaption className="muted">{rows.length} samples, each signal on its own scale{q.data.evidence.evidence.signals?.truncated ? ' (truncated)' : ''}</figcaption>
    </figure>
  );
}
