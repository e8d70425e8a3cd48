/**
 * Onboarding files, parsed: vehicle registrations (CSV or JSONL) and historical alerts
 * (JSONL). Pure: text in, records and per-line rejects out. Every refused row keeps its line
 * number, a specific reason and its raw text, so the caller can report and dead-letter it.
 * Formats and examples: README.md "Onboarding and exchange", examples/onboarding/.
 *
 * A problem with the file as a whole (a CSV header without `vin`, unknown columns) is a
 * ConfigError listing every problem: no row can be read without a usable header.
 */
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { SEVERITIES, type Alert, type VehicleIdentity } from '../core/records.js';
import { isVehicleKey } from '../core/vehicle-key.js';
import { isValidVin } from './vin.js';

export const ONBOARDING_FORMATS = ['csv', 'jsonl'] as const;
export type OnboardingFormat = (typeof ONBOARDING_FORMATS)[number];

/** Dead-letter codes of refused rows. */
export const VEHICLE_INVALID = 'import.vehicle_invalid';
export const ALERT_INVALID = 'import.alert_invalid';

/** Longest text kept per attribute (make, model, trim, region, software version). */
export const MAX_ATTRIBUTE_LENGTH = 128;
/** ECUs per vehicle at most. */
export const MAX_ECUS = 256;
/** An ECU name: letters, digits, `_`, `-`, `.`, at most 64 (it becomes a JSON key and a VSS-like path segment). */
export const ECU_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** A vehicle as registered: identity and ECU software by VIN (the caller pseudonymizes the VIN). */
export interface VehicleRegistration extends VehicleIdentity {
  readonly vin: string;
}

/** A historical alert as imported: `vin` (pseudonymized by the caller) or `vehicle` (a key), or neither for a fleet alert. */
export type ImportedAlert = Omit<Alert, 'tenant'> & { readonly vin?: string };

/** What an import answers: rows taken, rows refused (the first ones listed by line), alerts already stored. */
export interface ImportReport {
  readonly imported: number;
  readonly rejected: number;
  /** Alerts already stored under the same id (imports are idempotent); 0 for vehicles. */
  readonly duplicates: number;
  /** The first MAX_ERRORS_LISTED rejected rows, by line. */
  readonly errors: readonly { readonly line: number; readonly reason: string }[];
  /** The alerts of the file, one per id (for triage); empty for vehicles. */
  readonly alerts: readonly Alert[];
}

/** What triage of imported alerts through the alert pipeline came to. */
export interface TriageReport {
  /** Distinct incidents the alerts opened or joined. */
  readonly incidents: number;
  readonly duplicates: number;
  readonly suppressed: number;
  /** Alerts left undecided (the alert pipeline's queue was full). */
  readonly pending: number;
}

/** A refused row: 1-based line of the file where it starts, why, and its raw text. */
export interface RowReject {
  readonly line: number;
  readonly code: string;
  readonly reason: string;
  readonly raw: string;
}

export interface Parsed<T> {
  readonly records: readonly { readonly line: number; readonly value: T }[];
  readonly rejects: readonly RowReject[];
}

export interface VehicleParseOptions {
  /** Require the ISO 3779 check digit (config `normalize.vinCheckDigit`). */
  readonly checkDigit: boolean;
}

/** The format a file name suggests (`.csv`, `.jsonl`, `.ndjson`), else undefined. */
export function formatOfName(name: string): OnboardingFormat | undefined {
  if (/\.csv$/i.test(name)) return 'csv';
  if (/\.(jsonl|ndjson)$/i.test(name)) return 'jsonl';
  return undefined;
}

/** Parse a vehicle file. Throws ConfigError when the CSV header is unusable. */
export function parseVehicles(text: string, format: OnboardingFormat, opts: VehicleParseOptions): Parsed<VehicleRegistration> {
  return format === 'csv' ? parseVehicleCsv(text, opts) : parseVehicleJsonl(text, opts);
}

const text = (field: string) =>
  z.string().trim().min(1, `${field} is empty`).max(MAX_ATTRIBUTE_LENGTH, `${field} is longer than ${MAX_ATTRIBUTE_LENGTH} characters`);
