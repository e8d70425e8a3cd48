/**
 * CycloneDX VEX (CycloneDX 1.4+ `vulnerabilities[]` with `analysis`): each vulnerability is
 * one record; each `affects[].ref` becomes a VEX statement, the ref resolved against the
 * BOM's metadata.component and components (recursively) for name, version, purl and CPE.
 * Ratings with a CVSS vector are scored like every other source.
 *
 * Validation: when a CycloneDX schema validator is handed in (src/intel/sbom/schema.ts builds
 * one with ajv from the JSON schemas @cyclonedx/cyclonedx-library ships), the whole document is
 * validated and each problem is reported on the vulnerability it concerns (instance path
 * `/vulnerabilities/N`), the rest on a `(document)` line. Without one, only what this reader
 * needs is checked: an id, analysis.state from the impactAnalysisState enumeration, affects
 * refs that resolve to bom-refs.
 */
import { newVulnerability, type VexStatement, type VexStatus } from '../model.js';
import { scoreCvss } from './cvss.js';
import { emptyResult, isObject, RecordProblems, rejected, source, str, strings, type FeedResult } from './common.js';

const STATE: Record<string, VexStatus> = {
  resolved: 'fixed',
  resolved_with_pedigree: 'fixed',
  exploitable: 'affected',
  in_triage: 'under_investigation',
  false_positive: 'not_affected',
  not_affected: 'not_affected',
};
const METHOD_VERSION: Record<string, string> = { CVSSv2: '2.0', CVSSv3: '3.0', CVSSv31: '3.1', CVSSv4: '4.0' };

type Component = { name?: string; version?: string; purl?: string; cpe?: string };

function components(doc: Record<string, unknown>): Map<string, Component> {
  const out = new Map<string, Component>();
  const add = (c: unknown): void => {
    if (!isObject(c)) return;
    const ref = str(c['bom-ref']);
    if (ref) {
      const comp: Component = {};
      for (const k of ['name', 'version', 'purl', 'cpe'] as const) if (str(c[k])) comp[k] = c[k] as string;
      out.set(ref, comp);
    }
    if (Array.isArray(c.components)) c.components.forEach(add);
  };
  if (isObject(doc.metadata)) add(doc.metadata.component);
  if (Array.isArray(doc.components)) doc.components.forEach(add);
  return out;
}

/** Parse the VEX part of a CycloneDX document. A BOM without vulnerabilities yields one `ok` line with a note. */
export function parseCycloneDxVex(doc: unknown, document: string, validate?: (doc: unknown) => string[]): FeedResult {
  const out = emptyResult();
  if (!isObject(doc) || doc.bomFormat !== 'CycloneDX') {
    out.report.push(rejected(document, 'cyclonedx-vex', '(document)', 'not a CycloneDX document'));
    return out;
  }
  const serial = str(doc.serialNumber) ?? document;
  const perVuln = new Map<number, string[]>();
  if (validate) {
    const docProblems: string[] = [];
    for (const p of validate(doc)) {
      const m = /\/vulnerabilities\/(\d+)/.exec(p);
      if (m) perVuln.set(Number(m[1]), [...(perVuln.get(Number(m[1])) ?? []), p]);
      else docProblems.push(p);
    }
    if (docProblems.length) out.report.push({ document, format: 'cyclonedx-vex', recordId: `${serial} (document)`, status: 'partial', problems: docProblems });
  }
  if (!Array.isArray(doc.vulnerabilities) || doc.vulnerabilities.length === 0) {
    const line = out.report.find((l) => l.recordId === `${serial} (document)`);
    const note = 'CycloneDX BOM without vulnerabilities: no VEX statements; its components are for the SBOM importer';
    if (line) line.notes = [note];
    else out.report.push({ document, format: 'cyclonedx-vex', recordId: serial, status: 'ok', problems: [], notes: [note] });
    return out;
  }
  const comps = components(doc);
  doc.vulnerabilities.forEach((v, i) => {
    const id = isObject(v) ? str(v.id) : undefined;
    const problems = new RecordProblems(document, 'cyclonedx-vex', id ?? `(vulnerability ${i}: no id)`);
    for (const p of perVuln.get(i) ?? []) problems.add(p);
    if (!isObject(v) || !id) {
      problems.add('vulnerability without an id');
      out.report.push(problems.done(false));
      return;
    }
    const src = source('cyclonedx-vex', document, id, isObject(v.source) ? str(v.source.name) : undefined);
    const vuln = newVulnerability(id, [src]);
    if (str(v.description)) vuln.description = v.description as string;
    for (const c of Array.isArray(v.cwes) ? v.cwes : []) if (typeof c === 'number') vuln.cwes.push({ cwe: `CWE-${c}`, source: src });
    (Array.isArray(v.ratings) ? v.ratings.filter(isObject) : []).forEach((r, ri) => {
      const ver = typeof r.method === 'string' ? METHOD_VERSION[r.method] : undefined;
      if (!ver || typeof r.vector !== 'string') return;
      const rsrc = isObject(r.source) && str(r.source.name) ? { ...src, provider: r.source.name as string } : src;
      const s = scoreCvss({ vector: r.vector, version: ver, score: typeof r.score === 'number' ? r.score : undefined, severity: str(r.severity) }, rsrc);
      problems.cvss(`ratings[${ri}]`, s);
      vuln.cvss.push(s);
    });
    const analysis = isObject(v.analysis) ? v.analysis : undefined;
    const state = analysis ? str(analysis.state) : undefined;
    const status = state ? STATE[state] : undefined;
    if (!analysis) problems.add('no analysis: no VEX statement');
    else if (!status) problems.add(`analysis.state ${JSON.stringify(analysis.state)} is not a CycloneDX impact analysis state`);
    const affects = Array.isArray(v.affects) ? v.affects.filter(isObject) : [];
    if (analysis && !affects.length) problems.add('analysis without affects: it applies to nothing');
    if (analysis && status) {
      for (const a of affects) {
        const ref = str(a.ref);
        if (!ref) continue;
        const comp = comps.get(ref);
        if (!comp) problems.add(`affects ref ${ref} is not a bom-ref in this document (kept as given)`);
        const st: VexStatement = { vulnerabilityId: id, productId: ref, status, statedStatus: state!, source: src };
        if (comp) st.product = comp;
        if (str(analysis.justification)) st.justification = analysis.justification as string;
        if (str(analysis.detail)) st.impact = analysis.detail as string;
        const responses = strings(analysis.response);
        if (responses.length) {
          st.responses = responses;
          st.action = responses.join(', ');
        }
        out.vex.push(st);
      }
    }
    out.vulnerabilities.push(vuln);
    out.report.push(problems.done(true));
  });
  return out;
}
