/**
 * A template, parameters and a vulnerability -> one detection rule (YAML) for that
 * vulnerability, and the check that accepts it: parsed, compiled against the signal catalog,
 * and its generated tests run by the rule test runner (src/detect/rules/samples.ts).
 *
 * The rule's id is `custom.<template>.<vulnerability id>`; its title and description name the
 * vulnerability; its tags are the template's plus `cve:<id>`; its `details` carry `intel` (the
 * vulnerability id, as the intel service's exposure alerts do), `cve` (when there is one) and
 * `template`, so every alert it raises joins that vulnerability's intel incident
 * (src/alerts/group.ts).
 */
import { stringify } from 'yaml';
import type { SignalCatalog } from '../../core/catalog.js';
import { compileRules, parseRuleFiles, runRuleTests, type SampleResult } from '../../detect/rules/index.js';
import { parseDuration } from '../../detect/rules/schema.js';
import type { Vulnerability } from '../model.js';
import type { DetectionTemplate, TemplateParam } from './schema.js';

/** A problem with one field of the request: `params.window`, `id`. */
export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

export type ParamValue = number | string | readonly string[];

export type Rendered =
  | { readonly ok: true; readonly id: string; readonly yaml: string; readonly params: Readonly<Record<string, ParamValue>> }
  | { readonly ok: false; readonly problems: readonly FieldProblem[] };

const CVE = /^CVE-\d{4}-\d{4,}$/;
const ID = /^[a-z0-9][a-z0-9_.-]{2,127}$/;

/** The CVE id of a vulnerability: its id, or a CVE alias; undefined for an advisory without one. */
export function cveOf(v: Pick<Vulnerability, 'id' | 'aliases'>): string | undefined {
  return CVE.test(v.id) ? v.id : v.aliases.find((a) => CVE.test(a));
}

/** The default id of a detection: `custom.<template>.<vulnerability id>`, lowercase. */
export function detectionId(template: string, vulnerability: string): string {
  return `custom.${template}.${vulnerability.toLowerCase().replace(/[^a-z0-9_.-]+/g, '-')}`.slice(0, 128);
}

/**
 * Check and complete the parameters (defaults for the missing ones). Values may be given as
 * text (the CLI's `--param k=v`): `5`, `10m`, `A,B` for lists.
 */
export function resolveParams(t: DetectionTemplate, given: Readonly<Record<string, unknown>>): { params: Record<string, ParamValue>; problems: FieldProblem[] } {
  const params: Record<string, ParamValue> = {};
  const problems: FieldProblem[] = [];
  for (const name of Object.keys(given)) {
    if (!(name in t.params)) problems.push({ field: `params.${name}`, message: `not a parameter of template ${t.id} (${Object.keys(t.params).join(', ') || 'none'})` });
  }
  for (const [name, p] of Object.entries(t.params)) {
    const v = given[name];
    if (v === undefined) {
      params[name] = p.default;
      continue;
    }
    const r = checkParam(p, v);
    if (typeof r === 'object' && 'problem' in r) problems.push({ field: `params.${name}`, message: r.problem });
    else params[name] = r;
  }
  return { params, problems };
}

