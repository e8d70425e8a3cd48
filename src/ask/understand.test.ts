import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { understand, type Understanding } from './understand.js';
import { buildVocabulary } from './vocabulary.js';

const NOW = Date.UTC(2026, 11, 3, 12); // Thursday 3 December 2026, 12:00 UTC
const clock = new ManualClock(NOW);
const DAY = 86_400_000;
const vocabulary = buildVocabulary({
  fields: {
    make: ['Ford', 'Tesla', 'Toyota', 'Volkswagen', 'BMW', 'Hyundai'],
    model: ['F-150', 'Model 3', 'Model Y', 'RAV4 Hybrid', 'Corolla', 'ID.4', 'Golf', 'IONIQ 5'],
    trim: ['XLT', 'Long Range', 'Performance', 'LE', 'GTX'],
    region: ['us-east', 'us-west', 'eu-central', 'cn-east'],
    year: [2021, 2022, 2023, 2024],
    'software.TCU': ['TCU 4.2.1', 'TCU-X 0.9.1-rc'],
    'software.IVI': ['IVI 10.1'],
    rule: ['tcu-exploit', 'can-unknown-id', 'ota-hash-mismatch', 'api.revoked-token-replay'],
    vulnerability: ['CVE-2026-1000', 'CVE-2026-1001'],
  },
  ruleTitles: { 'api.revoked-token-replay': 'Revoked or expired token replayed' },
});

function query(q: string): Record<string, unknown> {
  const r = understand(q, vocabulary, clock);
  if (!('query' in r)) throw new Error(`${q}: ${JSON.stringify(r)}`);
  return r.query as Record<string, unknown>;
}

function askBack(q: string): { question: string; choices: readonly { label: string; question: string }[] } {
  const r: Understanding = understand(q, vocabulary, clock);
  if (!('askBack' in r)) throw new Error(`${q}: expected an ask-back, got ${JSON.stringify(r)}`);
  return r.askBack;
}

