/**
 * Security extract files (YAML or JSON, the format of rules/security-extract.yaml): parsed
 * and validated in one pass that reports every problem at once, then merged over the
 * built-in extract or replacing it. Reading the file is the composition root's job.
 *
 *   version: 1
 *   events:
 *     - id: 0x8001                # or 32769, or "0x8001"
 *       name: CAN_UNKNOWN_ID      # upper-case identifier
 *       severity: medium          # info | low | medium | high | critical
 *       description: ...          # optional
 *       tags: [ATM-T0072]         # optional
 *       contextData:              # optional layout of the context data bytes
 *         - { name: canId, type: uint32 }
 *         - { name: bus, type: ascii, length: 2 }
 */
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { SEVERITIES, type Severity } from '../core/records.js';
import { CONTEXT_FIELD_TYPES, type ContextField, type ContextFieldType, type SecurityEventDef } from './security-extract.js';

export type SecurityExtract = ReadonlyMap<number, SecurityEventDef>;

export interface ParsedExtract {
  readonly extract: SecurityExtract;
  /** Every problem, `file:events.3.severity: ...`; the extract is unusable when any exist. */
  readonly problems: readonly string[];
}

const NAME = /^[A-Z][A-Z0-9_]{0,63}$/;
const FIELD = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const KEYS = new Set(['id', 'name', 'severity', 'description', 'tags', 'contextData']);
const FIELD_KEYS = new Set(['name', 'type', 'length', 'littleEndian']);

function eventId(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^(0x[0-9a-f]{1,4}|\d{1,5})$/i.test(v) ? Number(v) : Number.NaN;
  return Number.isInteger(n) && n >= 0 && n <= 0xffff ? n : undefined;
}

/** Parse and validate an extract file's text; `file` names it in problems. */
export function parseSecurityExtract(text: string, file = 'security extract'): ParsedExtract {
  const problems: string[] = [];
  const extract = new Map<number, SecurityEventDef>();
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true });
  } catch (e) {
    const where = e instanceof YAMLParseError && e.linePos ? `${file}:${e.linePos[0].line}:${e.linePos[0].col}` : file;
    return { extract, problems: [`${where}: ${(e as Error).message.split('\n')[0]}`] };
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return { extract, problems: [`${file}: expected a mapping with \`version\` and \`events\``] };
  const root = doc as Record<string, unknown>;
  for (const k of Object.keys(root)) if (k !== 'version' && k !== 'events') problems.push(`${file}: ${k}: unknown key`);
  if (root.version !== 1) problems.push(`${file}: version: expected 1`);
  if (!Array.isArray(root.events)) return { extract, problems: [...problems, `${file}: events: expected a list`] };
  const firstAt = new Map<number, number>();
  root.events.forEach((raw, i) => {
    const at = `${file}: events.${i}`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      problems.push(`${at}: expected a mapping`);
      return;
    }
    const e = raw as Record<string, unknown>;
    const before = problems.length;
    for (const k of Object.keys(e)) if (!KEYS.has(k)) problems.push(`${at}.${k}: unknown key`);
    const id = eventId(e.id);
    if (id === undefined) problems.push(`${at}.id: expected an event id 0..65535 (0x8001 or 32769), got ${JSON.stringify(e.id)}`);
    else if (firstAt.has(id)) problems.push(`${at}.id: 0x${id.toString(16)} is already defined by events.${firstAt.get(id)}`);
    else firstAt.set(id, i);
    if (typeof e.name !== 'string' || !NAME.test(e.name)) problems.push(`${at}.name: expected an upper-case identifier (A-Z, 0-9, _), got ${JSON.stringify(e.name)}`);
    if (!SEVERITIES.includes(e.severity as Severity)) problems.push(`${at}.severity: expected one of ${SEVERITIES.join(', ')}, got ${JSON.stringify(e.severity)}`);
    if (e.description !== undefined && typeof e.description !== 'string') problems.push(`${at}.description: expected a string`);
    if (e.tags !== undefined && (!Array.isArray(e.tags) || e.tags.some((t) => typeof t !== 'string' || !t))) problems.push(`${at}.tags: expected a list of non-empty strings`);
    const layout = e.contextData === undefined ? undefined : contextLayout(e.contextData, `${at}.contextData`, problems);
    if (problems.length > before || id === undefined) return;
    extract.set(id, {
      name: e.name as string,
      severity: e.severity as Severity,
      ...(e.description !== undefined ? { description: e.description as string } : {}),
      ...(e.tags !== undefined ? { tags: e.tags as string[] } : {}),
      ...(layout ? { contextData: layout } : {}),
    });
  });
  return { extract: problems.length ? new Map() : extract, problems };
}

function contextLayout(v: unknown, at: string, problems: string[]): ContextField[] | undefined {
  if (!Array.isArray(v)) {
    problems.push(`${at}: expected a list of { name, type, length?, littleEndian? }`);
    return undefined;
  }
  const names = new Set<string>();
  const out: ContextField[] = [];
  v.forEach((raw, j) => {
    const where = `${at}.${j}`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      problems.push(`${where}: expected a mapping`);
      return;
    }
    const f = raw as Record<string, unknown>;
    for (const k of Object.keys(f)) if (!FIELD_KEYS.has(k)) problems.push(`${where}.${k}: unknown key`);
    if (typeof f.name !== 'string' || !FIELD.test(f.name)) problems.push(`${where}.name: expected an identifier`);
    else if (names.has(f.name)) problems.push(`${where}.name: ${f.name} is already a field`);
    else names.add(f.name);
    if (!CONTEXT_FIELD_TYPES.includes(f.type as ContextFieldType)) problems.push(`${where}.type: expected one of ${CONTEXT_FIELD_TYPES.join(', ')}`);
    const sized = f.type === 'bytes' || f.type === 'ascii';
    if (f.length !== undefined && (!sized || !Number.isInteger(f.length) || (f.length as number) < 1)) {
      problems.push(`${where}.length: only bytes and ascii fields have a length, a positive integer`);
    }
    if (sized && f.length === undefined && j !== v.length - 1) problems.push(`${where}.length: a ${String(f.type)} field without a length takes the rest, so it must be last`);
    if (f.littleEndian !== undefined && typeof f.littleEndian !== 'boolean') problems.push(`${where}.littleEndian: expected true or false`);
    out.push({
      name: f.name as string,
      type: f.type as ContextFieldType,
      ...(f.length !== undefined ? { length: f.length as number } : {}),
      ...(f.littleEndian === true ? { littleEndian: true } : {}),
    });
  });
  return out;
}

/** `merge`: the file's events over the base (same id: the file wins); `replace`: the file's only. */
export function mergeExtracts(base: SecurityExtract, file: SecurityExtract, mode: 'merge' | 'replace'): SecurityExtract {
  return mode === 'replace' ? new Map(file) : new Map([...base, ...file]);
}
