/**
 * Detection templates: an exploit behaviour written once as a rule body with typed
 * parameters, and the vulnerabilities it fits. `rules/templates/*.yaml`, one template per
 * document; strict (unknown keys are problems), like rules. See README.md in this folder.
 */
import { LineCounter, parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { parseDuration } from '../../detect/rules/schema.js';

const durationText = z.string().regex(/^\d+(\.\d+)?(ms|s|m|h|d)$/, 'a duration such as 500ms, 10s, 5m, 1h, 1d');
const described = { description: z.string().min(1) };

/** One parameter: its type, default and bounds. */
export const paramSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('integer'), ...described, default: z.number().int(), min: z.number().int(), max: z.number().int() }),
  z.strictObject({ type: z.literal('duration'), ...described, default: durationText, min: durationText, max: durationText }),
  z.strictObject({ type: z.literal('string'), ...described, default: z.string(), pattern: z.string().min(1), maxLength: z.number().int().min(1).max(1000).default(200) }),
  /** A list of strings (event names, sensors, endpoints), each matching `pattern`. */
  z.strictObject({ type: z.literal('list'), ...described, default: z.array(z.string()).min(1), pattern: z.string().min(1), maxItems: z.number().int().min(1).max(100).default(20) }),
  z.strictObject({ type: z.literal('enum'), ...described, default: z.string(), values: z.array(z.string()).min(1) }),
]);
export type TemplateParam = z.infer<typeof paramSchema>;

/** CVSS attack vector letters: Network, Adjacent, Local, Physical. */
export const ATTACK_VECTORS = ['N', 'A', 'L', 'P'] as const;
export type AttackVector = (typeof ATTACK_VECTORS)[number];

/** Kinds of vehicle component a vulnerability can be in (suggest.ts finds them in its text and products). */
export const COMPONENT_KINDS = ['bluetooth', 'cellular', 'telematics', 'infotainment', 'browser', 'diagnostics', 'gateway', 'can', 'ota', 'backend', 'charging'] as const;
export type ComponentKind = (typeof COMPONENT_KINDS)[number];

/** Keys of the rule a template may not set: the renderer writes them for the vulnerability. */
export const RENDERED_KEYS = ['id', 'title', 'description', 'status', 'tags', 'details', 'references', 'author', 'enabled'] as const;

export const templateSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{2,63}$/, 'lowercase letters, digits and - (3-64)'),
    title: z.string().min(1).max(150),
    /** The exploit behaviour the rule looks for, in words. */
    description: z.string().min(1),
    /** Which vulnerabilities the template fits; each kind of evidence adds to the score. */
    fits: z.strictObject({
      cwes: z.array(z.string().regex(/^CWE-\d+$/, 'CWE-<number>')).default([]),
      attackVectors: z.array(z.enum(ATTACK_VECTORS)).default([]),
      /** Words (case-insensitive, whole words) looked for in the descriptions, title and affected products. */
      keywords: z.array(z.string().min(2)).default([]),
      components: z.array(z.enum(COMPONENT_KINDS)).default([]),
    }),
    /** Auto-ISAC ATM techniques and UN R155 Annex 5 refs the rule is tagged with. */
    tags: z.array(z.string()).min(1),
    params: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/, 'lowercase letters, digits and _'), paramSchema).default({}),
    /**
     * The rule body (level, type, source, detection, threshold/sequence, tests) with `{{param}}`
     * placeholders: a string that is only `{{name}}` (or `{{name - 1}}`, `{{name + 1}}` for
     * integers, `{{name[0]}}` for an item of a list) becomes the value itself; inside a longer
     * string it is written as text.
     */
    rule: z.record(z.string(), z.unknown()),
  })
  .superRefine((t, ctx) => {
    for (const k of RENDERED_KEYS) if (k in t.rule) ctx.addIssue({ code: 'custom', path: ['rule', k], message: `the renderer writes ${k}; leave it out of the template` });
    if (!Array.isArray(t.rule['tests']) || t.rule['tests'].length < 2) ctx.addIssue({ code: 'custom', path: ['rule', 'tests'], message: 'a template carries tests: one that must alert, one that must not' });
    for (const [name, p] of Object.entries(t.params)) {
      const problem = defaultProblem(p);
      if (problem) ctx.addIssue({ code: 'custom', path: ['params', name], message: problem });
    }
  });
export type DetectionTemplate = z.infer<typeof templateSchema>;

function defaultProblem(p: TemplateParam): string | undefined {
  switch (p.type) {
    case 'integer':
      return p.min <= p.default && p.default <= p.max ? undefined : `default ${p.default} is not within ${p.min}..${p.max}`;
    case 'duration': {
      const [d, lo, hi] = [p.default, p.min, p.max].map(parseDuration) as [number, number, number];
      return lo <= d && d <= hi ? undefined : `default ${p.default} is not within ${p.min}..${p.max}`;
    }
    case 'string':
      return new RegExp(p.pattern).test(p.default) ? undefined : `default does not match ${p.pattern}`;
    case 'list':
      return p.default.every((v) => new RegExp(p.pattern).test(v)) ? undefined : `a default item does not match ${p.pattern}`;
    case 'enum':
      return p.values.includes(p.default) ? undefined : `default ${p.default} is not one of ${p.values.join(', ')}`;
  }
}

export interface TemplateFile {
  readonly file: string;
  readonly text: string;
}

/** Template files to templates, with every problem (`file:line: template id: where: what`). */
export function parseTemplates(files: readonly TemplateFile[]): { templates: DetectionTemplate[]; problems: string[] } {
  const templates: DetectionTemplate[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const { file, text } of files) {
    const lines = new LineCounter();
    for (const doc of parseAllDocuments(text, { lineCounter: lines, prettyErrors: false }) as ReturnType<typeof parseAllDocuments> & unknown[]) {
      const line = lines.linePos(doc.contents?.range?.[0] ?? 0).line;
      if (doc.errors.length) {
        problems.push(...doc.errors.map((e) => `${file}:${lines.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`));
        continue;
      }
      const raw: unknown = doc.toJS();
      if (raw === null || raw === undefined) continue;
      const r = templateSchema.safeParse(raw);
      const id = typeof (raw as { id?: unknown }).id === 'string' ? (raw as { id: string }).id : '?';
      if (!r.success) {
        for (const i of r.error.issues) problems.push(`${file}:${line}: template ${id}: ${i.path.map(String).join('.') || '(top)'}: ${i.message}`);
        continue;
      }
      if (seen.has(r.data.id)) problems.push(`${file}:${line}: template ${id}: id already used`);
      seen.add(r.data.id);
      templates.push(r.data);
    }
  }
  return { templates, problems };
}
