/**
 * Time expressions in a question, turned into half-open UTC windows [from, to) against the
 * injected clock. Relative ones ("last 30 days", "past week", "yesterday", "this month") are
 * read here; dates ("1 March", "November 2026", "2026-11-03") by chrono-node, with the year of a
 * date that names none set to the latest one not in the future.
 *
 * Conventions (written in the README): "past/last N units" and "past week/month/year" are
 * rolling windows ending now (a month is 30 days, a year 365, as in the typed query); "last week/month/year" (no number) and "previous ..." are the
 * previous calendar week (Monday first), month or year; "this ..." runs from the start of the
 * current one to now. "Recently" and "lately" have no anchor: the caller asks back.
 */
import * as chrono from 'chrono-node';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** A time window: `from` inclusive, `to` exclusive, epoch ms; either end may be open. */
export interface TimeWindow {
  readonly from?: number;
  readonly to?: number;
  /** The words it came from, normalized ("last 30 days"). */
  readonly text: string;
  /** For a rolling window ending now: its length, as the typed query's relative range. */
  readonly relative?: { readonly last: number; readonly unit: 'hour' | 'day' | 'week' | 'month' | 'year' };
}

export interface TimeReading {
  /** Windows in the order the question names them (two for "this month vs last month"). */
  readonly windows: readonly TimeWindow[];
  /** The question with the time expressions blanked out. */
  readonly rest: string;
  /** A time word without an anchor ("recently"). */
  readonly vague?: string;
}

const NUMBER_WORDS: Record<string, number> = {
  a: 1, an: 1, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, fifteen: 15, twenty: 20, thirty: 30, sixty: 60, ninety: 90,
};
const UNIT = '(hour|day|week|month|quarter|year)s?';
const COUNT = `(\\d+|${Object.keys(NUMBER_WORDS).join('|')})`;

type Unit = 'hour' | 'day' | 'week' | 'month' | 'quarter' | 'year';

/** Finds the time expressions of `text` (already folded to lower case) relative to `now`. */
export function readTimes(text: string, now: number): TimeReading {
  const found: { at: number; window: TimeWindow }[] = [];
  let rest = text;
  const take = (re: RegExp, make: (m: RegExpExecArray) => Omit<TimeWindow, 'text'> | undefined): void => {
    rest = rest.replace(re, (...args) => {
      const m = args.slice(0, -2) as unknown as RegExpExecArray;
      const at = args[args.length - 2] as number;
      const w = make(m);
      if (!w) return m[0];
      found.push({ at, window: { ...w, text: m[0].trim() } });
      return ' '.repeat(m[0].length);
    });
  };
  // "in the last 30 days", "over the past 2 weeks", "within the last day", "last 24 hours"
  take(new RegExp(`\\b(?:(?:in|over|during|within|for) )?(?:the )?(?:last|past|previous|recent) ${COUNT} ${UNIT}\\b`, 'g'), (m) => {
    const n = NUMBER_WORDS[m[1]!] ?? Number(m[1]);
    return rolling(now, n, m[2] as Unit);
  });
  take(new RegExp(`\\b${COUNT} ${UNIT} ago\\b`, 'g'), (m) => {
    const n = NUMBER_WORDS[m[1]!] ?? Number(m[1]);
    const at = minus(now, n, m[2] as Unit);
    const unit = m[2] as Unit;
    return { from: startOf(at, unit === 'hour' ? 'hour' : unit === 'week' ? 'week' : 'day'), to: startOf(at, unit === 'hour' ? 'hour' : 'day') + (unit === 'hour' ? HOUR : unit === 'week' ? 7 * DAY : DAY) };
  });
  // rolling: "past week", "the past month"
  take(new RegExp(`\\b(?:(?:in|over|during|within) )?(?:the )?past ${UNIT}\\b`, 'g'), (m) => rolling(now, 1, m[1] as Unit));
  // calendar: "last month", "previous week"
  take(new RegExp(`\\b(?:(?:in|over|during) )?(?:the )?(?:last|previous) (week|month|quarter|year)\\b`, 'g'), (m) => {
    const unit = m[1] as Unit;
    const start = startOf(now, unit);
    return { from: startOf(start - 1, unit), to: start };
  });
  take(/\b(?:(?:so far )?this|the current|current) (week|month|quarter|year)(?: so far| to date)?\b/g, (m) => ({ from: startOf(now, m[1] as Unit), to: now }));
  take(/\b(?:month|year|week) to date\b|\b(mtd|ytd)\b/g, (m) => ({ from: startOf(now, m[0].startsWith('y') ? 'year' : m[0].startsWith('w') ? 'week' : 'month'), to: now }));
  take(/\b(?:since )?yesterday\b/g, (m) => (m[0].startsWith('since') ? { from: startOf(now, 'day') - DAY, to: now } : { from: startOf(now, 'day') - DAY, to: startOf(now, 'day') }));
  take(/\b(?:since )?today\b/g, () => ({ from: startOf(now, 'day'), to: now }));
  take(/\b(?:in|during|since|before|after) (19|20)(\d\d)\b/g, (m) => {
    const y = Date.UTC(Number(m[1]! + m[2]!), 0, 1);
    const end = Date.UTC(Number(m[1]! + m[2]!) + 1, 0, 1);
    if (m[0].startsWith('since') || m[0].startsWith('after')) return { from: m[0].startsWith('after') ? end : y, to: now };
    if (m[0].startsWith('before')) return { to: y };
    return { from: y, to: end };
  });
  rest = readDates(rest, now, found);
  const vague = /\b(recently|lately|recent|of late|these days)\b/.exec(rest)?.[1];
  found.sort((a, b) => a.at - b.at);
  return { windows: found.map((f) => f.window), rest, ...(vague && found.length === 0 ? { vague } : {}) };
}

