/**
 * Timestamps as back-end logs and IDS sensors write them, to epoch milliseconds. Every
 * parser returns undefined for anything it does not fully understand: a wrong time is
 * worse than a refused record.
 */

const MONTHS: Readonly<Record<string, number>> = {
  Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11,
};

// 10/Oct/2000:13:55:36 -0700 (Apache %t, nginx $time_local), optionally with a fraction of a second.
const CLF_TIME = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? ([+-])(\d{2})(\d{2})$/;

/** `10/Oct/2000:13:55:36 -0700` -> epoch ms. */
export function parseClfTime(s: string): number | undefined {
  const m = CLF_TIME.exec(s);
  if (!m) return undefined;
  const month = MONTHS[m[2]!];
  if (month === undefined) return undefined;
  const [day, year, h, min, sec] = [Number(m[1]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])];
  if (day < 1 || day > 31 || h > 23 || min > 59 || sec > 60) return undefined;
  const frac = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  const offset = (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10])) * 60_000;
  const t = Date.UTC(year, month, day, h, min, Math.min(sec, 59), frac) - offset;
  // Date.UTC rolls 31 Feb over into March; refuse instead.
  return new Date(t + offset).getUTCDate() === day ? t : undefined;
}

// RFC 3339 / ISO 8601 with a zone (Z or +hh:mm); a date-time without a zone is ambiguous and refused.
const ISO_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})$/i;

/** ISO 8601 / RFC 3339 date-time with a zone -> epoch ms. */
export function parseIsoTime(s: string): number | undefined {
  if (!ISO_TIME.test(s)) return undefined;
  // Date.parse takes at most milliseconds and wants `T` and `.`; trim finer fractions.
  const norm = s.replace(' ', 'T').replace(',', '.').replace(/(\.\d{3})\d+/, '$1').replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const t = Date.parse(norm);
  return Number.isFinite(t) ? t : undefined;
}

/**
 * A number of unknown unit since the epoch -> ms, by magnitude: seconds below 1e11 (before
 * year 5138), milliseconds below 1e14, microseconds below 1e17, else nanoseconds.
 */
export function epochToMs(n: number): number | undefined {
  if (!Number.isFinite(n) || n < 0) return undefined;
  if (n < 1e11) return Math.round(n * 1000);
  if (n < 1e14) return Math.round(n);
  if (n < 1e17) return Math.round(n / 1000);
  return Math.round(n / 1e6);
}

/** Any of: epoch number (unit by magnitude), numeric string, ISO 8601, CLF time. */
export function parseAnyTime(v: unknown): number | undefined {
  if (typeof v === 'number') return epochToMs(v);
  if (typeof v !== 'string' || v.length === 0 || v.length > 64) return undefined;
  if (/^\d+(?:\.\d+)?$/.test(v)) {
    // Integers beyond 2^53 (nanoseconds) lose precision as a double; go through BigInt.
    if (v.length > 15 && !v.includes('.')) return bigEpochToMs(BigInt(v));
    return epochToMs(Number(v));
  }
  return parseIsoTime(v) ?? parseClfTime(v.startsWith('[') && v.endsWith(']') ? v.slice(1, -1) : v);
}

/** Integers of 16+ digits: microseconds below 1e17, else nanoseconds. */
function bigEpochToMs(n: bigint): number | undefined {
  const ms = n < 100_000_000_000_000_000n ? n / 1000n : n / 1_000_000n;
  return ms <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(ms) : undefined;
}