describe('question shapes', () => {
  it('counts', () => {
    expect(query('how many alerts in the last 7 days?')).toMatchObject({ entity: 'alerts', measures: [{ fn: 'count' }], groupBy: [], time: { kind: 'relative', last: 7, unit: 'day' } });
    expect(query('how many vehicles alerted?')).toMatchObject({ entity: 'alerts', measures: [{ fn: 'count_distinct', field: 'vehicle' }] });
    expect(query('how many Teslas')).toMatchObject({ entity: 'vehicles', filters: [{ field: 'make', op: 'eq', value: 'Tesla' }] });
  });
  it('lists', () => {
    expect(query('list incidents with risk above 70')).toMatchObject({ entity: 'incidents', measures: [], filters: [{ field: 'risk', op: 'gt', value: 70 }] });
  });
  it('groups by one or several fields, per and by', () => {
    expect(query('alerts by severity')).toMatchObject({ groupBy: ['severity'] });
    expect(query('number of incidents per state and severity')).toMatchObject({ entity: 'incidents', groupBy: ['state', 'severity'] });
    expect(query('vehicles by TCU software')).toMatchObject({ entity: 'vehicles', groupBy: ['software.TCU'] });
  });
  it('the question of issue 7', () => {
    expect(query('which vehicles alerted in the last 30 days, by make, model and year, and what do they have in common?')).toEqual({
      entity: 'alerts', measures: [{ fn: 'count' }, { fn: 'count_distinct', field: 'vehicle' }], filters: [],
      groupBy: ['vehicle.make', 'vehicle.model', 'vehicle.year'], time: { kind: 'relative', last: 30, unit: 'day' }, analysis: { kind: 'commonality' },
    });
  });
  it('top N and the most', () => {
    expect(query('top 5 rules by alerts this month')).toMatchObject({ groupBy: ['rule'], analysis: { kind: 'top', n: 5 } });
    expect(query('which make has the most critical alerts')).toMatchObject({ groupBy: ['vehicle.make'], filters: [{ field: 'severity', value: 'critical' }], analysis: { kind: 'top', n: 1 } });
  });
  it('trends', () => {
    expect(query('alert trend per day over the last 30 days')).toMatchObject({ analysis: { kind: 'trend', bucket: 'day' } });
    expect(query('weekly incidents this year')).toMatchObject({ entity: 'incidents', analysis: { kind: 'trend', bucket: 'week' } });
  });
  it('comparisons of periods and of values', () => {
    // Periods in time order whatever the word order, so change_* = b - a is this month - last month.
    for (const q of ['alerts this month vs last month', 'alerts last month vs this month']) {
      expect(query(q)).toMatchObject({
        analysis: { kind: 'comparison', a: { label: 'last month', time: { from: Date.UTC(2026, 10, 1), to: Date.UTC(2026, 11, 1) } }, b: { label: 'this month', time: { from: Date.UTC(2026, 11, 1), to: NOW } } },
      });
    }
    expect(query('Tesla vs Ford alerts')).toMatchObject({ analysis: { kind: 'comparison', a: { filters: [{ field: 'vehicle.make', value: 'Tesla' }] }, b: { filters: [{ field: 'vehicle.make', value: 'Ford' }] } } });
  });
  it('measures of a field', () => {
    expect(query('average risk of incidents')).toMatchObject({ measures: [{ fn: 'avg', field: 'risk' }] });
    expect(query('highest risk of open incidents')).toMatchObject({ measures: [{ fn: 'max', field: 'risk' }], filters: [{ field: 'state', op: 'not_in' }] });
    expect(query('maximum incident risk')).toMatchObject({ entity: 'incidents', measures: [{ fn: 'max', field: 'risk' }] });
    // A measure word with nothing to measure is refused, not dropped.
    expect(understand('highest alerts', vocabulary, clock)).toMatchObject({ error: expect.stringContaining('max') });
  });
  it('negation and ordered values', () => {
    expect(query('alerts for Tesla excluding us-west')).toMatchObject({ filters: [{ field: 'vehicle.make', op: 'eq', value: 'Tesla' }, { field: 'vehicle.region', op: 'ne', value: 'us-west' }] });
    expect(query('how many incidents are not resolved')).toMatchObject({ filters: [{ field: 'state', op: 'ne', value: 'resolved' }] });
    expect(query('alerts with severity at least high')).toMatchObject({ filters: [{ field: 'severity', op: 'gte', value: 'high' }], groupBy: [] });
    expect(query('alerts of Model 3 and Model Y')).toMatchObject({ filters: [{ field: 'vehicle.model', op: 'in', value: ['Model 3', 'Model Y'] }] });
  });
  it('rule ids and titles', () => {
    expect(query('tcu-exploit alerts by model')).toMatchObject({ filters: [{ field: 'rule', value: 'tcu-exploit' }], groupBy: ['vehicle.model'] });
    expect(query('how many "revoked or expired token replayed" alerts')).toMatchObject({ filters: [{ field: 'rule', value: 'api.revoked-token-replay' }] });
  });
});

describe('vulnerabilities and exposure', () => {
  it('reads feed questions and vehicles exposed to a CVE', () => {
    expect(query('how many known exploited vulnerabilities')).toEqual({ entity: 'vulnerabilities', measures: [{ fn: 'count' }], filters: [{ field: 'kev', op: 'eq', value: true }], groupBy: [], analysis: { kind: 'none' } });
    expect(query('how many critical CVEs')).toMatchObject({ entity: 'vulnerabilities', filters: [{ field: 'severity', value: 'CRITICAL' }] });
    expect(query('how many vehicles are exposed to cve-2026-1000')).toMatchObject({
      entity: 'exposures', measures: [{ fn: 'count_distinct', field: 'vehicle' }], filters: [{ field: 'vulnerability', op: 'eq', value: 'CVE-2026-1000' }],
    });
    expect(query('exposed vehicles by model')).toMatchObject({ entity: 'exposures', groupBy: ['vehicle.model'], measures: [{ fn: 'count' }, { fn: 'count_distinct', field: 'vehicle' }] });
    // A CVE id is never fuzzy: a wrong digit is not the neighbouring id.
    expect(understand('vehicles exposed to CVE-2026-1002', vocabulary, clock)).not.toHaveProperty('query');
  });
});