/** Dates through chrono-node, with the word before them saying which end they are. */
function readDates(text: string, now: number, found: { at: number; window: TimeWindow }[]): string {
  const results = chrono.parse(text, { instant: new Date(now), timezone: 'UTC' }, { forwardDate: false })
    .filter((r) => /[a-z]{3}|\d{4}-\d\d|\d+\/\d+/.test(r.text));
  let rest = text;
  for (const r of results) {
    const before = text.slice(0, r.index).trimEnd();
    const word = /(\w+)$/.exec(before)?.[1] ?? '';
    const startDay = dayRange(r.start, now);
    const endDay = r.end ? dayRange(r.end, now) : undefined;
    let window: Omit<TimeWindow, 'text'>;
    let spanStart = r.index;
    if (endDay) window = { from: startDay.from, to: endDay.to };
    else if (word === 'since' || word === 'after' || word === 'from') {
      window = { from: word === 'after' ? startDay.to : startDay.from, to: now };
      spanStart = before.length - word.length;
    } else if (word === 'before' || word === 'until' || word === 'till') {
      window = { to: word === 'until' || word === 'till' ? startDay.to : startDay.from };
      spanStart = before.length - word.length;
    } else {
      window = startDay;
      if (word === 'in' || word === 'on' || word === 'during') spanStart = before.length - word.length;
    }
    // "between 1 March and 15 March": chrono reads two dates; join them.
    const prev = found[found.length - 1];
    const joined = /\b(and|to|until|-)\s*$/.test(before) && prev && /^(between|from)\b/.test(prev.window.text) && prev.window.to === now;
    if (joined && prev) {
      const merged: TimeWindow = { ...(prev.window.from !== undefined ? { from: prev.window.from } : {}), to: startDay.to, text: `${prev.window.text} ${text.slice(prev.at + prev.window.text.length, r.index + r.text.length).trim()}` };
      found[found.length - 1] = { at: prev.at, window: merged };
      rest = blank(rest, prev.at, r.index + r.text.length);
      continue;
    }
    if (word === 'between') {
      spanStart = before.length - word.length;
      window = { from: startDay.from, to: now };
    }
    found.push({ at: spanStart, window: { ...window, text: text.slice(spanStart, r.index + r.text.length).trim() } });
    rest = blank(rest, spanStart, r.index + r.text.length);
  }
  return rest;
}

function blank(s: string, from: number, to: number): string {
  return s.slice(0, from) + ' '.repeat(to - from) + s.slice(to);
}

/** The day, month or year a chrono component names, as a window; a year it does not name is the latest not after now. */
function dayRange(c: chrono.ParsedComponents, now: number): { from: number; to: number } {
  const day = c.isCertain('day');
  const month = c.isCertain('month');
  let year = c.get('year') ?? new Date(now).getUTCFullYear();
  const m = (c.get('month') ?? 1) - 1;
  const d = c.get('day') ?? 1;
  if (!c.isCertain('year') && Date.UTC(year, m, day ? d : 1) > now) year -= 1;
  if (!c.isCertain('year') && Date.UTC(year, m, day ? d : 1) <= now - 366 * DAY) year += 1;
  if (day) return { from: Date.UTC(year, m, d), to: Date.UTC(year, m, d + 1) };
  if (month) return { from: Date.UTC(year, m, 1), to: Date.UTC(year, m + 1, 1) };
  return { from: Date.UTC(year, 0, 1), to: Date.UTC(year + 1, 0, 1) };
}

/** A rolling window of n units ending now; a month is 30 days, a quarter 90, a year 365 (as the typed query's relative ranges). */
function rolling(now: number, n: number, unit: Unit): Omit<TimeWindow, 'text'> {
  const relative = unit === 'quarter' ? { last: 3 * n, unit: 'month' as const } : { last: n, unit };
  const ms = { hour: HOUR, day: DAY, week: 7 * DAY, month: 30 * DAY, year: 365 * DAY }[relative.unit];
  return { from: now - relative.last * ms, to: now, relative };
}

function minus(now: number, n: number, unit: Unit): number {
  switch (unit) {
    case 'hour': return now - n * HOUR;
    case 'day': return now - n * DAY;
    case 'week': return now - n * 7 * DAY;
    case 'month': return addMonths(now, -n);
    case 'quarter': return addMonths(now, -3 * n);
    case 'year': return addMonths(now, -12 * n);
  }
}

function addMonths(t: number, n: number): number {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
}

/** Start of the hour, day, week (Monday), month, quarter or year holding `t`, UTC. */
export function startOf(t: number, unit: Unit): number {
  const d = new Date(t);
  const y = d.getUTCFullYear();
  const mo = d.getUTCMonth();
  switch (unit) {
    case 'hour': return t - (t % HOUR);
    case 'day': return Date.UTC(y, mo, d.getUTCDate());
    case 'week': return Date.UTC(y, mo, d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
    case 'month': return Date.UTC(y, mo, 1);
    case 'quarter': return Date.UTC(y, mo - (mo % 3), 1);
    case 'year': return Date.UTC(y, 0, 1);
  }
}
