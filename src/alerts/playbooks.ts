/**
 * Playbooks as data: an id, a title, a trigger and ordered steps, each an action with
 * parameters, an optional `when` condition and `continueOnError`. Pure: parsing and checking
 * (every problem at once, with its path), trigger matching, conditions and parameter templates.
 * Running them is responder.ts.
 *
 *   id: ecu-reprogramming
 *   title: Unauthorised ECU reprogramming
 *   trigger: { type: automatic, on: incident.created, minSeverity: high, rules: [uds.reprogramming] }
 *   steps:
 *     - id: restore
 *       action: ota_campaign
 *       params: { vehicles: incident, ecu: "{{inputs.ecu}}", reason: "restore after {{incident.id}}" }
 *     - action: notify
 *       when: { steps.restore.status: succeeded }
 *       params: { channel: soc, message: "OTA restore requested for {{incident.vehicleCount}} vehicles" }
 *
 * Templates: a string parameter may hold `{{path}}`, path under `incident.`, `inputs.`,
 * `playbook.` or `steps.<id>.` (an earlier step: `status`, `result.<key>`). A parameter that is
 * exactly one template takes the value as it is (a list stays a list); otherwise it is text.
 */
import { z } from 'zod';
import { SEVERITIES, type Severity } from '../core/records.js';
import type { ActionKind } from './response.js';

const severity = z.enum(SEVERITIES);
const ident = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lowercase letters, digits, ., - and _ (max 63), starting with a letter or digit');
const channelName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'a channel name from the config (playbooks.channels)');
const vehicleKey = z.string().regex(/^[0-9a-f]{16}$/, 'a vehicle key (16 lowercase hex digits)');

/** Longest text of a notify message / webhook field, before templates are filled in. */
const MAX_TEXT = 4000;
/** Most vehicles one request may name. */
export const MAX_REQUEST_VEHICLES = 100_000;
/** Longest data collection: a week. */
export const MAX_COLLECTION_S = 7 * 24 * 3600;

/**
 * Which vehicles an OTA campaign or data collection is for: the incident's (default), listed
 * keys (or one template yielding them), or every vehicle of the tenant matching a filter.
 */
export const VehicleSet = z.union([
  z.literal('incident'),
  z.strictObject({ ids: z.union([z.array(vehicleKey).min(1).max(MAX_REQUEST_VEHICLES), z.string().regex(/^\{\{[^{}]+\}\}$/, 'a list of vehicle keys or one {{template}}')]) }),
  z.strictObject({
    filter: z
      .strictObject({
        make: z.string().min(1).optional(),
        model: z.string().min(1).optional(),
        year: z.number().int().min(1950).max(2100).optional(),
        region: z.string().min(1).optional(),
        /** ECU name -> software version the vehicle runs. */
        software: z.record(z.string().min(1), z.string().min(1)).optional(),
      })
      .refine((f) => Object.keys(f).length > 0, 'name at least one of make, model, year, region, software'),
  }),
]);
export type VehicleSetSpec = z.infer<typeof VehicleSet>;

/** Parameters of each action. */
export const ACTION_PARAMS = {
  /** A signed JSON POST to a configured webhook channel: the incident and `data`. */
  webhook: z.strictObject({
    channel: channelName,
    event: ident.default('playbook.webhook'),
    data: z.record(z.string(), z.unknown()).default({}),
  }),
  /** Ask the OTA back end for a campaign (restore or patch) on a set of vehicles. */
  ota_campaign: z.strictObject({
    vehicles: VehicleSet.default('incident'),
    ecu: z.string().min(1).max(64).optional(),
    /** Software version or package to install. */
    targetVersion: z.string().min(1).max(128).optional(),
    reason: z.string().min(1).max(MAX_TEXT),
  }),
  /** Revoke a Vigil API token of the incident's tenant. */
  revoke_token: z.strictObject({ token: z.string().min(1).max(128), reason: z.string().max(MAX_TEXT).optional() }),
  /** Raise data collection on a set of vehicles for a while (vehicles read it from the API or MQTT). */
  raise_collection: z.strictObject({
    vehicles: VehicleSet.default('incident'),
    durationS: z.number().int().min(60).max(MAX_COLLECTION_S),
    /** VSS paths to collect; absent: everything the vehicle can send. */
    signals: z.array(z.string().min(1).max(256)).max(1000).optional(),
    /** Raw CAN frames too. */
    canFrames: z.boolean().default(false),
    /** Samples per second asked for. */
    rateHz: z.number().positive().max(1000).optional(),
    reason: z.string().max(MAX_TEXT).optional(),
  }),
  /** A message to a configured channel (webhook or syslog). */
  notify: z.strictObject({
    channel: channelName,
    message: z.string().min(1).max(MAX_TEXT),
    severity: z.union([severity, z.literal('incident')]).default('incident'),
  }),
} satisfies Record<ActionKind, z.ZodType>;

export type ActionParams = { [K in ActionKind]: z.output<(typeof ACTION_PARAMS)[K]> };