const year = z.number().int('year must be an integer').min(1900, 'year must be 1900-2100').max(2100, 'year must be 1900-2100');
const ecuName = z.string().regex(ECU_NAME, 'ECU name must be letters, digits, _ - . (at most 64, starting with a letter or digit)');

const VehicleLine = z.strictObject({
  vin: z.string(),
  make: text('make').optional(),
  model: text('model').optional(),
  year: year.optional(),
  trim: text('trim').optional(),
  region: text('region').optional(),
  ecus: z.array(z.strictObject({
    name: ecuName,
    software: text('software'),
    /** Accepted for completeness of exports from other systems; Vigil's twin keeps software only. */
    hardware: text('hardware').optional(),
  })).max(MAX_ECUS, `at most ${MAX_ECUS} ECUs`).optional(),
});

function parseVehicleJsonl(input: string, opts: VehicleParseOptions): Parsed<VehicleRegistration> {
  return parseJsonl<VehicleRegistration>(input, VEHICLE_INVALID, (obj) => {
    const r = VehicleLine.safeParse(obj);
    if (!r.success) return { error: zodReason(r.error) };
    const v = r.data;
    const vinProblem = checkVin(v.vin, opts);
    if (vinProblem) return { error: vinProblem };
    const software: Record<string, string> = {};
    for (const e of v.ecus ?? []) {
      if (e.name in software) return { error: `ecus: ECU ${e.name} is listed twice` };
      software[e.name] = e.software;
    }
    return { value: registration(v.vin, { make: v.make, model: v.model, year: v.year, trim: v.trim, region: v.region }, v.ecus ? software : undefined) };
  });
}

/** CSV columns besides `ecu.<NAME>`. */
const VEHICLE_COLUMNS = ['vin', 'make', 'model', 'year', 'trim', 'region', 'ecus'] as const;

