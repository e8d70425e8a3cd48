/**
 * Ask: questions in plain words (POST /v1/ask). Each answer shows its summary, the chart the
 * server proposes (a Vega-Lite subset: bar or line, x, y and an optional colour), the table,
 * and the query that ran (the typed query, the SQL and its bound values). A question the
 * server reads two ways comes back with choices to pick from.
 */
import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { call } from '../api';
import { useCred } from '../session';

interface Column { name: string; type: string; label: string; role: string }
interface Channel { field: string; type: string; title: string }
interface Answer {
  query: unknown; summary: string; elapsedMs: number;
  table: { columns: Column[]; rows: unknown[][]; truncated: boolean };
  chart?: { mark: 'bar' | 'line'; encoding: { x: Channel; y: Channel; color?: Channel } };
  sql: { text: string; params: unknown[] };
}
type Reply =
  | { kind: 'answer'; by: string; notes: string[]; answer: Answer }
  | { kind: 'askBack'; askBack: { question: string; choices: { label: string; question: string }[] } };
interface Turn { question: string; reply?: Reply; error?: string }

const COLORS = ['#4f9dde', '#e07830', '#3bb273', '#c764d8', '#e0b040', '#d63c3c', '#6bc3c9', '#9a8cf0'];
const EXAMPLES = ['alerts by make in the last 30 days', 'open incidents by severity', 'vehicles exposed to a KEV vulnerability by model'];

export function AskPage() {
  const cred = useCred();
  const [question, setQuestion] = useState('');
  const [turns, setTurns] = useState<Turn[]>([]);
  const ask = useMutation({
    mutationFn: (q: string) => call<Reply>(cred, 'POST', '/v1/ask', { question: q }),
    onMutate: (q) => setTurns((t) => [...t, { question: q }]),
    onSuccess: (reply, q) => setTurns((t) => t.map((x, i) => (i === t.length - 1 && x.question === q ? { ...x, reply } : x))),
    onError: (e, q) => setTurns((t) => t.map((x, i) => (i === t.length - 1 && x.question === q ? { ...x, error: (e as Error).message } : x))),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (question.trim()) ask.mutate(question.trim());
    setQuestion('');
  };
  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">Ask</h1>
      <ol className="chat" aria-label="Questions and answers" aria-live="polite">
        {turns.map((t, i) => (
          <li key={i}>
            <p className="q"><strong>You:</strong> {t.question}</p>
            {t.error && <p role="alert" className="error">{t.error}</p>}
            {!t.reply && !t.error && <p className="muted">thinking…</p>}
            {t.reply?.kind === 'askBack' && (
              <div className="card">
                <p>{t.reply.askBack.question}</p>
                <div className="row">{t.reply.askBack.choices.map((c) => <button key={c.question} type="button" className="ghost" onClick={() => ask.mutate(c.question)}>{c.label}</button>)}</div>
              </div>
            )}
            {t.reply?.kind === 'answer' && <AnswerView answer={t.reply.answer} notes={t.reply.notes} />}
          </li>
        ))}
      </ol>
      <form onSubmit={submit} className="ask card">
        <label htmlFor="question">Question</label>
        <input id="question" value={question} onChange={(e) => setQuestion(e.target.value)} placeholder={EXAMPLES[0]} maxLength={500} autoComplete="off" />
        <button type="submit" disabled={!question.trim() || ask.isPending}>Ask</button>
        <span className="muted small examples">e.g. {EXAMPLES.map((x) => <button key={x} type="button" className="linkish small" onClick={() => setQuestion(x)}>{x}</button>)}</span>
      </form>
    </section>
  );
}

function AnswerView({ answer, notes }: { answer: Answer; notes: string[] }) {
  const { columns, rows, truncated } = answer.table;
  const objects = rows.map((r) => Object.fromEntries(columns.map((c, i) => [c.name, r[i]])));
  return (
    <div className="card answer">
      <p>{answer.summary}</p>
      {notes.map((n) => <p key={n} className="muted small">{n}</p>)}
      {answer.chart && rows.length > 0 && <AnswerChart chart={answer.chart} rows={objects} />}
      <div className="answer-table">
        <table className="plain" aria-label="Answer table">
          <thead><tr>{columns.map((c) => <th key={c.name}>{c.label}</th>)}</tr></thead>
          <tbody>{rows.slice(0, 200).map((r, i) => <tr key={i}>{r.map((v, j) => <td key={j}>{cell(v)}</td>)}</tr>)}</tbody>
        </table>
      </div>
      <p className="muted small">{rows.length} row(s){truncated ? ' (truncated)' : ''} · {Math.round(answer.elapsedMs)} ms</p>
      <details>
        <summary>The query that ran</summary>
        <pre className="mono small">{JSON.stringify(answer.query, null, 2)}</pre>
        <pre className="mono small">{answer.sql.text}</pre>
        <p className="mono small">values: {JSON.stringify(answer.sql.params)}</p>
      </details>
    </div>
  );
}

/** The server's chart spec drawn with recharts: x, y, and with a colour field one series per colour value. */
function AnswerChart({ chart, rows }: { chart: NonNullable<Answer['chart']>; rows: Record<string, unknown>[] }) {
  const { x, y, color } = chart.encoding;
  const xKey = (r: Record<string, unknown>) => {
    const v = r[x.field];
    if (v === null || v === undefined) return '(none)';
    return x.type === 'temporal' && typeof v === 'number' ? new Date(v).toISOString().slice(0, 10) : String(v);
  };
  let data: Record<string, unknown>[];
  let series: string[];
  if (color) {
    const byX = new Map<string, Record<string, unknown>>();
    const names = new Set<string>();
    for (const r of rows) {
      const k = xKey(r);
      const name = String(r[color.field] ?? '(none)');
      names.add(name);
      const point = byX.get(k) ?? { x: k };
      point[name] = r[y.field];
      byX.set(k, point);
    }
    data = [...byX.values()];
    series = [...names].slice(0, COLORS.length);
  } else {
    data = rows.map((r) => ({ x: xKey(r), [y.title]: r[y.field] }));
    series = [y.title];
  }
  const common = (
    <>
      <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
      <XAxis dataKey="x" stroke="var(--muted)" fontSize={11} />
      <YAxis stroke="var(--muted)" fontSize={11} />
      <Tooltip contentStyle={{ background: 'var(--panel)', border: '1px solid var(--border)' }} />
      {series.length > 1 && <Legend wrapperStyle={{ fontSize: 11 }} />}
    </>
  );
  return (
    <figure className="chart" aria-label={`${y.title} by ${x.title}`}>
      <ResponsiveContainer width="100%" height={240}>
        {chart.mark === 'line' ? (
          <LineChart data={data}>{common}{series.map((s, i) => <Line key={s} dataKey={s} stroke={COLORS[i]} dot={false} isAnimationActive={false} />)}</LineChart>
        ) : (
          <BarChart data={data}>{common}{series.map((s, i) => <Bar key={s} dataKey={s} fill={COLORS[i]} stackId={color ? 'a' : undefined} isAnimationActive={false} />)}</BarChart>
        )}
      </ResponsiveContainer>
      <figcaption className="muted small">{y.title} by {x.title}{color ? ` and ${color.title}` : ''}</figcaption>
    </figure>
  );
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
