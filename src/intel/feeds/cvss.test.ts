import { describe, expect, it } from 'vitest';
import type { SourceRef } from '../model.js';
import { scoreCvss } from './cvss.js';

const src: SourceRef = { kind: 'nvd', document: 'test' };

describe('CVSS statements scored with ae-cvss-calculator', () => {
  it('each version, with the severity of its specification', () => {
    expect(scoreCvss({ vector: 'AV:A/AC:L/Au:S/C:C/I:C/A:C', version: '2.0', score: 7.7 }, src)).toMatchObject({ version: '2.0', baseScore: 7.7, severity: 'HIGH' });
    expect(scoreCvss({ vector: 'CVSS:3.0/AV:A/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H' }, src)).toMatchObject({ version: '3.0', baseScore: 9, severity: 'CRITICAL' });
    expect(scoreCvss({ vector: 'CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', score: 6.8, severity: 'MEDIUM' }, src)).toMatchObject({ baseScore: 6.8, severity: 'MEDIUM' });
    expect(scoreCvss({ vector: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N' }, src)).toMatchObject({ version: '4.0', baseScore: 9.3, severity: 'CRITICAL' });
    expect(scoreCvss({ vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N' }, src)).toMatchObject({ baseScore: 0, severity: 'NONE' });
  });

  it('a non-canonical order is normalized and the stated spelling kept; the same vector in order has no statedVector', () => {
    const s = scoreCvss({ vector: 'CVSS:3.1/AC:L/AV:L/A:L/C:L/I:L/PR:L/S:U/UI:N', score: 5.3 }, src);
    expect(s).toMatchObject({ vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:L/I:L/A:L', statedVector: 'CVSS:3.1/AC:L/AV:L/A:L/C:L/I:L/PR:L/S:U/UI:N', baseScore: 5.3 });
    expect(s.scoreMismatch).toBeUndefined();
    expect(scoreCvss({ vector: s.vector }, src).statedVector).toBeUndefined();
  });

  it('temporal metrics stay in the vector; the base score is the base', () => {
    const s = scoreCvss({ vector: 'CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:L/A:H/E:F/RL:U/RC:R', score: 9.9 }, src);
    expect(s.vector).toContain('E:F');
    expect(s).toMatchObject({ baseScore: 9.9, severity: 'CRITICAL' });
  });

  it('disagreement is flagged, not resolved; broken vectors are unscored with the reason', () => {
    expect(scoreCvss({ vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', score: 7.5, severity: 'HIGH' }, src)).toMatchObject({ baseScore: 9.8, statedScore: 7.5, scoreMismatch: true });
    expect(scoreCvss({ vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', score: 9.8, severity: 'HIGH' }, src).scoreMismatch).toBe(true);
    expect(scoreCvss({ vector: 'CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }, src).problem).toMatch(/base metric AV has invalid value 'Q'/);
    expect(scoreCvss({ vector: 'CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }, src).problem).toMatch(/metric AV given twice/);
    expect(scoreCvss({ vector: 'CVSS:9.9/AV:N' }, src).problem).toMatch(/unknown CVSS version/);
    expect(scoreCvss({ vector: 'garbage' }, src)).toMatchObject({ baseScore: null, severity: null });
  });
});