function parseVehicleCsv(input: string, opts: VehicleParseOptions): Parsed<VehicleRegistration> {
  const rows = readCsv(input);
  if (!rows.header) throw new ConfigError('the vehicle CSV is empty', ['expected a header line naming the columns, at least vin']);
  const columns = rows.header.cells.map((c) => c.trim());
  const problems: string[] = [];
  const seen = new Set<string>();
  const ecuColumns = new Map<number, string>();
  columns.forEach((c, i) => {
    const name = c.toLowerCase().startsWith('ecu.') ? c : c.toLowerCase();
    if (seen.has(name.toLowerCase())) problems.push(`column ${i + 1}: ${JSON.stringify(c)} appears twice`);
    seen.add(name.toLowerCase());
    if (name.toLowerCase().startsWith('ecu.')) {
      const ecu = name.slice(4);
      if (!ECU_NAME.test(ecu)) problems.push(`column ${i + 1}: ${JSON.stringify(c)}: ECU name must be letters, digits, _ - . (at most 64)`);
      else ecuColumns.set(i, ecu);
    } else if (!(VEHICLE_COLUMNS as readonly string[]).includes(name)) {
      problems.push(`column ${i + 1}: unknown column ${JSON.stringify(c)} (expected ${VEHICLE_COLUMNS.join(', ')} or ecu.<NAME>)`);
    }
  });
  if (!seen.has('vin')) problems.push('no vin column');
  if (problems.length) throw new ConfigError(`the vehicle CSV header (line ${rows.header.line}) is not usable`, problems);
  const index = (name: string): number => columns.findIndex((c) => c.toLowerCase() === name);
  const at = Object.fromEntries(VEHICLE_COLUMNS.map((n) => [n, index(n)])) as Record<(typeof VEHICLE_COLUMNS)[number], number>;

  const records: { line: number; value: VehicleRegistration }[] = [];
  const rejects: RowReject[] = [...rows.broken.map((b) => ({ ...b, code: VEHICLE_INVALID }))];
  for (const row of rows.records) {
    const fail = (reason: string): void => void rejects.push({ line: row.line, code: VEHICLE_INVALID, reason, raw: row.raw });
    if (row.cells.length !== columns.length) {
      fail(`${row.cells.length} fields, the header has ${columns.length}`);
      continue;
    }
    const cell = (i: number): string | undefined => {
      if (i < 0) return undefined;
      const v = row.cells[i]!.trim();
      return v === '' ? undefined : v;
    };
    const vin = cell(at.vin) ?? '';
    const problems: string[] = [];
    const vinProblem = checkVin(vin, opts);
    if (vinProblem) problems.push(vinProblem);
    const attrs: Record<string, string | undefined> = {};
    for (const name of ['make', 'model', 'trim', 'region'] as const) {
      const v = cell(at[name]);
      if (v !== undefined && v.length > MAX_ATTRIBUTE_LENGTH) problems.push(`${name} is longer than ${MAX_ATTRIBUTE_LENGTH} characters`);
      attrs[name] = v;
    }
    let yearValue: number | undefined;
    const y = cell(at.year);
    if (y !== undefined) {
      yearValue = /^\d{4}$/.test(y) ? Number(y) : NaN;
      if (!(yearValue >= 1900 && yearValue <= 2100)) problems.push(`year ${JSON.stringify(y)} is not a year 1900-2100`);
    }
    const software: Record<string, string> = {};
    let hasEcus = false;
    const addEcu = (name: string, version: string, where: string): void => {
      hasEcus = true;
      if (!ECU_NAME.test(name)) problems.push(`${where}: ECU name ${JSON.stringify(name)} must be letters, digits, _ - . (at most 64)`);
      else if (version.length > MAX_ATTRIBUTE_LENGTH) problems.push(`${where}: software version of ${name} is longer than ${MAX_ATTRIBUTE_LENGTH} characters`);
      else if (name in software) problems.push(`${where}: ECU ${name} is given twice`);
      else software[name] = version;
    };
    const ecus = cell(at.ecus);
    if (ecus !== undefined) {
      for (const part of ecus.split(';').map((p) => p.trim()).filter((p) => p !== '')) {
        const eq = part.indexOf('=');
        if (eq <= 0 || eq === part.length - 1) problems.push(`ecus: ${JSON.stringify(part)} is not NAME=VERSION`);
        else addEcu(part.slice(0, eq).trim(), part.slice(eq + 1).trim(), 'ecus');
      }
    }
    for (const [i, name] of ecuColumns) {
      const v = cell(i);
      if (v !== undefined) addEcu(name, v, `ecu.${name}`);
    }
    if (Object.keys(software).length > MAX_ECUS) problems.push(`at most ${MAX_ECUS} ECUs`);
    if (problems.length) {
      fail(problems.join('; '));
      continue;
    }
    records.push({ line: row.line, value: registration(vin, { ...attrs, year: yearValue }, hasEcus ? software : undefined) });
  }
  rejects.sort((a, b) => a.line - b.line);
  return { records, rejects };
}

const epochOrIso = z.union([
  z.number().int('an epoch-ms time must be an integer').min(0).max(8.64e15),
  z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i, 'expected an RFC 3339 time with a zone (Z or +hh:mm) or epoch milliseconds'),
]);

const AlertLine = z.strictObject({
  id: z.string().trim().min(1, 'id is empty').max(200, 'id is longer than 200 characters'),
  vin: z.string().optional(),
  vehicle: z.string().regex(/^[0-9a-f]{16}$/, 'vehicle must be a vehicle key: 16 lowercase hex digits').optional(),
  time: epochOrIso,
  detectedAt: epochOrIso.optional(),
  rule: z.string().trim().min(1, 'rule is empty').max(200),
  title: z.string().trim().min(1, 'title is empty').max(500).optional(),
  severity: z.enum(SEVERITIES),
  tags: z.array(z.string().min(1).max(200)).max(100).optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});