describe('time expressions against a manual clock', () => {
  const time = (q: string): unknown => query(q).time;
  it('rolling and calendar windows', () => {
    expect(time('alerts in the past week')).toEqual({ kind: 'relative', last: 1, unit: 'week' });
    expect(time('alerts in the last 24 hours')).toEqual({ kind: 'relative', last: 24, unit: 'hour' });
    expect(time('alerts yesterday')).toEqual({ kind: 'absolute', from: Date.UTC(2026, 11, 2), to: Date.UTC(2026, 11, 3) });
    expect(time('alerts this month')).toEqual({ kind: 'absolute', from: Date.UTC(2026, 11, 1), to: NOW });
    expect(time('alerts last month')).toEqual({ kind: 'absolute', from: Date.UTC(2026, 10, 1), to: Date.UTC(2026, 11, 1) });
  });
  it('dates: since, in a month, between, on a day; a date without a year is the latest not in the future', () => {
    expect(time('alerts since 1 March')).toEqual({ kind: 'absolute', from: Date.UTC(2026, 2, 1), to: NOW });
    expect(time('alerts in November 2026')).toEqual({ kind: 'absolute', from: Date.UTC(2026, 10, 1), to: Date.UTC(2026, 11, 1) });
    expect(time('alerts between 1 March and 15 March')).toEqual({ kind: 'absolute', from: Date.UTC(2026, 2, 1), to: Date.UTC(2026, 2, 16) });
    expect(time('alerts on 2026-11-03')).toEqual({ kind: 'absolute', from: Date.UTC(2026, 10, 3), to: Date.UTC(2026, 10, 4) });
    expect(time('alerts in 2025')).toEqual({ kind: 'absolute', from: Date.UTC(2025, 0, 1), to: Date.UTC(2026, 0, 1) });
  });
  it('moves with the clock', () => {
    const later = new ManualClock(NOW + 40 * DAY);
    const r = understand('alerts yesterday', vocabulary, later);
    expect(r).toMatchObject({ query: { time: { from: Date.UTC(2027, 0, 11), to: Date.UTC(2027, 0, 12) } } });
  });
});

describe('typos, plurals, case and diacritics', () => {
  it('matches a misspelt value, a plural and accents', () => {
    expect(query('how many alerts for Teslla')).toMatchObject({ filters: [{ field: 'vehicle.make', value: 'Tesla' }] });
    expect(query('incidnets by sevrity')).toMatchObject({ entity: 'incidents', groupBy: ['severity'] });
    expect(query('ALERTS FOR TOYTOA COROLLA')).toMatchObject({ filters: [{ value: 'Toyota' }, { value: 'Corolla' }] });
    expect(query('véhicules by région')).toMatchObject({ entity: 'vehicles', groupBy: ['region'] });
  });
  it('does not take a number for a typo of another', () => {
    expect(understand('alerts for Model 5', vocabulary, clock)).not.toHaveProperty('query');
  });
});

describe('asks back instead of guessing', () => {
  it('a word equally close to two values', () => {
    const a = askBack('how many alerts for Model X');
    expect(a.choices.map((c) => c.label).sort()).toEqual(['Model 3 (model)', 'Model Y (model)']);
    expect(a.choices.map((c) => c.question)).toContain('how many alerts for Model 3');
  });
  it('a time word without an anchor', () => {
    const a = askBack('critical alerts recently');
    expect(a.choices.map((c) => c.label)).toEqual(['last 24 hours', 'last 7 days', 'last 30 days']);
    expect(query(a.choices[1]!.question)).toMatchObject({ time: { last: 7, unit: 'day' } });
  });
  it('severity without saying of what', () => {
    expect(askBack('how many critical').choices.map((c) => c.label)).toEqual(['alerts', 'incidents']);
  });
  it('an unknown word close to known ones, and nothing to count', () => {
    expect(askBack('how many alerts for xlx').choices.map((c) => c.label)).toContain('XLT (trim)');
    expect(askBack('how many yesterday').choices.length).toBeGreaterThan(1);
  });
  it('an unknown name is an error, not a silent filter drop', () => {
    expect(understand('how many alerts for Kia', vocabulary, clock)).toMatchObject({ error: expect.stringContaining('kia') });
  });
});

