/**
 * Format sniffing, so that a directory of mixed files is a feed: each document is recognised
 * by its content (never by its file name), and one that is not recognised is reported with
 * what was looked for.
 */
import type { FeedFormat } from '../model.js';
import { isObject } from './common.js';
import { looksLikeEpss } from './epss.js';
import { isKevSchema } from './kev.js';

export type DetectedFormat = FeedFormat | 'kev-schema' | 'unknown';

const CVE = /^CVE-\d{4}-\d{4,}$/;

function isOsv(o: unknown): boolean {
  return isObject(o) && typeof o.id === 'string' && typeof o.modified === 'string' && !('cveMetadata' in o) && ('affected' in o || 'schema_version' in o || 'aliases' in o || 'withdrawn' in o || 'details' in o || 'summary' in o);
}

/** The format of a JSON document (already parsed). */
export function detectJson(doc: unknown): DetectedFormat {
  if (Array.isArray(doc)) return doc.length > 0 && doc.every(isOsv) ? 'osv' : 'unknown';
  if (!isObject(doc)) return 'unknown';
  if (doc.dataType === 'CVE_RECORD' || isObject(doc.cveMetadata)) return 'cve5';
  if (isObject(doc.document) && ('csaf_version' in doc.document || 'tracking' in doc.document)) return 'csaf';
  if (doc.type === 'bundle' || (typeof doc.type === 'string' && typeof doc.id === 'string' && /^[a-z0-9-]+--/.test(doc.id))) return 'stix';
  if (doc.bomFormat === 'CycloneDX') return 'cyclonedx-vex';
  if (isKevSchema(doc)) return 'kev-schema';
  if ('catalogVersion' in doc && Array.isArray(doc.vulnerabilities)) return 'kev';
  if (doc.format === 'NVD_CVE' || isObject(doc.cve)) return 'nvd';
  if (Array.isArray(doc.vulnerabilities) && doc.vulnerabilities.some((v) => isObject(v) && isObject(v.cve))) return 'nvd';
  if (typeof doc.id === 'string' && CVE.test(doc.id) && ('sourceIdentifier' in doc || 'vulnStatus' in doc || 'lastModified' in doc)) return 'nvd';
  if (isOsv(doc)) return 'osv';
  return 'unknown';
}

/** The format of a text document: JSON is parsed by the caller; this only recognises EPSS CSV. */
export function detectText(text: string): DetectedFormat {
  return looksLikeEpss(text) ? 'epss' : 'unknown';
}
