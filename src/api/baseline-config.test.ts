import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BASELINE } from '../detect/baseline.js';
import { loadBaselineParams } from './baseline-config.js';

describe('cohort baseline parameters', () => {
  it('ships rules/models/cohort-baseline.yaml with the defaults, and refuses a bad file with every problem', () => {
    expect(loadBaselineParams()).toEqual(DEFAULT_BASELINE);
    const dir = mkdtempSync(join(tmpdir(), 'vigil-baseline-'));
    try {
      const bad = join(dir, 'b.yaml');
      writeFileSync(bad, 'k: -1\nminSamples: 1\n');
      expect(() => loadBaselineParams(bad)).toThrow(/b.yaml: k: expected a number > 0[\s\S]*b.yaml: minSamples: expected an integer >= 2/);
      expect(() => loadBaselineParams(join(dir, 'absent.yaml'))).toThrow(/absent.yaml: ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