describe('no word is dropped silently (issue 7 review)', () => {
  it('reads make aliases as the make', () => {
    expect(query('number of VW cars')).toMatchObject({ entity: 'vehicles', filters: [{ field: 'make', op: 'eq', value: 'Volkswagen' }] });
  });
  it('reads an entity word as the incident kind where the shape says so, and counts incidents', () => {
    const kind = [{ field: 'kind', op: 'eq', value: 'vehicle' }];
    expect(query('how many vehicle incidents')).toMatchObject({ entity: 'incidents', measures: [{ fn: 'count' }], filters: kind });
    expect(query('number of incidents of kind vehicle')).toMatchObject({ entity: 'incidents', measures: [{ fn: 'count' }], filters: kind });
    expect(query('incidents whose kind is vehicle')).toMatchObject({ entity: 'incidents', filters: kind });
    expect(query('how many campaign incidents')).toMatchObject({ entity: 'incidents', measures: [{ fn: 'count' }], filters: [{ field: 'kind', op: 'eq', value: 'campaign' }] });
    // Elsewhere "vehicles" are the vehicles: counted, no kind filter.
    expect(query('how many vehicles have incidents')).toMatchObject({ entity: 'incidents', measures: [{ fn: 'count_distinct', field: 'vehicle' }], filters: [] });
  });
  it('asks whether "vehicle alerts" counts the alerts or the vehicles, and follows either choice', () => {
    const back = askBack('how many vehicle alerts last week');
    expect(back.choices.map((c) => c.question)).toEqual(['how many alerts last week', 'how many vehicles with alerts last week']);
    expect(query(back.choices[0]!.question)).toMatchObject({ entity: 'alerts', measures: [{ fn: 'count' }] });
    expect(query(back.choices[1]!.question)).toMatchObject({ entity: 'alerts', measures: [{ fn: 'count_distinct', field: 'vehicle' }] });
    expect(query('how many vehicles alerted')).toMatchObject({ measures: [{ fn: 'count_distinct', field: 'vehicle' }] });
  });
  it('asks back about a field word it would otherwise ignore', () => {
    const back = askBack('how many incidents and their kind');
    expect(back.choices.map((c) => c.question)).toEqual(['how many incidents and their by kind']);
    expect(query(back.choices[0]!.question)).toMatchObject({ entity: 'incidents', groupBy: ['kind'] });
    expect(askBack('how many alerts with severity').choices.map((c) => c.label)).toEqual(['alerts by severity']);
  });
  it('refuses a "not" that excludes nothing it can express', () => {
    expect(understand('how many vehicles never alerted', vocabulary, clock)).toMatchObject({ error: expect.stringContaining('never') });
    expect(understand('alerts without incidents', vocabulary, clock)).toMatchObject({ error: expect.stringContaining('without') });
    expect(query('alerts that are not critical')).toMatchObject({ filters: [{ field: 'severity', op: 'ne', value: 'critical' }] });
  });
  it('puts a time range on the time field the question names', () => {
    expect(query('how many cars are registered')).toMatchObject({ entity: 'vehicles', filters: [] });
    expect(query('how many cars are registered')).not.toHaveProperty('time');
    expect(query('cars registered in the last 30 days')).toMatchObject({ entity: 'vehicles', time: { kind: 'relative', last: 30, unit: 'day', field: 'first_seen' } });
    expect(query('highest risk among incidents')).toMatchObject({ entity: 'incidents', measures: [{ fn: 'max', field: 'risk' }] });
  });
});
