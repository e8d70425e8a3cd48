/**
 * The vocabulary of the embedded language engine: every phrase a question may use for an
 * entity, a field or a value, built from the entity catalog (names, labels, synonyms, enum
 * values), the synonyms below, and the values found in the tenant's data (makes, models,
 * trims, regions, years, ECU software versions, rule ids and titles, vulnerability ids,
 * components, assignees), which come through the `AskValueSource` port. It holds value sets,
 * not rows: a fleet of a million vehicles gives a few hundred phrases.
 */
import { CATALOG, type EntityName } from './catalog.js';
import { words } from './text.js';

/**
 * What a phrase can name. `key` is a data attribute, independent of the entity: `make`,
 * `model`, `year`, `trim`, `region`, `software.<ECU>`, `rule`, `vulnerability`, `ecu`,
 * `component`, `assignee`, or an entity's own field name (`severity`, `state`, `risk`, ...).
 */
export type Meaning =
  | { readonly kind: 'entity'; readonly entity: EntityName }
  | { readonly kind: 'field'; readonly key: string }
  | { readonly kind: 'value'; readonly key: string; readonly value: string | number | boolean; readonly entity?: EntityName };

/** Values from the data, by attribute key (see Meaning); what the port returns. */
export interface DataValues {
  readonly fields: Readonly<Record<string, readonly (string | number)[]>>;
  /** Display titles of rule ids (alert titles). */
  readonly ruleTitles?: Readonly<Record<string, string>>;
}

/** The port the vocabulary's data values come through (DuckDB: adapters/duckdb/ask-vocabulary.ts). */
export interface AskValueSource {
  values(tenant: string): Promise<DataValues>;
}

export interface Vocabulary {
  /** Phrase (normalized words joined by one space) -> what it may mean. */
  readonly phrases: ReadonlyMap<string, readonly Meaning[]>;
  /** Phrases of several words by word count, with their words, for fuzzy matching. */
  readonly byLength: readonly (readonly { readonly phrase: string; readonly words: readonly string[] }[])[];
  /** One-word phrases without digits by character length, for fuzzy matching of one word. */
  readonly wordsByChars: readonly (readonly string[])[];
  /** One-word phrases with digits by their digits ("cve-2024-1234" under "20241234"): a typo never changes digits. */
  readonly wordsByDigits: ReadonlyMap<string, readonly string[]>;
  /** Longest phrase, in words. */
  readonly maxWords: number;
  /** ECU names seen in the data. */
  readonly ecus: readonly string[];
  /**
   * Enum values whose phrase is an entity word ("vehicle": the entity, and an incident kind):
   * the phrase reads as the entity, and as the value only where the question's shape says so
   * ("vehicle incidents", "incidents of kind vehicle"; shape.ts).
   */
  readonly shadowed: ReadonlyMap<string, readonly Extract<Meaning, { kind: 'value' }>[]>;
}

/** Words for the entities beyond the catalog's synonyms. */
const ENTITY_WORDS: Readonly<Record<EntityName, readonly string[]>> = {
  vehicles: ['vehicle', 'car', 'cars', 'vin', 'vins', 'fleet', 'automobile', 'truck', 'unit'],
  alerts: ['alert', 'alerted', 'alerting', 'detection hit', 'detection hits', 'detection', 'hit', 'alarm', 'finding', 'signal hit', 'triggered', 'fired', 'flagged'],
  incidents: ['incident', 'case', 'ticket', 'investigation'],
  alert_outcomes: ['alert outcome'],
  vulnerabilities: ['vulnerability', 'vuln', 'cve', 'advisory', 'weakness'],
  exposures: ['exposure', 'exposed', 'vulnerable', 'affected by', 'exposed to', 'impacted by'],
};

/** Extra words for fields and attributes (keys as in Meaning). */
const FIELD_WORDS: Readonly<Record<string, readonly string[]>> = {
  make: ['make', 'brand', 'manufacturer', 'oem', 'marque', 'maker'],
  model: ['model', 'car model', 'vehicle model'],
  year: ['year', 'model year', 'my', 'vintage'],
  trim: ['trim', 'trim level', 'variant', 'edition', 'version of the car'],
  region: ['region', 'market', 'area', 'geography', 'location'],
  rule: ['rule', 'detection rule', 'detector', 'rule id', 'detection type', 'alert type', 'type of alert', 'signature'],
  severity: ['severity', 'priority', 'level', 'criticality'],
  state: ['state', 'status', 'stage'],
  kind: ['kind', 'incident kind', 'incident type', 'type of incident'],
  risk: ['risk', 'risk score', 'score'],
  assignee: ['assignee', 'owner', 'analyst', 'assigned'],
  vehicle: ['vehicle', 'car', 'vin'],
  cvss: ['cvss', 'cvss score', 'base score'],
  epss: ['epss', 'exploit probability'],
  ecu: ['ecu', 'controller', 'control unit'],
  component: ['component', 'library', 'package'],
  software: ['software', 'firmware', 'software version', 'firmware version', 'version', 'sw'],
  outcome: ['outcome', 'decision'],
  tags: ['tag', 'technique'],
  title: ['title'],
  signal_count: ['signal count', 'signals'],
  vehicle_count: ['vehicle count', 'vehicles involved'],
  alert_count: ['alert count', 'alerts in the incident'],
};

