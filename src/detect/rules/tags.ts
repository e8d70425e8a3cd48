/**
 * Rule tags: Auto-ISAC ATM ids (`ATM-T0070` technique, `ATM-TA0013` tactic) and UN R155
 * Annex 5 Part A references (`R155-A5:4.3.2` a threat group, `R155-A5:4.1` a threat example
 * of Table A1). The ATM matrix is third-party data we may not ship, so only the id shape is
 * checked here; the pack's test checks each id against the matrix. R155 references are few
 * and public, so the valid ones are listed.
 */

const ATM = /^ATM-TA?\d{4}$/;
/** A rule written for one vulnerability (a detection template, src/detect/templates) names it: `cve:CVE-2017-1000251`. */
const CVE = /^cve:CVE-\d{4}-\d{4,}$/;

/** Annex 5 Part A, Table A1: threat groups 4.3.1-4.3.7 and, per numbered threat, its examples. */
const R155_EXAMPLES: Record<number, number> = {
  1: 3, 2: 1, 3: 5, 4: 2, 5: 5, 6: 3, 7: 2, 8: 2, 9: 1, 10: 1, 11: 4, 12: 4, 13: 1,
  15: 2, 16: 3, 17: 1, 18: 3, 19: 3, 20: 5, 21: 1, 22: 1, 23: 1, 24: 1, 25: 2,
  26: 3, 27: 1, 28: 2, 29: 2, 30: 3, 31: 1, 32: 1,
};

export const R155_REFS: ReadonlySet<string> = new Set([
  ...[1, 2, 3, 4, 5, 6, 7].map((g) => `4.3.${g}`),
  ...Object.entries(R155_EXAMPLES).flatMap(([threat, n]) => Array.from({ length: n }, (_, i) => `${threat}.${i + 1}`)),
]);

/** What is wrong with a tag, or undefined. */
export function tagProblem(tag: string): string | undefined {
  if (tag.startsWith('ATM-')) return ATM.test(tag) ? undefined : `${tag}: an ATM id is ATM-T#### (technique) or ATM-TA#### (tactic)`;
  if (tag.startsWith('cve:')) return CVE.test(tag) ? undefined : `${tag}: a CVE tag is cve:CVE-YYYY-NNNN`;
  if (tag.startsWith('R155-A5:')) {
    const ref = tag.slice(8);
    return R155_REFS.has(ref) ? undefined : `${tag}: not a UN R155 Annex 5 Part A reference (a group 4.3.1-4.3.7 or a Table A1 example such as 4.1, 20.4)`;
  }
  return `${tag}: tags are ATM ids (ATM-T0070), R155 Annex 5 refs (R155-A5:4.1) or CVE ids (cve:CVE-2017-1000251)`;
}
