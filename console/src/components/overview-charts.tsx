/**
 * The overview's four charts (recharts, loaded as a chunk of its own so the overview's first
 * paint does not wait for it): alerts over time by severity, incidents over time, alerts by
 * severity, alerts by model. The numbers are the server's aggregates (overview-data.ts).
 */
import { Bar, BarChart, CartesianGrid, Cell, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { memo, type ReactElement } from 'react';
import { SEVERITIES, type Severity } from '../api';
import type { ChartData } from '../overview-data';
import { SEVERITY_COLORS, SEVERITY_RANK } from './severity';

const TOOLTIP = { background: 'var(--panel)', border: '1px solid var(--border)' };

/** Drawn once the data is there, and again only when it changes (not at each counter's refresh). */
export default memo(function OverviewCharts({ data }: { data: ChartData | undefined }) {
  if (!data) return <>{TITLES.map((t) => <ChartCard key={t} title={t} />)}</>;
  return (
    <>
      <ChartCard title={`Alerts over time, by severity (every stored alert; ${data.bucketLabel} buckets)`}>
        <BarChart data={data.alertsOverTime}>
          <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
          <XAxis dataKey="label" stroke="var(--muted)" fontSize={11} /><YAxis stroke="var(--muted)" fontSize={11} allowDecimals={false} />
          <Tooltip contentStyle={TOOLTIP} />
          <Legend wrapperStyle={{ fontSize: 11 }} itemSorter={(item) => SEVERITY_RANK[item.value as Severity] ?? 0} />
          {SEVERITIES.map((sev) => <Bar key={sev} dataKey={sev} stackId="a" fill={SEVERITY_COLORS[sev]} isAnimationActive={false} />)}
        </BarChart>
      </ChartCard>
      <ChartCard title={`Incidents over time, by creation (${data.bucketLabel} buckets)`}>
        <BarChart data={data.incidentsOverTime}>
          <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
          <XAxis dataKey="label" stroke="var(--muted)" fontSize={11} /><YAxis stroke="var(--muted)" fontSize={11} allowDecimals={false} />
          <Tooltip contentStyle={TOOLTIP} />
          <Bar dataKey="count" name="incidents" fill="#4f9dde" isAnimationActive={false} />
        </BarChart>
      </ChartCard>
      <ChartCard title="Alerts by severity (all stored)">
        <BarChart data={data.bySeverity} layout="vertical">
          <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
          <XAxis type="number" stroke="var(--muted)" fontSize={11} allowDecimals={false} /><YAxis type="category" dataKey="severity" stroke="var(--muted)" fontSize={11} width={70} />
          <Tooltip contentStyle={TOOLTIP} />
          <Bar dataKey="count" name="alerts" isAnimationActive={false}>
            {data.bySeverity.map((d) => <Cell key={d.severity} fill={SEVERITY_COLORS[d.severity]} />)}
          </Bar>
        </BarChart>
      </ChartCard>
      <ChartCard title="Alerts by model (last 30 days)">
        <BarChart data={data.byModel} layout="vertical">
          <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
          <XAxis type="number" stroke="var(--muted)" fontSize={11} allowDecimals={false} /><YAxis type="category" dataKey="model" stroke="var(--muted)" fontSize={11} width={110} />
          <Tooltip contentStyle={TOOLTIP} />
          <Bar dataKey="count" name="alerts" fill="#c764d8" isAnimationActive={false} />
        </BarChart>
      </ChartCard>
    </>
  );
});

const TITLES = ['Alerts over time, by severity', 'Incidents over time, by creation', 'Alerts by severity (all stored)', 'Alerts by model (last 30 days)'];

export function ChartCard({ title, children }: { title: string; children?: ReactElement }) {
  return (
    <section className="card chart-card" aria-label={title}>
      <h2>{title}</h2>
      {children ? <ResponsiveContainer width="100%" height={220}>{children}</ResponsiveContainer> : <div className="chart-placeholder" aria-hidden="true" />}
    </section>
  );
}