function checkParam(p: TemplateParam, v: unknown): ParamValue | { problem: string } {
  switch (p.type) {
    case 'integer': {
      const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n)) return { problem: `must be an integer from ${p.min} to ${p.max}` };
      return n >= p.min && n <= p.max ? n : { problem: `${n} is out of bounds: from ${p.min} to ${p.max}` };
    }
    case 'duration': {
      if (typeof v !== 'string' || !/^\d+(\.\d+)?(ms|s|m|h|d)$/.test(v)) return { problem: `must be a duration such as 30s, 10m, 1h (from ${p.min} to ${p.max})` };
      const ms = parseDuration(v);
      return ms >= parseDuration(p.min) && ms <= parseDuration(p.max) ? v : { problem: `${v} is out of bounds: from ${p.min} to ${p.max}` };
    }
    case 'string':
      if (typeof v !== 'string' || v.length > p.maxLength || !new RegExp(p.pattern).test(v)) return { problem: `must be text matching ${p.pattern} (at most ${p.maxLength} characters)` };
      return v;
    case 'list': {
      const list = typeof v === 'string' ? v.split(',').map((x) => x.trim()).filter(Boolean) : v;
      if (!Array.isArray(list) || !list.length || list.length > p.maxItems || !list.every((x) => typeof x === 'string' && new RegExp(p.pattern).test(x))) {
        return { problem: `must be 1 to ${p.maxItems} items, each matching ${p.pattern}` };
      }
      return list as string[];
    }
    case 'enum':
      return typeof v === 'string' && p.values.includes(v) ? v : { problem: `must be one of ${p.values.join(', ')}` };
  }
}

/** `{{name}}`, `{{name - 1}}` / `{{name + 1}}` (integers), `{{name[0]}}` (an item of a list). */
const WHOLE = /^\{\{\s*([a-z][a-z0-9_]*)(?:\[(\d+)\])?\s*(?:([+-])\s*(\d+)\s*)?\}\}$/;
const INSIDE = /\{\{\s*([a-z][a-z0-9_]*)(?:\[(\d+)\])?\s*(?:([+-])\s*(\d+)\s*)?\}\}/g;

/** Replace placeholders in a template's rule body; unknown names are collected. */
function substitute(node: unknown, params: Readonly<Record<string, ParamValue>>, unknown: Set<string>): unknown {
  const value = (name: string, index: string | undefined, op?: string, n?: string): ParamValue => {
    const whole = params[name];
    if (whole === undefined) {
      unknown.add(name);
      return '';
    }
    if (index !== undefined && !Array.isArray(whole)) unknown.add(`${name}[${index}] (an item of a non-list)`);
    // An index past the end takes the last item: a list parameter has at least one.
    const v = index === undefined || !Array.isArray(whole) ? whole : (whole[Math.min(Number(index), whole.length - 1)] as string);
    if (op === undefined) return v;
    if (typeof v !== 'number') {
      unknown.add(`${name} (arithmetic on a non-integer)`);
      return v;
    }
    return op === '+' ? v + Number(n) : v - Number(n);
  };
  if (typeof node === 'string') {
    const m = WHOLE.exec(node);
    if (m) return value(m[1]!, m[2], m[3], m[4]);
    return node.replace(INSIDE, (_, name: string, index?: string, op?: string, n?: string) => {
      const v = value(name, index, op, n);
      return Array.isArray(v) ? v.join(', ') : String(v);
    });
  }
  if (Array.isArray(node)) return node.flatMap((x) => expandVary(substitute(x, params, unknown)));
  if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, substitute(v, params, unknown)]));
  return node;
}

/**
 * A sample event with `repeat: { count, every, vary }` becomes `count` events, each with its own
 * value of `vary` (`vehicle`, `api.actor`, `api.detail.<key>`, `security.context.<key>`):
 * `V1`..`Vn` / `x-1`..`x-n`. Templates need it to make distinct-value samples (one account
 * touching N vehicles) whatever N the analyst picks.
 */
function expandVary(node: unknown): unknown[] {
  const e = node as { at?: unknown; repeat?: { count?: unknown; every?: unknown; vary?: unknown } } | null;
  if (!e || typeof e !== 'object' || !e.repeat || typeof e.repeat.vary !== 'string') return [node];
  const { count, every, vary } = e.repeat as { count: number; every: string | number; vary: string };
  const step = typeof every === 'number' ? every : parseDuration(every);
  const start = e.at === undefined ? 0 : typeof e.at === 'number' ? e.at : parseDuration(String(e.at));
  const { repeat: _repeat, ...rest } = e;
  return Array.from({ length: count }, (_, i) => {
    const copy = structuredClone(rest) as Record<string, unknown>;
    copy['at'] = start + i * step;
    const path = vary.split('.');
    let target = copy;
    for (const k of path.slice(0, -1)) target = (target[k] ??= {}) as Record<string, unknown>;
    target[path[path.length - 1]!] = vary === 'vehicle' ? `V${i + 1}` : `${path[path.length - 1]}-${i + 1}`;
    return copy;
  });
}

