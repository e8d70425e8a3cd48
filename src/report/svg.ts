/**
 * Small SVG chart builders for the bulletin: horizontal paired bars (this period against the
 * previous one), a daily line chart of two series, and a stacked severity bar. Output is a
 * string of inline SVG with every text escaped; sizes are in CSS pixels of an A4 page at 96 dpi
 * (the printable width is about 700 px). Pure; no browser needed.
 */
import { escapeHtml } from './escape.js';

export const COLORS = {
  now: '#1f4e79',
  before: '#a9bcd0',
  grid: '#e3e7ec',
  axis: '#5b6570',
  text: '#1d2329',
  severity: { critical: '#7b1020', high: '#c0392b', medium: '#e67e22', low: '#f1c40f', info: '#95a5a6' } as Record<string, string>,
};

const FONT = "font-family='Helvetica, Arial, sans-serif'";
const fmt = (x: number): string => x.toLocaleString('en-US');
const r1 = (x: number): string => (Math.round(x * 10) / 10).toString();

/** An axis for counts 0..max: a step of 1, 2 or 5 times a power of ten (never below 1), about 4 ticks. */
export function countAxis(max: number): { max: number; step: number } {
  const rough = Math.max(1, max / 4);
  const p = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= rough) ?? 10 * p;
  return { max: Math.max(step, Math.ceil(max / step) * step), step };
}

/** Cuts a label to `max` characters with an ellipsis (the full text goes in a <title>). */
function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

export interface PairedBar {
  readonly label: string;
  readonly now: number;
  readonly before: number;
}

/** Horizontal bars, one pair per row: this period (dark) above the previous one (light), values at the bar ends. */
export function pairedBars(rows: readonly PairedBar[], opts: { width?: number; labelWidth?: number; title: string }): string {
  const width = opts.width ?? 700;
  const labelWidth = opts.labelWidth ?? 260;
  const rowH = 30;
  const top = 8;
  const plotW = width - labelWidth - 50;
  const axis = countAxis(Math.max(1, ...rows.map((r) => Math.max(r.now, r.before))));
  const max = axis.max;
  const height = top + rows.length * rowH + 26;
  const x = (v: number): number => labelWidth + (plotW * v) / max;
  const parts: string[] = [];
  for (let v = 0; v <= max; v += axis.step) {
    const gx = x(v);
    parts.push(`<line x1='${r1(gx)}' y1='${top}' x2='${r1(gx)}' y2='${top + rows.length * rowH}' stroke='${COLORS.grid}'/>`);
    parts.push(`<text x='${r1(gx)}' y='${top + rows.length * rowH + 14}' font-size='10' text-anchor='middle' fill='${COLORS.axis}'>${fmt(v)}</text>`);
  }
  rows.forEach((row, i) => {
    const y = top + i * rowH;
    parts.push(`<text x='${labelWidth - 8}' y='${y + 18}' font-size='11' text-anchor='end' fill='${COLORS.text}'><title>${escapeHtml(row.label)}</title>${escapeHtml(cut(row.label, Math.floor((labelWidth - 10) / 5.6)))}</text>`);
    parts.push(`<rect x='${labelWidth}' y='${y + 4}' width='${r1(Math.max(0, x(row.now) - labelWidth))}' height='11' fill='${COLORS.now}'/>`);
    parts.push(`<text x='${r1(x(row.now) + 4)}' y='${y + 13}' font-size='10' fill='${COLORS.text}'>${fmt(row.now)}</text>`);
    parts.push(`<rect x='${labelWidth}' y='${y + 16}' width='${r1(Math.max(0, x(row.before) - labelWidth))}' height='8' fill='${COLORS.before}'/>`);
    parts.push(`<text x='${r1(x(row.before) + 4)}' y='${y + 24}' font-size='9' fill='${COLORS.axis}'>${fmt(row.before)}</text>`);
  });
  parts.push(`<line x1='${labelWidth}' y1='${top}' x2='${labelWidth}' y2='${top + rows.length * rowH}' stroke='${COLORS.axis}'/>`);
  return svg(width, height, opts.title, parts);
}

