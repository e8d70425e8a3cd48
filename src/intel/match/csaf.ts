/**
 * CSAF 2.0 `product_status` resolved against SBOM components.
 *
 * A CSAF product is resolved to a component by the strongest identifier both have: purl
 * (same package and version), then CPE (NISTIR 7696 name match with a version value), then
 * name and version from the product tree (branch `product_name` or product name, and the
 * `product_version` branch). A product known only by a version range
 * (`product_version_range`) or without a version resolves to the component's product but
 * not its version: the statement then needs review. The status categories map as:
 *
 * | CSAF category                                  | result          |
 * |------------------------------------------------|-----------------|
 * | known_affected, first_affected, last_affected  | affected        |
 * | fixed, first_fixed                             | fixed           |
 * | known_not_affected                             | not_affected    |
 * | under_investigation                            | needs_review    |
 * | recommended                                    | fixed (the vendor's recommended, remediated version) |
 */
import type { CsafDocument, CsafProduct, CsafProductStatus } from '../model.js';
import type { SbomComponent } from '../sbom/types.js';
import { compareCpe, cpeText, tryParseCpe } from './cpe.js';
import { parsePurl, samePackage } from './purl.js';

export type CsafResult = 'affected' | 'fixed' | 'not_affected' | 'needs_review';

export const CSAF_STATUS_RESULT: Record<CsafProductStatus, CsafResult> = {
  known_affected: 'affected',
  first_affected: 'affected',
  last_affected: 'affected',
  fixed: 'fixed',
  first_fixed: 'fixed',
  known_not_affected: 'not_affected',
  under_investigation: 'needs_review',
  recommended: 'fixed',
};

export interface ProductResolution {
  /** `exact`: product and version; `product`: the product, version not decidable. */
  level: 'exact' | 'product';
  via: 'purl' | 'cpe' | 'name+version';
  reason: string;
}

export interface CsafMatch {
  vulnerabilityId: string;
  productId: string;
  category: CsafProductStatus;
  result: CsafResult;
  resolution: ProductResolution;
}

const norm = (s: string | undefined): string => (s ?? '').toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();

/** Resolves one CSAF product to a component, or undefined when it does not name it. */
export function resolveProduct(product: CsafProduct, c: SbomComponent): ProductResolution | undefined {
  if (product.purl && c.purl) {
    const p = parsePurl(product.purl);
    const q = parsePurl(c.purl);
    if (p && q && samePackage(p, q)) {
      if (p.version && q.version) {
        if (p.version === q.version) return { level: 'exact', via: 'purl', reason: `purl ${product.purl}` };
        return undefined;
      }
      return { level: 'product', via: 'purl', reason: `purl ${product.purl} without a version on one side` };
    }
    if (p && q) return undefined;
  }
  if (product.cpe && c.cpes.length) {
    const s = tryParseCpe(product.cpe);
    if ('wfn' in s) {
      for (const t of c.cpes) {
        const w = tryParseCpe(t);
        if (!('wfn' in w)) continue;
        const r = compareCpe(s.wfn, w.wfn);
        if ((r === 'EQUAL' || r === 'SUPERSET') && s.wfn.version.kind === 'value' && w.wfn.version.kind === 'value') {
          return { level: 'exact', via: 'cpe', reason: `cpe ${product.cpe}` };
        }
        const ident = compareCpe({ ...s.wfn, version: { kind: 'ANY' } }, { ...w.wfn, version: { kind: 'ANY' } });
        if ((ident === 'EQUAL' || ident === 'SUPERSET') && (s.wfn.version.kind !== 'value' || w.wfn.version.kind !== 'value')) {
          return { level: 'product', via: 'cpe', reason: `cpe ${product.cpe}: version ${cpeText(s.wfn.version) ?? s.wfn.version.kind} not comparable` };
        }
      }
      return undefined;
    }
  }
  // name and version from the product tree
  const names = [product.productName, product.name].map(norm).filter(Boolean);
  const cname = norm(c.name);
  const vendorOk = !product.vendor || !c.supplier || norm(c.supplier).includes(norm(product.vendor)) || norm(product.vendor).includes(norm(c.supplier));
  if (!cname || !vendorOk || !names.some((n) => n === cname || n === `${norm(product.vendor)} ${cname}`)) return undefined;
  if (product.versionRange) return { level: 'product', via: 'name+version', reason: `${product.productName ?? product.name} in range ${JSON.stringify(product.versionRange)} (ranges are not evaluated)` };
  if (!product.version || !c.version) return { level: 'product', via: 'name+version', reason: `${product.productName ?? product.name}: no version on one side` };
  if (product.version.trim().toLowerCase() !== c.version.trim().toLowerCase()) return undefined;
  return { level: 'exact', via: 'name+version', reason: `${product.productName ?? product.name} ${product.version}` };
}

/**
 * Every product_status statement of the document that names the component. A statement that
 * resolves only to the product (not the version) is reported as `needs_review`.
 */
export function matchCsaf(doc: CsafDocument, c: SbomComponent): CsafMatch[] {
  const out: CsafMatch[] = [];
  const resolved = new Map<string, ProductResolution | undefined>();
  const resolve = (id: string): ProductResolution | undefined => {
    if (!resolved.has(id)) {
      const p = doc.products[id];
      resolved.set(id, p ? resolveProduct(p, c) : undefined);
    }
    return resolved.get(id);
  };
  for (const ps of doc.productStatus) {
    for (const [category, ids] of Object.entries(ps.status) as [CsafProductStatus, string[] | undefined][]) {
      for (const id of ids ?? []) {
        const r = resolve(id);
        if (!r) continue;
        out.push({
          vulnerabilityId: ps.vulnerabilityId,
          productId: id,
          category,
          result: r.level === 'exact' ? CSAF_STATUS_RESULT[category] : 'needs_review',
          resolution: r,
        });
      }
    }
  }
  return out;
}
