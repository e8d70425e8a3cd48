/** The shapes matching returns: results, bases and their confidence, and the Match itself. */
import type { CsafDocument, SourceRef, VexStatement } from '../model.js';

export type MatchResult = 'affected' | 'not_affected' | 'fixed' | 'needs_review' | 'unknown';
export type MatchBasis = 'purl+range' | 'cpe+range' | 'adp-cpe' | 'cve5-product' | 'csaf-product' | 'description-only';

/**
 * How far the identification can be trusted, by basis. A purl names one package in one
 * ecosystem; a CPE names a product, but CPE dictionaries are loose; an ADP-only CPE is a
 * third party's reading of the CNA's text; a CNA vendor/product is free text compared by
 * name; a description mention is a hint. Lowered further where noted in `reason`:
 * CSAF resolved by name+version 0.6; a CVE 5 product matched by contained words 0.4.
 */
export const BASIS_CONFIDENCE: Readonly<Record<MatchBasis, number>> = {
  'purl+range': 0.95,
  'csaf-product': 0.9,
  'cpe+range': 0.8,
  'cve5-product': 0.6,
  'adp-cpe': 0.5,
  'description-only': 0.2,
};

export interface Match {
  vulnerabilityId: string;
  /** The component's bom-ref in its SBOM. */
  componentRef: string;
  /** The component's identity across SBOMs (see componentIdentity): the key VEX decisions use. */
  componentIdentity: string;
  result: MatchResult;
  basis: MatchBasis;
  confidence: number;
  reason: string;
  /** The record the statement came from. */
  source?: SourceRef;
  /** Set when a VEX decision replaced the computed result. */
  vex?: { status: VexStatement['status']; statedStatus: string; justification?: string; source: SourceRef; computed: MatchResult };
}

export interface MatchContext {
  /** Every CPE of the SBOM and its subject: platform criteria in NVD configurations are tested against these. */
  sbomCpes?: readonly string[];
  /** CSAF documents whose product_status may name the component. */
  csaf?: readonly CsafDocument[];
  /** VEX decisions (CSAF VEX, CycloneDX VEX, analysts'), applied last. */
  vex?: readonly VexStatement[];
}
