/**
 * Fuzzy word matching: edit distance (fastest-levenshtein) with a threshold that grows with
 * the word's length, plus one swap of neighbouring letters counted as a single edit. Short
 * words must match exactly: "id" and "in" are different words, not a typo.
 */
import { distance } from 'fastest-levenshtein';

/** Edits allowed between a word of `length` characters and a known word. */
export function allowedEdits(length: number): number {
  if (length <= 3) return 0;
  if (length <= 5) return 1;
  if (length <= 9) return 2;
  return 3;
}

/**
 * Edits between `a` (from the question) and `b` (known), or undefined when they are further
 * apart than the threshold allows for the shorter of the two. Digits the question writes must
 * agree exactly: "Model 5" is not a typo of "Model 3", nor 2023 of 2024 ("Model X" may be
 * close to both "Model 3" and "Model Y", and the caller asks which).
 */
export function editsWithin(a: string, b: string): number | undefined {
  if (a === b) return 0;
  const max = allowedEdits(Math.min(a.length, b.length));
  if (max === 0 || Math.abs(a.length - b.length) > max) return undefined;
  if (hasDigit(a)) {
    if (digits(a) !== digits(b)) return undefined;
  }
  if (a.length === b.length && isOneSwap(a, b)) return 1;
  const d = distance(a, b);
  return d <= max ? d : undefined;
}

function hasDigit(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) return true;
  }
  return false;
}

function digits(s: string): string {
  return s.replace(/[^0-9]/g, '');
}

function isOneSwap(a: string, b: string): boolean {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return i < a.length - 1 && a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
}
