/**
 * The rule file schema: one YAML document per detection, Sigma-like. Strict: an unknown key
 * is a problem, so a typo never silently disables a check. The TypeScript types come from
 * the schema. See README.md in this folder for the format with examples.
 */
import { z } from 'zod';

/** `500ms`, `10s`, `5m`, `1h`, `1d`, or a number of milliseconds. */
export const duration = z
  .union([
    z.number().nonnegative(),
    z.string().regex(/^\d+(\.\d+)?(ms|s|m|h|d)$/, 'a duration such as 500ms, 10s, 5m, 1h, 1d'),
  ])
  .transform((v) => (typeof v === 'number' ? v : parseDuration(v)));

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(s);
  if (!m) throw new RangeError(`not a duration: ${s}`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
/** `field|modifier: value`; a list means any of the values. Fields are ANDed. */
const selectionMap = z.record(z.string(), z.union([scalar, z.array(scalar)]));
/** A map, or a list of maps (any of them). */
export const selection = z.union([selectionMap, z.array(selectionMap).min(1)]);
export type Selection = z.infer<typeof selection>;

/** Named selections plus a `condition` over their names. */
export const detection = z.object({ condition: z.string().min(1) }).catchall(selection);
export type Detection = z.infer<typeof detection>;

/** What a step, an expected event or an activity watches: a source and an optional filter. */
const matcher = z.strictObject({
  source: z.string().min(1).optional(),
  /** One selection, for the common case of a single filter. */
  where: selectionMap.optional(),
  detection: detection.optional(),
});
export type MatcherSpec = z.infer<typeof matcher>;

const field = z.string().regex(/^[A-Za-z][\w.]*$/, 'a field name');

const sampleEvent = z
  .strictObject({
    /** Offset from the test's start: a duration. */
    at: duration.default(0),
    vehicle: z.string().min(1).optional(),
    tenant: z.string().min(1).optional(),
    /** VSS path -> value, all at the same time. */
    signals: z.record(z.string(), z.union([z.number(), z.boolean(), z.string()])).optional(),
    security: z
      .strictObject({
        name: z.string().min(1),
        eventId: z.number().int().min(0).max(0xffff).optional(),
        sensor: z.string().optional(),
        count: z.number().int().min(1).optional(),
        severity: z.enum(['info', 'low', 'medium', 'high', 'critical']).optional(),
        context: z.record(z.string(), z.unknown()).optional(),
      })
      .optional(),
    api: z
      .strictObject({
        service: z.string().optional(),
        endpoint: z.string().min(1),
        method: z.string().optional(),
        status: z.number().int().optional(),
        actor: z.string().optional(),
        ip: z.string().optional(),
        ua: z.string().optional(),
        detail: z.record(z.string(), z.unknown()).optional(),
      })
      .optional(),
    /** An alert from another rule, for correlation (source: alert) rules. */
    alert: z
      .strictObject({
        rule: z.string().min(1),
        title: z.string().optional(),
        severity: z.enum(['info', 'low', 'medium', 'high', 'critical']).optional(),
        tags: z.array(z.string()).optional(),
      })
      .optional(),
    /** Run the clock tick (absence rules) at this time. */
    tick: z.literal(true).optional(),
    /** The same event `count` times, `every` apart. */
    repeat: z.strictObject({ count: z.number().int().min(1).max(100_000), every: duration }).optional(),
  })
  .refine((e) => [e.signals, e.security, e.api, e.alert, e.tick].filter((x) => x !== undefined).length === 1, 'an event is exactly one of signals, security, api, alert, tick');
export type SampleEvent = z.infer<typeof sampleEvent>;

const sample = z.strictObject({
  name: z.string().min(1),
  expect: z.enum(['alert', 'none']),
  /** Exact number of alerts expected (with `expect: alert`); default: at least one. */
  count: z.number().int().min(1).optional(),
  events: z.array(sampleEvent).min(1),
});
export type Sample = z.infer<typeof sample>;

const latLon = z.tuple([z.number().min(-90).max(90), z.number().min(-180).max(180)]);

export const RULE_TYPES = ['match', 'threshold', 'sequence', 'absence', 'change', 'consistency', 'geo'] as const;
export type RuleType = (typeof RULE_TYPES)[number];

export const LEVELS = { informational: 'info', low: 'low', medium: 'medium', high: 'high', critical: 'critical' } as const;

export const ruleSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9_.-]{2,127}$/, 'lowercase letters, digits, ., _ and - (3-128)'),
  title: z.string().min(1).max(200),
  description: z.string().optional(),
  status: z.enum(['stable', 'test', 'experimental', 'deprecated']),
  level: z.enum(['informational', 'low', 'medium', 'high', 'critical']),
  author: z.string().optional(),
  references: z.array(z.string()).optional(),
  falsepositives: z.array(z.string()).optional(),
  /** Auto-ISAC ATM technique ids (`ATM-T0070`) and UN R155 Annex 5 refs (`R155-A5:4.1`). */
  tags: z.array(z.string()).min(1),
  /**
   * Constant fields every alert of the rule carries in its `details` (before the evidence), such
   * as `cve: CVE-2017-1000251`: the alert service routes an alert naming a CVE into that CVE's
   * intel incident (src/alerts/group.ts).
   */
  details: z.record(z.string().regex(/^[A-Za-z][\w]*$/, 'a field name'), z.union([z.string(), z.number(), z.boolean(), z.array(z.string())])).optional(),
  /** false: a template (site-specific geofence, tester naming); checked and sample-tested, not run. */
  enabled: z.boolean().default(true),
  type: z.enum(RULE_TYPES).default('match'),
  /** A VSS path or branch (signals), or an event kind: `security`, `api`, `alert`. */
  source: z.string().min(1).optional(),
  detection: detection.optional(),
  /** The fields that key state and suppression (default: the vehicle). */
  'group-by': z.array(field).min(1).max(4).optional(),
  /** Raise once per rule and group within this time; repeats are counted (default 60s). */
  suppress: duration.optional(),
  /** How old a `state.<path>` value may be, relative to the event, to be used (default 30s). */
  'state-max-age': duration.optional(),
  threshold: z
    .strictObject({
      count: z.number().int().min(2),
      window: duration,
      /** Count distinct values of this field instead of events (Sigma `value_count`). */
      distinct: field.optional(),
    })
    .optional(),
  sequence: z
    .strictObject({
      timespan: duration,
      steps: z
        .array(
          matcher.extend({
            name: z.string().min(1).optional(),
            /** Matching events needed to complete the step (default 1). */
            count: z.number().int().min(1).max(1000).optional(),
            /** The step only counts this long after the previous step completed (a silence, a dwell). */
            after: duration.optional(),
          }),
        )
        .min(2)
        .max(8),
    })
    .optional(),
  absence: z.strictObject({ expect: matcher, within: duration, while: matcher.optional() }).optional(),
  change: z
    .strictObject({
      'max-increase': z.number().nonnegative().optional(),
      'max-decrease': z.number().nonnegative().optional(),
      /** Largest |change| per second. */
      'max-rate': z.number().positive().optional(),
      /** Compare only samples at most this far apart (default 60s). */
      'max-gap': duration.optional(),
    })
    .refine((c) => c['max-increase'] !== undefined || c['max-decrease'] !== undefined || c['max-rate'] !== undefined, 'give max-increase, max-decrease or max-rate')
    .optional(),
  consistency: z
    .strictObject({
      /** The signal the source must agree with: source ~ scale * with + offset. */
      with: z.string().min(1),
      scale: z.number().default(1),
      offset: z.number().default(0),
      /** Absolute difference tolerated. */
      tolerance: z.number().nonnegative(),
      /** Relative difference tolerated (of the larger magnitude); the looser of the two applies. */
      relative: z.number().min(0).max(10).default(0),
      'max-age': duration.optional(),
    })
    .optional(),
  geo: z
    .strictObject({
      'impossible-travel': z.strictObject({ 'max-speed-kmh': z.number().positive(), 'min-distance-m': z.number().nonnegative().default(1000) }).optional(),
      fence: z
        .strictObject({
          alert: z.enum(['inside', 'outside']),
          circles: z.array(z.strictObject({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180), 'radius-m': z.number().positive() })).optional(),
          polygons: z.array(z.array(latLon).min(3)).optional(),
        })
        .refine((f) => (f.circles?.length ?? 0) + (f.polygons?.length ?? 0) > 0, 'give circles or polygons')
        .optional(),
      /** Speed derived from consecutive fixes vs `Vehicle.Speed`. */
      'speed-mismatch': z.strictObject({ 'tolerance-kmh': z.number().positive(), 'min-gap': duration.default(1000), 'max-gap': duration.default(10_000) }).optional(),
    })
    .refine((g) => [g['impossible-travel'], g.fence, g['speed-mismatch']].filter((x) => x !== undefined).length === 1, 'give exactly one of impossible-travel, fence, speed-mismatch')
    .optional(),
  tests: z.array(sample).optional(),
});

export type RuleSpec = z.infer<typeof ruleSchema>;