/** Incidents per day: this period as a dark line with points, the previous period (same day offset) as a light line. */
export function dailyLines(days: readonly number[], now: readonly number[], before: readonly number[], opts: { width?: number; height?: number; title: string }): string {
  const width = opts.width ?? 700;
  const height = opts.height ?? 220;
  const left = 40;
  const right = 12;
  const top = 10;
  const bottom = 42;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const axis = countAxis(Math.max(1, ...now, ...before));
  const max = axis.max;
  const n = days.length;
  const x = (i: number): number => left + (n <= 1 ? plotW / 2 : (plotW * i) / (n - 1));
  const y = (v: number): number => top + plotH - (plotH * v) / max;
  const parts: string[] = [];
  for (let v = 0; v <= max; v += axis.step) {
    parts.push(`<line x1='${left}' y1='${r1(y(v))}' x2='${width - right}' y2='${r1(y(v))}' stroke='${COLORS.grid}'/>`);
    parts.push(`<text x='${left - 6}' y='${r1(y(v) + 3)}' font-size='10' text-anchor='end' fill='${COLORS.axis}'>${fmt(v)}</text>`);
  }
  // At most ~10 date labels, whatever the period's length.
  const step = Math.max(1, Math.ceil(n / 10));
  for (let i = 0; i < n; i += step) {
    const d = new Date(days[i]!);
    parts.push(`<text x='${r1(x(i))}' y='${height - bottom + 16}' font-size='10' text-anchor='middle' fill='${COLORS.axis}'>${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}</text>`);
  }
  const path = (vs: readonly number[]): string => vs.map((v, i) => `${i === 0 ? 'M' : 'L'}${r1(x(i))},${r1(y(v))}`).join(' ');
  parts.push(`<path d='${path(before)}' fill='none' stroke='${COLORS.before}' stroke-width='2' stroke-dasharray='5 3'/>`);
  parts.push(`<path d='${path(now)}' fill='none' stroke='${COLORS.now}' stroke-width='2'/>`);
  if (n <= 62) now.forEach((v, i) => parts.push(`<circle cx='${r1(x(i))}' cy='${r1(y(v))}' r='2.2' fill='${COLORS.now}'/>`));
  parts.push(`<line x1='${left}' y1='${top + plotH}' x2='${width - right}' y2='${top + plotH}' stroke='${COLORS.axis}'/>`);
  const ly = height - 6;
  parts.push(`<line x1='${left}' y1='${ly - 4}' x2='${left + 22}' y2='${ly - 4}' stroke='${COLORS.now}' stroke-width='2'/><text x='${left + 28}' y='${ly}' font-size='10' fill='${COLORS.text}'>this period</text>`);
  parts.push(`<line x1='${left + 110}' y1='${ly - 4}' x2='${left + 132}' y2='${ly - 4}' stroke='${COLORS.before}' stroke-width='2' stroke-dasharray='5 3'/><text x='${left + 138}' y='${ly}' font-size='10' fill='${COLORS.text}'>previous period (same day offset)</text>`);
  return svg(width, height, opts.title, parts);
}

export interface Segment {
  readonly key: string;
  readonly value: number;
}

/** Two stacked bars (this period, previous period) split by severity, with a legend. */
export function stackedSeverity(now: readonly Segment[], before: readonly Segment[], opts: { width?: number; title: string }): string {
  const width = opts.width ?? 700;
  const labelWidth = 110;
  const barW = width - labelWidth - 10;
  const total = Math.max(1, ...[now, before].map((s) => s.reduce((a, b) => a + b.value, 0)));
  const parts: string[] = [];
  const bar = (segs: readonly Segment[], y: number, label: string): void => {
    parts.push(`<text x='${labelWidth - 8}' y='${y + 15}' font-size='11' text-anchor='end' fill='${COLORS.text}'>${escapeHtml(label)}</text>`);
    let x = labelWidth;
    for (const s of segs) {
      if (s.value <= 0) continue;
      const w = (barW * s.value) / total;
      parts.push(`<rect x='${r1(x)}' y='${y}' width='${r1(w)}' height='22' fill='${COLORS.severity[s.key] ?? COLORS.axis}'><title>${escapeHtml(s.key)}: ${fmt(s.value)}</title></rect>`);
      if (w >= 22) parts.push(`<text x='${r1(x + w / 2)}' y='${y + 15}' font-size='10' text-anchor='middle' fill='${s.key === 'low' ? COLORS.text : '#fff'}'>${fmt(s.value)}</text>`);
      x += w;
    }
  };
  bar(now, 6, 'this period');
  bar(before, 36, 'previous period');
  let lx = labelWidth;
  for (const s of now) {
    parts.push(`<rect x='${lx}' y='70' width='10' height='10' fill='${COLORS.severity[s.key] ?? COLORS.axis}'/><text x='${lx + 14}' y='79' font-size='10' fill='${COLORS.text}'>${escapeHtml(s.key)}</text>`);
    lx += 80;
  }
  return svg(width, 88, opts.title, parts);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function svg(width: number, height: number, title: string, parts: readonly string[]): string {
  return `<svg xmlns='http://www.w3.org/2000/svg' width='${width}' height='${height}' viewBox='0 0 ${width} ${height}' role='img' aria-label='${escapeHtml(title)}' ${FONT}><title>${escapeHtml(title)}</title>${parts.join('')}</svg>`;
}
