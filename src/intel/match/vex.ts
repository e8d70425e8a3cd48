/**
 * VEX decisions over matches: a decision (CSAF VEX, CycloneDX VEX, an analyst's) about a
 * vulnerability and a component identity replaces the computed result of every Match for
 * that pair, and the computed result is kept. Decisions are given oldest first; the newest
 * that names the component wins.
 */
import type { VexStatement } from '../model.js';
import type { SbomComponent } from '../sbom/types.js';
import { cpeMatches, tryParseCpe } from './cpe.js';
import { parsePurl, samePackage } from './purl.js';
import { BASIS_CONFIDENCE, type Match, type MatchResult } from './types.js';

/** Lower case, punctuation folded to single spaces: how free-text names are compared. */
export const norm = (s: string | undefined): string => (s ?? '').toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();

/** purl (qualifiers dropped), else the first CPE, else `name@version`: the key a VEX decision is stored under. */
export function componentIdentity(c: Pick<SbomComponent, 'purl' | 'cpes' | 'name' | 'version'>): string {
  if (c.purl) {
    const p = parsePurl(c.purl);
    if (p) return `pkg:${p.type}/${p.namespace ? `${p.namespace}/` : ''}${p.name}${p.version ? `@${p.version}` : ''}`;
  }
  if (c.cpes[0]) return c.cpes[0];
  return `${c.name}@${c.version ?? ''}`;
}

/** Does the statement name this component? purl, then CPE, then the identity key, then product name and version. */
function vexNames(s: VexStatement, c: SbomComponent): boolean {
  const p = s.product;
  if (p?.purl && c.purl) {
    const a = parsePurl(p.purl);
    const b = parsePurl(c.purl);
    if (a && b) return samePackage(a, b) && (!a.version || a.version === b.version);
  }
  if (p?.cpe && c.cpes.length) {
    const a = tryParseCpe(p.cpe);
    if ('wfn' in a) return c.cpes.some((x) => {
      const b = tryParseCpe(x);
      return 'wfn' in b && cpeMatches(a.wfn, b.wfn);
    });
  }
  // an analyst decision is stored under the component identity; a bare bom-ref names a component only inside its own BOM, so it is not used
  if (s.productId === componentIdentity(c)) return true;
  const pname = p && 'productName' in p ? (p.productName ?? p.name) : p?.name;
  return !!pname && norm(pname) === norm(c.name) && !!p?.version && !!c.version && p.version === c.version;
}

const VEX_RESULT: Record<VexStatement['status'], MatchResult> = { affected: 'affected', not_affected: 'not_affected', fixed: 'fixed', under_investigation: 'needs_review' };

/** The last decision for (vulnerability, component) wins: decisions are given oldest first. */
export function applyVex(out: Match[], c: SbomComponent, ids: Set<string>, vex: readonly VexStatement[]): void {
  const decision = [...vex].reverse().find((s) => ids.has(s.vulnerabilityId) && vexNames(s, c));
  if (!decision) return;
  const result = VEX_RESULT[decision.status];
  const vexInfo = (computed: MatchResult): Match['vex'] => ({ status: decision.status, statedStatus: decision.statedStatus, ...(decision.justification ? { justification: decision.justification } : {}), source: decision.source, computed });
  if (out.length === 0) {
    // A CSAF statement about a component no other statement named still stands (its product
    // tree resolved it); other decisions only override what matching found.
    if (decision.source.kind !== 'csaf') return;
    out.push({ vulnerabilityId: [...ids][0]!, componentRef: c.bomRef, componentIdentity: componentIdentity(c), result, basis: 'csaf-product', confidence: BASIS_CONFIDENCE['csaf-product'], reason: `VEX ${decision.statedStatus}${decision.justification ? ` (${decision.justification})` : ''}`, source: decision.source, vex: vexInfo('unknown') });
    return;
  }
  for (const m of out) {
    m.vex = vexInfo(m.result);
    m.result = result;
    m.reason = `VEX ${decision.statedStatus}${decision.justification ? ` (${decision.justification})` : ''} overrides: ${m.reason}`;
  }
}
