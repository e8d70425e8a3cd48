/**
 * The bulletin as one self-contained HTML document: inline CSS (screen and A4 print), charts as
 * inline SVG (svg.ts), no script, no external resource. Every text from data is escaped.
 * Numbers come from the Bulletin (bulletin.ts); nothing is computed here but formatting.
 */
import type { Bulletin, Trend, TrendRow } from './bulletin.js';
import { escapeHtml as e } from './escape.js';
import type { ExposedVulnerability } from './exposure.js';
import { dailyLines, pairedBars, stackedSeverity } from './svg.js';
import { ASSET_LABELS, ASSET_RULES, THREAT_GROUPS, type Asset } from './taxonomy.js';

export const BULLETIN_TITLE = 'Vehicle vulnerability and threat-intelligence bulletin';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const n = (x: number): string => x.toLocaleString('en-US');
/** "1 Nov 2026" (UTC). */
export function day(t: number): string {
  const d = new Date(t);
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}
/** "2026-12-03 17:20 UTC". */
export function stamp(t: number): string {
  return `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
/** "30 days", "36.5 hours" */
function lengthText(r: { from: number; to: number }): string {
  const days = (r.to - r.from) / 86_400_000;
  if (Number.isInteger(days)) return days === 1 ? '1 day' : `${n(days)} days`;
  return days >= 1 ? `${days.toFixed(1)} days` : `${((r.to - r.from) / 3_600_000).toFixed(1)} hours`;
}

/** The period as people say it: its first and last day (the end is exclusive). */
export function periodText(r: { from: number; to: number }): string {
  const last = day(r.to - 1);
  const first = day(r.from);
  return first === last ? first : `${first} – ${last}`;
}

function change(t: Trend): string {
  if (t.change === 0) return `<span class='flat'>±0</span>`;
  const cls = t.change > 0 ? 'up' : 'down';
  const sign = t.change > 0 ? '+' : '−';
  const pct = t.changePct === null ? 'new' : `${sign}${Math.abs(t.changePct).toFixed(1)}%`;
  return `<span class='${cls}'>${sign}${n(Math.abs(t.change))} (${pct})</span>`;
}

function tile(label: string, value: string, sub: string): string {
  return `<div class='tile'><div class='tile-value'>${value}</div><div class='tile-label'>${e(label)}</div><div class='tile-sub'>${sub}</div></div>`;
}

function trendTable(rows: readonly TrendRow[], first: string, withVehicles: boolean): string {
  if (rows.length === 0) return `<p class='none'>No incidents in either period.</p>`;
  const head = `<tr><th>${e(first)}</th><th class='num'>this period</th><th class='num'>previous</th><th class='num'>change</th>${withVehicles ? `<th class='num'>vehicles</th>` : ''}</tr>`;
  const body = rows.map((r) => `<tr><td>${e(r.label)}</td><td class='num'>${n(r.now)}</td><td class='num'>${n(r.before)}</td><td class='num'>${change(r)}</td>${withVehicles ? `<td class='num'>${n(r.vehicles ?? 0)}</td>` : ''}</tr>`).join('');
  return `<table class='whole'><thead>${head}</thead><tbody>${body}</tbody></table>`;
}

const fixed = (x: number | null, digits: number): string => (x === null ? '–' : x.toFixed(digits));

function vulnTable(list: readonly ExposedVulnerability[]): string {
  const cols = [19, 28, 6, 7, 6, 8, 8, 18].map((w) => `<col style='width:${w}%'>`).join('');
  const head = `<tr><th>vulnerability</th><th>title</th><th class='num'>CVSS</th><th class='num'>EPSS</th><th>KEV</th><th class='num'>vehicles</th><th class='num'>affected</th><th>top models</th></tr>`;
  const body = list.map((v) => {
    const models = [...v.byModel].sort((a, b) => b.vehicles - a.vehicles).slice(0, 3).map((m) => `${e(m.make)} ${e(m.model)} (${n(m.vehicles)})`).join('<br>');
    return `<tr><td class='id'>${e(v.id)}${v.severity ? `<br><span class='sev sev-${e(v.severity.toLowerCase())}'>${e(v.severity.toLowerCase())}</span>` : ''}</td><td class='title'>${e(v.title)}</td>`
      + `<td class='num'>${fixed(v.cvss, 1)}</td><td class='num'>${v.epss === null ? '–' : `${(v.epss * 100).toFixed(1)}%`}</td>`
      + `<td>${v.kev ? `<span class='kev'>KEV</span>` : ''}</td><td class='num'>${n(v.vehicles)}</td><td class='num'>${n(v.affected)}</td><td class='models'>${models || '–'}</td></tr>`;
  }).join('');
  return `<table class='vulns'><colgroup>${cols}</colgroup><thead>${head}</thead><tbody>${body}</tbody></table>`;
}

function vulnerabilities(b: Bulletin): string {
  const v = b.vulnerabilities;
  if (v === null) return `<section><h2>5. Vulnerabilities exposing the fleet</h2><p class='none'>No intel store was connected: exposure is not part of this bulletin.</p></section>`;
  return `<section><h2>5. Vulnerabilities exposing the fleet</h2>
    <div class='tiles'>${tile('vulnerabilities exposing vehicles now', `${n(v.exposing)}${v.truncated ? '+' : ''}`, 'affected or needing review')}
      ${tile('of them in CISA KEV', n(v.kevExposing), 'known exploited')}
      ${tile('first exposing in the period', n(v.freshTrend.now), `${change(v.freshTrend)} vs previous`)}
      ${tile('vehicles exposed by the widest', n(v.maxVehicles), v.top[0] ? e(v.top[0].id) : '–')}</div>
    <h3>Top vulnerabilities by exposure</h3>
    ${v.top.length ? vulnTable(v.top) : `<p class='none'>No known vulnerability exposes a vehicle of the tenant now.</p>`}
    <h3>New in the period: first exposed a vehicle between ${e(periodText(b.period))}</h3>
    ${v.fresh.length ? vulnTable(v.fresh) : `<p class='none'>No vulnerability first exposed the fleet in the period.</p>`}
  </section>`;
}

function method(b: Bulletin): string {
  const assets = (Object.keys(ASSET_LABELS) as Asset[]).filter((a) => a !== 'other').map((a) => {
    const prefixes = ASSET_RULES.filter((r) => r.asset === a).map((r) => `<code>${e(r.prefix)}</code>`).join(' ');
    return `<tr><td>${e(ASSET_LABELS[a])}</td><td>${prefixes}</td></tr>`;
  }).join('');
  const groups = THREAT_GROUPS.map((g) => `<tr><td>${e(g.id)} ${e(g.label)}</td><td>threats ${g.threats.join(', ')}</td></tr>`).join('');
  return `<section class='method break-before'><h2>7. Method: where each figure comes from</h2>
    <ul>
      <li><b>Period.</b> ${e(periodText(b.period))} (${lengthText(b.period)}, UTC; from ${e(stamp(b.period.from))} inclusive to ${e(stamp(b.period.to))} exclusive). Trends compare it with the previous period of the same length, ${e(periodText(b.previous))}: change = this − previous, and the percentage is 100 · change / previous (“new” when previous is 0).</li>
      <li><b>Incidents</b> are those of Vigil's incident store whose first alert falls in the period (event time), whatever their state now; states are as of ${e(stamp(b.generatedAt))}. <b>Alerts</b> are raw detections stored in the period, before deduplication and suppression. <b>Vehicles</b> are distinct pseudonymized vehicle keys: an incident's own vehicle and those of its alerts. The fleet size is the tenant's vehicles known to the store (registered or seen).</li>
      <li><b>Privacy.</b> Generated by Vigil at ${e(stamp(b.generatedAt))} for tenant ${e(b.tenant)}. Vehicles are counted by pseudonymized keys; no VIN, vehicle key or account appears in this bulletin.</li>
      <li><b>Closed</b>: incidents of the period resolved or marked false positive by now; the median is over them, from first alert to closing.</li>
      <li><b>Category</b>: the UN R155 Annex 5 Part A threat group of the <code>R155-A5:</code> references the detection rules put on their alerts (a Table A1 threat counts for the group it sits in). An incident counts once in every group its alerts name, so the rows can add up to more than the incident total; incidents whose alerts carry no reference are listed as “No R155 threat reference”.</li>
      <li><b>Asset</b>: from the ids of the incident's rules, by the longest matching prefix below; an incident counts once in every asset its rules map to.</li>
      <li><b>ATM techniques</b>: Auto-ISAC Automotive Threat Matrix technique ids (<code>ATM-T####</code>) on the incident's alerts, counted per incident. Technique names and tactics are not shown: the matrix is third-party data Vigil does not ship.</li>
      <li><b>Vulnerabilities</b>: the exposure computed by Vigil's intel store now (SBOMs and ECU software of the twins matched against CVE, NVD, CSAF, OSV feeds): vehicles exposed = result affected or needing review; affected = confirmed. CVSS is the base score, EPSS the exploitation probability, KEV whether CISA lists it as known exploited. Exposure is a present state: it is not compared with the previous period, except the count of vulnerabilities that first exposed a vehicle in each period (by the time Vigil first saw the exposure). Vehicles overlap across vulnerabilities, so they are not summed.</li>
    </ul>
    <div class='cols'>
      <div><h3>Assets by rule prefix</h3><table class='small'><tbody>${assets}</tbody></table></div>
      <div><h3>R155 Annex 5 threat groups</h3><table class='small'><tbody>${groups}</tbody></table></div>
    </div>
  </section>`;
}

const CSS = `
@page { size: A4; margin: 20mm 14mm 18mm 14mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: Helvetica, Arial, sans-serif; color: #1d2329; font-size: 10.5pt; line-height: 1.4; margin: 0 auto; max-width: 760px; padding: 16px; }
@media print { body { padding: 0; max-width: none; } }
header.cover { border-bottom: 3px solid #1f4e79; padding-bottom: 10px; margin-bottom: 14px; }
header.cover .kicker { text-transform: uppercase; letter-spacing: .08em; font-size: 8.5pt; color: #5b6570; }
h1 { font-size: 19pt; margin: 4px 0 6px; color: #1f4e79; }
h2 { font-size: 13pt; color: #1f4e79; margin: 18px 0 8px; border-bottom: 1px solid #d5dbe1; padding-bottom: 3px; break-after: avoid; }
h3 { font-size: 10.5pt; margin: 12px 0 6px; break-after: avoid; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; font-size: 9.5pt; }
dl.meta dt { color: #5b6570; } dl.meta dd { margin: 0; }
section { break-inside: auto; }
.break-before { break-before: page; }
figure { margin: 6px 0 10px; break-inside: avoid; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { font-size: 8.5pt; color: #5b6570; margin-top: 2px; }
.summary p { margin: 0 0 6px; }
.tiles { display: grid; grid-template-columns: repeat(4, 1fr); gap: 8px; margin: 8px 0 12px; break-inside: avoid; }
.tile { border: 1px solid #d5dbe1; border-left: 4px solid #1f4e79; padding: 6px 8px; border-radius: 2px; }
.tile-value { font-size: 16pt; font-weight: bold; }
.tile-label { font-size: 8.5pt; color: #1d2329; }
.tile-sub { font-size: 8pt; color: #5b6570; }
table { border-collapse: collapse; width: 100%; font-size: 9pt; margin: 4px 0 10px; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
table.whole, .cols > div { break-inside: avoid; }
.method .cols > div { break-inside: auto; }
th { text-align: left; background: #eef2f6; font-weight: 600; padding: 4px 6px; border-bottom: 1px solid #c5ced8; }
td { padding: 3px 6px; border-bottom: 1px solid #e3e7ec; vertical-align: top; }
.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.id { white-space: nowrap; font-weight: 600; }
td.title { overflow-wrap: anywhere; }
td.models { font-size: 8.5pt; }
table.vulns { table-layout: fixed; font-size: 8.5pt; }
table.vulns td.id { font-size: 8pt; }
table.vulns th, table.vulns td { padding: 3px 4px; }
table.small { font-size: 8pt; }
table.small td { padding: 2px 4px; }
.up { color: #a61b1b; } .down { color: #1e7a3c; } .flat { color: #5b6570; }
.kev { background: #7b1020; color: #fff; font-size: 7.5pt; padding: 1px 4px; border-radius: 2px; font-weight: bold; }
.sev { font-size: 7.5pt; font-weight: normal; text-transform: uppercase; color: #5b6570; }
.sev-critical { color: #7b1020; } .sev-high { color: #c0392b; }
.none { color: #5b6570; font-style: italic; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; }
.cols-2-3 { grid-template-columns: 4fr 5fr; }
.cols-2-3 > div:first-child td:first-child { white-space: nowrap; }
.method ul { padding-left: 16px; font-size: 8.5pt; margin: 0 0 6px; } .method li { margin-bottom: 3px; }
.method table { margin-bottom: 0; } .method h3 { margin-top: 6px; }
code { font-size: 8.5pt; background: #f2f4f7; padding: 0 2px; }
footer.end { margin-top: 16px; font-size: 8pt; color: #5b6570; border-top: 1px solid #d5dbe1; padding-top: 4px; }
`;

/** A threat group's short name for a chart axis ("4.3.2 Communication channels"). */
function chartLabel(key: string, label: string): string {
  const g = THREAT_GROUPS.find((x) => x.id === key);
  return g ? `${g.id} ${g.short}` : label;
}

/** The whole document. */
export function renderBulletinHtml(b: Bulletin): string {
  const h = b.headline;
  const sev = (rows: readonly TrendRow[], pick: 'now' | 'before') => rows.map((r) => ({ key: r.key, value: r[pick] }));
  const categoryChart = b.byCategory.length ? `<figure>${pairedBars(b.byCategory.map((r) => ({ label: chartLabel(r.key, r.label), now: r.now, before: r.before })), { title: 'Incidents by UN R155 threat group', labelWidth: 240 })}<figcaption>Incidents by UN R155 Annex 5 threat group: this period (dark) and the previous one (light). An incident counts in every group its alerts name.</figcaption></figure>` : '';
  const assetChart = b.byAsset.length ? `<figure>${pairedBars(b.byAsset.map((r) => ({ label: r.label.replace(/ \(.*\)$/, ''), now: r.now, before: r.before })), { title: 'Incidents by affected asset', labelWidth: 250 })}<figcaption>Incidents by affected asset: this period (dark) and the previous one (light).</figcaption></figure>` : '';
  return `<!DOCTYPE html>
<html lang='en'><head><meta charset='utf-8'>
<meta name='viewport' content='width=device-width, initial-scale=1'>
<title>${e(BULLETIN_TITLE)} – ${e(b.tenant)} – ${e(periodText(b.period))}</title>
<style>${CSS}</style></head>
<body>
<header class='cover'>
  <div class='kicker'>Vigil VSOC · UN R155 / ISO/SAE 21434 clause 8 monitoring</div>
  <h1>${e(BULLETIN_TITLE)}</h1>
  <dl class='meta'>
    <dt>Tenant</dt><dd>${e(b.tenant)}</dd>
    <dt>Period</dt><dd>${e(periodText(b.period))} (${lengthText(b.period)}, UTC)</dd>
    <dt>Compared with</dt><dd>${e(periodText(b.previous))}</dd>
    <dt>Generated</dt><dd>${e(stamp(b.generatedAt))}</dd>
  </dl>
</header>

<section class='summary'>
  <h2>1. Summary</h2>
  <div class='tiles'>
    ${tile('incidents', n(h.incidents.now), `${change(h.incidents)} vs previous`)}
    ${tile('high or critical', n(h.severe.now), `${change(h.severe)} vs previous`)}
    ${tile('vehicles in incidents', n(h.vehicles.now), `of ${n(h.fleetVehicles)} known · ${change(h.vehicles)}`)}
    ${tile('alerts', n(h.alerts.now), `${change(h.alerts)} vs previous`)}
  </div>
  ${b.summary.map((s) => `<p>${e(s)}</p>`).join('\n  ')}
</section>

<section>
  <h2>2. Incidents over time and by severity</h2>
  <figure>${dailyLines(b.daily.days, b.daily.now, b.daily.before, { title: 'Incidents per day' })}<figcaption>Incidents per day (by the day of their first alert, UTC). The dashed line is the previous period, day by day.</figcaption></figure>
  <figure>${stackedSeverity(sev(b.bySeverity, 'now'), sev(b.bySeverity, 'before'), { title: 'Incidents by severity' })}<figcaption>Incidents by severity (the highest of their alerts).</figcaption></figure>
  <div class='cols'>
    <div><h3>By severity</h3>${trendTable(b.bySeverity, 'severity', false)}</div>
    <div><h3>By state now</h3>${trendTable(b.byState, 'state', false)}<h3>By grouping</h3>${trendTable(b.byKind, 'kind', false)}</div>
  </div>
</section>

<section>
  <h2>3. Incidents by threat category (UN R155 Annex 5)</h2>
  ${categoryChart}
  ${trendTable(b.byCategory, 'threat group', true)}
</section>

<section>
  <h2>4. Incidents by affected asset</h2>
  ${assetChart}
  ${trendTable(b.byAsset, 'asset', true)}
</section>

${vulnerabilities(b)}

<section>
  <h2>6. Techniques and detections</h2>
  <div class='cols cols-2-3'>
    <div><h3>ATM techniques (top ${n(b.techniques.length)})</h3>${trendTable(b.techniques, 'technique', false)}</div>
    <div><h3>Detection rules (top ${n(b.rules.length)})</h3>${b.rules.length ? `<table><thead><tr><th>rule</th><th class='num'>incidents</th><th class='num'>previous</th><th class='num'>alerts</th></tr></thead><tbody>${b.rules.map((r) => `<tr><td><code>${e(r.key)}</code></td><td class='num'>${n(r.now)}</td><td class='num'>${n(r.before)}</td><td class='num'>${n(r.alerts)}</td></tr>`).join('')}</tbody></table>` : `<p class='none'>No incidents in the period.</p>`}</div>
  </div>
</section>

${method(b)}
</body></html>
`;
}

/** Header and footer of every PDF page (Chromium's print templates: pageNumber/totalPages are filled in by it). */
export function printTemplates(b: Bulletin): { header: string; footer: string } {
  const style = 'font-family: Helvetica, Arial, sans-serif; font-size: 8px; color: #5b6570; width: 100%; padding: 0 14mm; display: flex; justify-content: space-between;';
  return {
    header: `<div style='${style}'><span>${e(BULLETIN_TITLE)}</span><span>${e(b.tenant)} · ${e(periodText(b.period))}</span></div>`,
    footer: `<div style='${style}'><span>Generated ${e(stamp(b.generatedAt))}</span><span>Page <span class='pageNumber'></span> of <span class='totalPages'></span></span></div>`,
  };
}