/** A condition on one value: equal to it, or one operator. */
const Condition = z.union([
  z.string(), z.number(), z.boolean(),
  z.strictObject({
    eq: z.unknown().optional(), ne: z.unknown().optional(), in: z.array(z.unknown()).optional(),
    gte: z.union([z.string(), z.number()]).optional(), gt: z.union([z.string(), z.number()]).optional(),
    lte: z.union([z.string(), z.number()]).optional(), lt: z.union([z.string(), z.number()]).optional(),
    exists: z.boolean().optional(), contains: z.unknown().optional(),
  }).refine((c) => Object.keys(c).length === 1, 'exactly one operator: eq, ne, in, gte, gt, lte, lt, exists, contains'),
]);
/** Every entry must hold: `{ "incident.severity": { gte: high }, "steps.revoke.status": succeeded }`. */
export const When = z.record(z.string().regex(/^(incident|inputs|playbook|steps)(\.[A-Za-z0-9_-]+)+$/, 'a path under incident., inputs., playbook. or steps.'), Condition);
export type WhenSpec = z.infer<typeof When>;

const stepBase = { id: ident.optional(), when: When.optional(), continueOnError: z.boolean().default(false) };
export const Step = z.discriminatedUnion('action', [
  z.strictObject({ ...stepBase, action: z.literal('webhook'), params: ACTION_PARAMS.webhook }),
  z.strictObject({ ...stepBase, action: z.literal('ota_campaign'), params: ACTION_PARAMS.ota_campaign }),
  z.strictObject({ ...stepBase, action: z.literal('revoke_token'), params: ACTION_PARAMS.revoke_token }),
  z.strictObject({ ...stepBase, action: z.literal('raise_collection'), params: ACTION_PARAMS.raise_collection }),
  z.strictObject({ ...stepBase, action: z.literal('notify'), params: ACTION_PARAMS.notify }),
]);
export type PlaybookStep = z.infer<typeof Step>;

export const Trigger = z.union([
  z.strictObject({ type: z.literal('manual') }),
  z.strictObject({
    type: z.literal('automatic'),
    on: z.literal('incident.created').default('incident.created'),
    /** Only incidents at least this severe. */
    minSeverity: severity.optional(),
    /** Only incidents one of whose rules is listed. */
    rules: z.array(z.string().min(1)).min(1).optional(),
  }),
]);
export type PlaybookTrigger = z.infer<typeof Trigger>;

/** The playbook document, as PUT through the API or kept in rules/playbooks/*.yaml. */
export const PlaybookSchema = z.strictObject({
  id: ident,
  title: z.string().min(1).max(200),
  description: z.string().max(MAX_TEXT).optional(),
  trigger: Trigger.default({ type: 'manual' }),
  /** Inputs a manual run may give (`{{inputs.name}}`): name -> description. */
  inputs: z.record(z.string().regex(/^[A-Za-z0-9_]{1,64}$/), z.string().max(500)).default({}),
  steps: z.array(Step).min(1).max(50),
});
export type Playbook = z.infer<typeof PlaybookSchema>;

/** What checking a playbook found: the playbook, or every problem with its path (`steps.1.params.channel: ...`). */
export type PlaybookCheck = { playbook: Playbook; problems: [] } | { playbook?: undefined; problems: string[] };

/**
 * Parse and check a playbook document: the schema, then what spans fields — step ids unique,
 * `steps.<id>` in conditions and templates naming an earlier step, template roots known,
 * `inputs.<name>` declared, channels among `channels` when given.
 */
