/**
 * The audit log's hash chain, pure. Entry n stores the hash of entry n-1 (`prevHash`) and its
 * own `hash = sha256(prevHash + canonical(entry without hash))`, so changing, removing or
 * reordering any entry breaks every hash after it. The first entry's prevHash is 64 zeros.
 *
 * Canonical JSON: object keys sorted (recursively), no whitespace, `undefined` members left
 * out, as `JSON.stringify` would; the same entry always hashes the same, whatever order its
 * fields were built or read back in.
 *
 * What a chain cannot show on its own: entries cut off at the end (the remaining chain is
 * intact). Keep the last hash elsewhere (a ticket, a SIEM) to detect that.
 */
import { createHash } from 'node:crypto';
import type { AuditEntry } from './access.js';

/** prevHash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted at every level. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const s = JSON.stringify(value);
    // Top-level undefined, functions and symbols have no JSON form; inside objects they are skipped below.
    return s === undefined ? 'null' : s;
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined || typeof v === 'function' ? 'null' : canonicalJson(v))).join(',')}]`;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return canonicalJson((value as { toJSON: () => unknown }).toJSON());
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(obj).sort()) {
    const v = obj[key];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(v)}`);
  }
  return `{${parts.join(',')}}`;
}

/** The hash an entry must carry: sha256 hex over its prevHash and the canonical JSON of every field but `hash`. */
export function entryHash(entry: Omit<AuditEntry, 'hash'> | AuditEntry): string {
  const { hash: _hash, ...rest } = entry as AuditEntry;
  return createHash('sha256').update(rest.prevHash).update(canonicalJson(rest)).digest('hex');
}

/** Completes an entry with its hash. */
export function sealEntry(entry: Omit<AuditEntry, 'hash'>): AuditEntry {
  return { ...entry, hash: entryHash(entry) };
}

/** The outcome of checking a chain: intact, or the first entry that breaks it and why. */
export type ChainResult =
  | { readonly ok: true; readonly entries: number; readonly lastHash: string }
  | { readonly ok: false; readonly entries: number; readonly seq: number; readonly reason: string };

/**
 * Checks a chain entry by entry, so a long log can be read in pages. Entries must come in
 * seq order starting at 1 (or at `from` with its predecessor's hash).
 */
export class ChainVerifier {
  private expectedSeq: number;
  private prevHash: string;
  private checked = 0;
  private broken: { seq: number; reason: string } | undefined;

  constructor(from: { seq: number; prevHash: string } = { seq: 1, prevHash: GENESIS_HASH }) {
    this.expectedSeq = from.seq;
    this.prevHash = from.prevHash;
  }

  /** Checks the next entry; false once the chain is broken (later entries are not looked at). */
  push(e: AuditEntry): boolean {
    if (this.broken) return false;
    const fail = (reason: string): false => {
      this.broken = { seq: e.seq, reason };
      return false;
    };
    if (e.seq !== this.expectedSeq) {
      return fail(e.seq > this.expectedSeq ? `entries ${this.expectedSeq}..${e.seq - 1} are missing` : `seq ${e.seq} out of order (expected ${this.expectedSeq})`);
    }
    if (e.prevHash !== this.prevHash) return fail(`prevHash ${short(e.prevHash)} does not match the hash of entry ${e.seq - 1} (${short(this.prevHash)})`);
    const h = entryHash(e);
    if (e.hash !== h) return fail(`hash ${short(e.hash)} does not match the entry's content (${short(h)}): the entry was changed`);
    this.checked++;
    this.expectedSeq++;
    this.prevHash = e.hash;
    return true;
  }

  result(): ChainResult {
    if (this.broken) return { ok: false, entries: this.checked, ...this.broken };
    return { ok: true, entries: this.checked, lastHash: this.prevHash };
  }
}

/** Checks a whole chain (entries in seq order from 1): intact, or the first broken seq and why. */
export function verifyChain(entries: Iterable<AuditEntry>): ChainResult {
  const v = new ChainVerifier();
  for (const e of entries) if (!v.push(e)) break;
  return v.result();
}

const short = (h: string): string => (h.length > 12 ? `${h.slice(0, 12)}...` : h);
