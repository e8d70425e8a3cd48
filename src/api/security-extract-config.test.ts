import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { DEFAULT_SECURITY_EXTRACT } from '../normalize/security-extract.js';
import { parseConfig } from '../runtime/config.js';
import { loadSecurityExtract } from './vigil.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-extract-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('security.extract configuration', () => {
  it('defaults to the built-in extract, merges a file over it, or replaces it', () => {
    expect(loadSecurityExtract(parseConfig({}).security)).toBe(DEFAULT_SECURITY_EXTRACT);
    const oem = file('oem.yaml', 'version: 1\nevents:\n  - { id: 0xA001, name: OEM_EVENT, severity: critical }\n');
    const merged = loadSecurityExtract(parseConfig({ security: { extract: oem } }).security);
    expect(merged.get(0xa001)?.severity).toBe('critical');
    expect(merged.get(0x8001)?.name).toBe('CAN_UNKNOWN_ID');
    const replaced = loadSecurityExtract(parseConfig({ security: { extract: oem, extractMode: 'replace' } }).security);
    expect([...replaced.keys()]).toEqual([0xa001]);
  });

  it('refuses a missing or invalid file with every problem, and unknown config keys', () => {
    const bad = file('bad.yaml', 'version: 1\nevents:\n  - { id: 1, name: x, severity: y }\n');
    const problems = (f: () => unknown): readonly string[] => {
      try {
        f();
        return [];
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).problems;
      }
    };
    expect(problems(() => loadSecurityExtract(parseConfig({ security: { extract: bad } }).security))).toEqual([
      `security.extract: ${bad}: events.0.name: expected an upper-case identifier (A-Z, 0-9, _), got "x"`,
      `security.extract: ${bad}: events.0.severity: expected one of info, low, medium, high, critical, got "y"`,
    ]);
    expect(problems(() => loadSecurityExtract(parseConfig({ security: { extract: join(dir, 'absent.yaml') } }).security))[0]).toMatch(/^security\.extract: ENOENT/);
    expect(problems(() => parseConfig({ security: { extract: 'x', mode: 'merge' } }))[0]).toMatch(/^security: Unrecognized key/);
  });
});