/** Region ids with the words people use for them. */
const REGION_WORDS: Readonly<Record<string, readonly string[]>> = {
  'us-east': ['us east', 'east coast', 'eastern us', 'us-east'],
  'us-west': ['us west', 'west coast', 'western us', 'us-west'],
  'eu-central': ['eu central', 'central europe', 'eu-central'],
  'eu-north': ['eu north', 'northern europe', 'nordics', 'scandinavia', 'eu-north'],
  'cn-east': ['cn east', 'china', 'eastern china', 'cn-east'],
};

/** Other names of makes (keys as the data spells the make; a make the data lacks adds nothing). */
const MAKE_WORDS: Readonly<Record<string, readonly string[]>> = {
  Volkswagen: ['vw'],
  'Mercedes-Benz': ['mercedes', 'merc', 'benz'],
  Chevrolet: ['chevy'],
};

/** Builds the vocabulary from the catalog and the data's values. */
export function buildVocabulary(data: DataValues): Vocabulary {
  const phrases = new Map<string, Meaning[]>();
  const shadowed = new Map<string, Extract<Meaning, { kind: 'value' }>[]>();
  const add = (phrase: string, m: Meaning): void => {
    const key = words(phrase).join(' ');
    if (key === '') return;
    const list = phrases.get(key) ?? [];
    // An entity word is the entity: "incident" is not the alert outcome, "vehicle" not the incident
    // kind — unless the question's shape says so (kept aside in `shadowed`).
    if (m.kind === 'value' && m.entity !== undefined && list.some((x) => x.kind === 'entity')) {
      const aside = shadowed.get(key) ?? [];
      if (!aside.some((x) => sameMeaning(x, m))) aside.push(m);
      shadowed.set(key, aside);
      return;
    }
    if (!list.some((x) => sameMeaning(x, m))) list.push(m);
    phrases.set(key, list);
  };
  for (const e of CATALOG) {
    for (const w of [e.name, e.label, ...e.synonyms, ...ENTITY_WORDS[e.name]]) add(w.replace(/_/g, ' '), { kind: 'entity', entity: e.name });
  }
  for (const e of CATALOG) {
    for (const f of e.fields) {
      const key = f.name.startsWith('vehicle.') && f.name !== 'vehicle' ? f.name.slice('vehicle.'.length) : f.name.replace(/^vulnerability\./, '');
      for (const w of [key.replace(/_/g, ' '), f.label, ...f.synonyms]) add(w, { kind: 'field', key });
      for (const v of f.values ?? []) {
        const meaning: Meaning = { kind: 'value', key, value: v, entity: e.name };
        add(v.replace(/_/g, ' '), meaning);
      }
    }
  }
  for (const [key, list] of Object.entries(FIELD_WORDS)) for (const w of list) add(w, { kind: 'field', key });
  const ecus: string[] = [];
  for (const [key, values] of Object.entries(data.fields)) {
    if (key.startsWith('software.')) {
      const ecu = key.slice('software.'.length);
      ecus.push(ecu);
      add(ecu, { kind: 'value', key: 'ecu', value: ecu });
      add(`${ecu} software`, { kind: 'field', key });
      add(`${ecu} firmware`, { kind: 'field', key });
      add(`${ecu} version`, { kind: 'field', key });
    }
    for (const v of values) {
      add(String(v), { kind: 'value', key, value: v });
      if (key === 'region') for (const w of REGION_WORDS[String(v)] ?? []) add(w, { kind: 'value', key, value: v });
      if (key === 'make') for (const w of MAKE_WORDS[String(v)] ?? []) add(w, { kind: 'value', key, value: v });
      if (key === 'rule') {
        const id = String(v);
        const parts = id.split('.');
        add(id.replace(/[._-]+/g, ' '), { kind: 'value', key, value: v });
        if (parts.length > 1) add(parts.slice(1).join(' ').replace(/[-_]+/g, ' '), { kind: 'value', key, value: v });
        const title = data.ruleTitles?.[id];
        if (title) add(title, { kind: 'value', key, value: v });
      }
    }
  }
  const byLength: { phrase: string; words: string[] }[][] = [];
  const wordsByChars: string[][] = [];
  const wordsByDigits = new Map<string, string[]>();
  let maxWords = 1;
  for (const p of phrases.keys()) {
    const n = p.split(' ').length;
    maxWords = Math.max(maxWords, n);
    if (n > 1) (byLength[n] ??= []).push({ phrase: p, words: p.split(' ') });
    else {
      const d = p.replace(/[^0-9]/g, '');
      if (d === '') (wordsByChars[p.length] ??= []).push(p);
      else {
        const list = wordsByDigits.get(d) ?? [];
        list.push(p);
        wordsByDigits.set(d, list);
      }
    }
  }
  return { phrases, byLength, wordsByChars, wordsByDigits, maxWords: Math.min(maxWords, 10), ecus, shadowed };
}

function sameMeaning(a: Meaning, b: Meaning): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'entity' && b.kind === 'entity') return a.entity === b.entity;
  if (a.kind === 'field' && b.kind === 'field') return a.key === b.key;
  if (a.kind === 'value' && b.kind === 'value') return a.key === b.key && a.value === b.value && a.entity === b.entity;
  return false;
}