export function checkPlaybook(doc: unknown, opts: { channels?: ReadonlySet<string> } = {}): PlaybookCheck {
  const parsed = PlaybookSchema.safeParse(doc);
  if (!parsed.success) return { problems: parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`) };
  const p = parsed.data;
  const problems: string[] = [];
  const earlier = new Set<string>();
  p.steps.forEach((s, i) => {
    const at = `steps.${i}`;
    if (s.id !== undefined && earlier.has(s.id)) problems.push(`${at}.id: "${s.id}" is already the id of an earlier step`);
    for (const path of Object.keys(s.when ?? {})) problems.push(...referenceProblems(path, `${at}.when.${path}`, earlier, p.inputs));
    for (const [where, path] of templatesIn(s.params, `${at}.params`)) problems.push(...referenceProblems(path, where, earlier, p.inputs));
    if ('channel' in s.params && opts.channels && !opts.channels.has(s.params.channel)) {
      problems.push(`${at}.params.channel: no channel "${s.params.channel}" in the config (playbooks.channels: ${[...opts.channels].join(', ') || 'none'})`);
    }
    if (s.id !== undefined) earlier.add(s.id);
  });
  return problems.length ? { problems } : { playbook: p, problems: [] };
}

function referenceProblems(path: string, where: string, earlier: ReadonlySet<string>, inputs: Readonly<Record<string, string>>): string[] {
  const [root, name] = path.split('.');
  if (root === 'steps' && (name === undefined || !earlier.has(name))) return [`${where}: steps.${name ?? ''} is not an earlier step's id`];
  if (root === 'inputs' && (name === undefined || !(name in inputs))) return [`${where}: input "${name ?? ''}" is not declared under inputs`];
  if (!['incident', 'inputs', 'playbook', 'steps'].includes(root ?? '')) return [`${where}: {{${path}}} must start with incident., inputs., playbook. or steps.`];
  return [];
}

const TEMPLATE = /\{\{\s*([^{}\s]+)\s*\}\}/g;

/** Every `{{path}}` inside `value`, with where it is. */
function templatesIn(value: unknown, where: string): [string, string][] {
  if (typeof value === 'string') return [...value.matchAll(TEMPLATE)].map((m) => [where, m[1]!]);
  if (Array.isArray(value)) return value.flatMap((v, i) => templatesIn(v, `${where}.${i}`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => templatesIn(v, `${where}.${k}`));
  return [];
}

/** What templates and conditions see while a playbook runs. */
export interface RunContext {
  readonly incident: Readonly<Record<string, unknown>>;
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly playbook: { readonly id: string; readonly title: string };
  /** Earlier steps by id: their status and result. */
  readonly steps: Readonly<Record<string, { status: string; result?: Readonly<Record<string, unknown>> }>>;
}

/** The value at a dotted path, or undefined. */
export function lookup(ctx: RunContext, path: string): unknown {
  let v: unknown = ctx;
  for (const k of path.split('.')) {
    if (v === null || typeof v !== 'object' || !Object.prototype.hasOwnProperty.call(v, k)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/** `value` with its templates filled in from `ctx` (see the file comment). */
export function fillTemplates(value: unknown, ctx: RunContext): unknown {
  if (typeof value === 'string') {
    const whole = /^\{\{\s*([^{}\s]+)\s*\}\}$/.exec(value);
    if (whole) return lookup(ctx, whole[1]!);
    return value.replace(TEMPLATE, (_, path: string) => {
      const v = lookup(ctx, path);
      return v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => fillTemplates(v, ctx));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const filled = fillTemplates(v, ctx);
      if (filled !== undefined) out[k] = filled;
    }
    return out;
  }
  return value;
}

/** Whether every condition of `when` holds in `ctx`; an absent `when` holds. */
export function conditionHolds(when: WhenSpec | undefined, ctx: RunContext): boolean {
  if (!when) return true;
  return Object.entries(when).every(([path, cond]) => {
    const v = lookup(ctx, path);
    if (typeof cond !== 'object') return equal(v, cond);
    const [op, want] = Object.entries(cond)[0]!;
    switch (op) {
      case 'eq': return equal(v, want);
      case 'ne': return !equal(v, want);
      case 'in': return (want as unknown[]).some((w) => equal(v, w));
      case 'exists': return (v !== undefined && v !== null && v !== '') === want;
      case 'contains': return Array.isArray(v) ? v.some((x) => equal(x, want)) : typeof v === 'string' && typeof want === 'string' && v.includes(want);
      default: {
        const c = compare(v, want);
        if (c === undefined) return false;
        return op === 'gte' ? c >= 0 : op === 'gt' ? c > 0 : op === 'lte' ? c <= 0 : c < 0;
      }
    }
  });
}

function equal(a: unknown, b: unknown): boolean {
  return a === b || (typeof a === 'number' && typeof b === 'string' && String(a) === b) || (typeof a === 'string' && typeof b === 'number' && a === String(b));
}

/** Severities compare by rank, numbers as numbers; anything else does not compare. */
function compare(a: unknown, b: unknown): number | undefined {
  const rank = (x: unknown): number => SEVERITIES.indexOf(x as Severity);
  if (rank(a) >= 0 && rank(b) >= 0) return rank(a) - rank(b);
  const x = typeof a === 'string' && a !== '' ? Number(a) : a;
  const y = typeof b === 'string' && b !== '' ? Number(b) : b;
  return typeof x === 'number' && typeof y === 'number' && !Number.isNaN(x) && !Number.isNaN(y) ? x - y : undefined;
}

/** Whether an automatic playbook starts for a newly created incident. */
export function triggersOn(p: Playbook, incident: { severity: Severity; rules: readonly string[] }): boolean {
  const t = p.trigger;
  if (t.type !== 'automatic') return false;
  if (t.minSeverity && SEVERITIES.indexOf(incident.severity) < SEVERITIES.indexOf(t.minSeverity)) return false;
  if (t.rules && !incident.rules.some((r) => t.rules!.includes(r))) return false;
  return true;
}

/** Parameters of one action checked against its schema, or the problems (paths under `params.`). */
export function checkActionParams<K extends ActionKind>(action: K, params: unknown): { params: ActionParams[K]; problems: [] } | { params?: undefined; problems: string[] } {
  const r = ACTION_PARAMS[action].safeParse(params ?? {});
  if (r.success) return { params: r.data as ActionParams[K], problems: [] };
  return { problems: r.error.issues.map((i) => `params.${i.path.join('.')}: ${i.message}`) };
}
