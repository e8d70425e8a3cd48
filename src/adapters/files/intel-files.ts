/**
 * Feed and SBOM documents from files, folders and URLs, for the intel service. A folder is a
 * feed: every file under it (hidden ones skipped, sorted), each recognised by its content.
 * URLs are fetched with Node's fetch. What cannot be read (a missing file, an HTTP error, a
 * refused connection) becomes one `rejected` report line with the reason; nothing throws.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FeedDocument } from '../../intel/feeds/index.js';
import type { RecordReport } from '../../intel/model.js';

/** Largest document read (a full NVD year is ~200 MB; split those). */
export const MAX_DOCUMENT_BYTES = 256 * 1024 * 1024;
/** How long a URL may take. */
export const FETCH_TIMEOUT_MS = 60_000;

export interface ReadDocuments {
  readonly docs: FeedDocument[];
  /** One rejected line per source that could not be read. */
  readonly unreadable: RecordReport[];
}

const isUrl = (s: string): boolean => /^https?:\/\//i.test(s);

/** The documents the sources name; `only` filters folder entries by name (e.g. `.json` for SBOMs). */
export async function readDocuments(sources: readonly string[], opts: { only?: (name: string) => boolean; fetch?: typeof fetch } = {}): Promise<ReadDocuments> {
  const docs: FeedDocument[] = [];
  const unreadable: RecordReport[] = [];
  const fail = (name: string, why: string): void => void unreadable.push({ document: name, format: 'unknown', recordId: '(document)', status: 'rejected', problems: [why] });
  for (const src of sources) {
    if (isUrl(src)) {
      try {
        const res = await (opts.fetch ?? fetch)(src, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
        if (!res.ok) fail(src, `HTTP ${res.status} ${res.statusText}`);
        else docs.push({ name: src, text: await res.text() });
      } catch (e) {
        fail(src, `cannot fetch: ${(e as Error).message}`);
      }
      continue;
    }
    let files: string[];
    try {
      files = statSync(src).isDirectory() ? walk(src).filter((f) => !opts.only || opts.only(f)) : [src];
    } catch (e) {
      fail(src, `cannot read: ${(e as Error).message}`);
      continue;
    }
    for (const f of files) {
      try {
        if (statSync(f).size > MAX_DOCUMENT_BYTES) fail(f, `larger than ${MAX_DOCUMENT_BYTES} bytes`);
        else docs.push({ name: f, text: readFileSync(f, 'utf8') });
      } catch (e) {
        fail(f, `cannot read: ${(e as Error).message}`);
      }
    }
  }
  return { docs, unreadable };
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}