/** Parse historical alerts (JSONL). `vin` is checked with the same VIN rules as vehicles. */
export function parseAlerts(input: string, opts: VehicleParseOptions): Parsed<ImportedAlert> {
  return parseJsonl<ImportedAlert>(input, ALERT_INVALID, (obj) => {
    const r = AlertLine.safeParse(obj);
    if (!r.success) return { error: zodReason(r.error) };
    const a = r.data;
    if (a.vin !== undefined && a.vehicle !== undefined) return { error: 'give vin or vehicle, not both' };
    if (a.vin !== undefined) {
      const vinProblem = checkVin(a.vin, opts);
      if (vinProblem) return { error: vinProblem };
    }
    if (a.vehicle !== undefined && !isVehicleKey(a.vehicle)) return { error: 'vehicle must be a vehicle key: 16 lowercase hex digits' };
    const time = toEpochMs(a.time);
    const detectedAt = a.detectedAt === undefined ? time : toEpochMs(a.detectedAt);
    if (!Number.isFinite(time)) return { error: `time ${JSON.stringify(a.time)} is not a valid time` };
    if (!Number.isFinite(detectedAt)) return { error: `detectedAt ${JSON.stringify(a.detectedAt)} is not a valid time` };
    return {
      value: {
        id: a.id, ...(a.vin !== undefined ? { vin: a.vin } : {}), ...(a.vehicle !== undefined ? { vehicle: a.vehicle } : {}),
        time, detectedAt, rule: a.rule, title: a.title ?? a.rule, severity: a.severity, tags: a.tags ?? [], details: a.details ?? {},
      },
    };
  });
}

function toEpochMs(t: number | string): number {
  return typeof t === 'number' ? t : Date.parse(t);
}

function checkVin(vin: string, opts: VehicleParseOptions): string | undefined {
  if (vin === '') return 'vin is missing';
  if (isValidVin(vin, opts)) return undefined;
  if (isValidVin(vin, { checkDigit: false })) return `vin ${JSON.stringify(vin)} has a wrong check digit (ISO 3779; normalize.vinCheckDigit)`;
  return `vin ${JSON.stringify(vin.slice(0, 40))} is not a VIN: 17 characters 0-9 and A-Z without I, O, Q`;
}

function registration(vin: string, attrs: Record<string, string | number | undefined>, software: Record<string, string> | undefined): VehicleRegistration {
  const defined = Object.fromEntries(Object.entries(attrs).filter(([, v]) => v !== undefined));
  return { vin, ...defined, ...(software ? { software } : {}) } as VehicleRegistration;
}

/** One JSON object per line; blank lines are skipped, every other line is a record or a reject. */
function parseJsonl<T>(input: string, code: string, check: (obj: unknown) => { value: T } | { error: string }): Parsed<T> {
  const records: { line: number; value: T }[] = [];
  const rejects: RowReject[] = [];
  const lines = input.replace(/^\uFEFF/, '').split('\n');
  lines.forEach((rawLine, i) => {
    const raw = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (raw.trim() === '') return;
    const line = i + 1;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (e) {
      rejects.push({ line, code, reason: `not JSON: ${(e as Error).message}`, raw });
      return;
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      rejects.push({ line, code, reason: 'expected a JSON object', raw });
      return;
    }
    const r = check(obj);
    if ('error' in r) rejects.push({ line, code, reason: r.error, raw });
    else records.push({ line, value: r.value });
  });
  return { records, rejects };
}

function zodReason(e: z.ZodError): string {
  return e.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

interface CsvRow {
  readonly line: number;
  readonly cells: string[];
  readonly raw: string;
}

/** CSV records with their first line and raw text; a record csv-parse cannot read is `broken` and reading goes on. */
function readCsv(input: string): { header?: CsvRow; records: CsvRow[]; broken: Omit<RowReject, 'code'>[] } {
  const broken: Omit<RowReject, 'code'>[] = [];
  // One line ending: csv-parse's line count and raw text are off by a line per CRLF record.
  const parsed = parse(input.replace(/\r\n?/g, '\n'), {
    bom: true,
    info: true,
    raw: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_skip: (err, raw) => {
      const end = Number(err?.lines ?? 0);
      broken.push({ line: end, reason: `unreadable CSV: ${err?.message ?? 'malformed record'}`, raw: raw ?? '' });
      return undefined;
    },
  }) as unknown as { record: string[]; info: { lines: number }; raw: string }[];
  const rows = parsed.map((r) => {
    // The raw text of a record carries the blank lines skipped before it and its line end.
    const rawText = r.raw.replace(/^\n+/, '').replace(/\n$/, '');
    // info.lines is the line the record ends on; a quoted field may span lines.
    const line = r.info.lines - (rawText.match(/\n/g)?.length ?? 0);
    return { line, cells: r.record, raw: rawText };
  });
  const [header, ...records] = rows;
  return { ...(header ? { header } : {}), records, broken };
}