export interface RenderOptions {
  /** The rule's id; default `custom.<template>.<vulnerability id>`. */
  readonly id?: string;
}

/** The rule YAML of `template` with `params` for `vulnerability`, or the problems, each naming its field. */
export function renderDetection(template: DetectionTemplate, params: Readonly<Record<string, unknown>>, vulnerability: Vulnerability, opts: RenderOptions = {}): Rendered {
  const resolved = resolveParams(template, params);
  const problems = [...resolved.problems];
  const id = opts.id ?? detectionId(template.id, vulnerability.id);
  if (!ID.test(id)) problems.push({ field: 'id', message: 'lowercase letters, digits, ., _ and - (3-128)' });
  if (problems.length) return { ok: false, problems };
  const unknown = new Set<string>();
  const body = substitute(template.rule, resolved.params, unknown) as Record<string, unknown>;
  if (unknown.size) return { ok: false, problems: [...unknown].map((n) => ({ field: 'template', message: `template ${template.id} uses an unknown placeholder ${n}` })) };
  const cve = cveOf(vulnerability);
  const about = firstSentence(vulnerability.description ?? vulnerability.descriptions?.[0]?.text ?? vulnerability.title ?? '');
  const rule = {
    id,
    title: `${template.title} (${vulnerability.id})`.slice(0, 200),
    description: `${template.description.trim()} Made from template ${template.id} for ${vulnerability.id}${about ? `: ${about}` : '.'}`,
    status: 'experimental',
    ...body,
    tags: [...template.tags, ...(cve ? [`cve:${cve}`] : [])],
    // `intel` first, as the intel service's exposure alerts have it: both land in one intel incident per vulnerability id.
    details: { intel: vulnerability.id, ...(cve ? { cve } : {}), template: template.id },
    ...(vulnerability.references.length ? { references: [...new Set(vulnerability.references.map((r) => r.url))].slice(0, 5) } : {}),
  };
  return { ok: true, id, yaml: stringify(rule, { lineWidth: 0 }), params: resolved.params };
}

function firstSentence(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  const end = t.search(/\.\s/);
  const s = end > 0 ? t.slice(0, end + 1) : t;
  return s.length > 300 ? `${s.slice(0, 297)}...` : s;
}

export interface DetectionCheck {
  readonly problems: readonly string[];
  readonly tests: readonly Pick<SampleResult, 'name' | 'expect' | 'ok' | 'alerts' | 'reason'>[];
  /** True when the rule compiled and every test passed, with one that alerts and one that does not. */
  readonly ok: boolean;
}

/** Parse, compile against `catalog` and run the rule's own tests: what accepting a detection takes. */
export function checkDetection(yaml: string, catalog: SignalCatalog): DetectionCheck {
  const parsed = parseRuleFiles([{ file: 'detection', text: yaml }]);
  const pack = compileRules(parsed, catalog, { unknownSignals: 'problem' });
  const problems = [...pack.problems];
  if (!problems.length && pack.rules.length !== 1) problems.push(`a detection is exactly one rule; the text has ${pack.rules.length}`);
  if (problems.length) return { problems, tests: [], ok: false };
  const report = runRuleTests(pack);
  for (const u of report.uncovered) problems.push(`tests: missing ${u.missing}`);
  for (const r of report.results) if (!r.ok) problems.push(`tests: ${r.name}: ${r.reason}`);
  const tests = report.results.map(({ name, expect, ok, alerts, reason }) => ({ name, expect, ok, alerts, ...(reason ? { reason } : {}) }));
  return { problems, tests, ok: problems.length === 0 };
}
