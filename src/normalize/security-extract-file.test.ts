import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SECURITY_EXTRACT } from './security-extract.js';
import { mergeExtracts, parseSecurityExtract } from './security-extract-file.js';

const SHIPPED = new URL('../../rules/security-extract.yaml', import.meta.url);

describe('security extract files', () => {
  it('the shipped rules/security-extract.yaml is valid and equals the built-in default', () => {
    const { extract, problems } = parseSecurityExtract(readFileSync(SHIPPED, 'utf8'), 'rules/security-extract.yaml');
    expect(problems).toEqual([]);
    const names = (m: typeof extract) => [...m].map(([id, d]) => [id, d.name, d.severity]).sort();
    expect(names(extract)).toEqual(names(DEFAULT_SECURITY_EXTRACT));
  });

  it('reads JSON as well as YAML, ids in hex or decimal, with tags and a context data layout', () => {
    const json = JSON.stringify({
      version: 1,
      events: [
        { id: '0x9001', name: 'ETH_PORT_SCAN', severity: 'high', tags: ['ATM-T0012'], contextData: [{ name: 'srcPort', type: 'uint16' }, { name: 'iface', type: 'ascii' }] },
        { id: 36866, name: 'ETH_ARP_SPOOF', severity: 'critical' },
      ],
    });
    const { extract, problems } = parseSecurityExtract(json, 'oem.json');
    expect(problems).toEqual([]);
    expect(extract.get(0x9001)).toEqual({ name: 'ETH_PORT_SCAN', severity: 'high', tags: ['ATM-T0012'], contextData: [{ name: 'srcPort', type: 'uint16' }, { name: 'iface', type: 'ascii' }] });
    expect(extract.get(0x9002)?.name).toBe('ETH_ARP_SPOOF');
  });

  it('reports every problem at once, with where it is', () => {
    const yaml = [
      'version: 2',
      'extra: 1',
      'events:',
      '  - { id: 0x8001, name: OK_ONE, severity: low }',
      '  - { id: 0x8001, name: dup, severity: severe, colour: red }',
      '  - { id: 0x1FFFF, name: TOO_BIG, severity: low }',
      '  - { id: 0x8003, name: LAYOUT, severity: low, contextData: [ { name: a, type: bytes }, { name: a, type: uint64 }, { name: c, type: uint8, length: 2 } ] }',
      '  - just a string',
    ].join('\n');
    const { extract, problems } = parseSecurityExtract(yaml, 'x.yaml');
    expect(extract.size).toBe(0);
    expect(problems).toEqual([
      'x.yaml: extra: unknown key',
      'x.yaml: version: expected 1',
      'x.yaml: events.1.colour: unknown key',
      'x.yaml: events.1.id: 0x8001 is already defined by events.0',
      'x.yaml: events.1.name: expected an upper-case identifier (A-Z, 0-9, _), got "dup"',
      'x.yaml: events.1.severity: expected one of info, low, medium, high, critical, got "severe"',
      'x.yaml: events.2.id: expected an event id 0..65535 (0x8001 or 32769), got 131071',
      'x.yaml: events.3.contextData.0.length: a bytes field without a length takes the rest, so it must be last',
      'x.yaml: events.3.contextData.1.name: a is already a field',
      'x.yaml: events.3.contextData.1.type: expected one of uint8, uint16, uint32, int8, int16, int32, float32, float64, bytes, ascii',
      'x.yaml: events.3.contextData.2.length: only bytes and ascii fields have a length, a positive integer',
      'x.yaml: events.4: expected a mapping',
    ]);
  });

  it('reports YAML syntax errors with line and column', () => {
    const { problems } = parseSecurityExtract('version: 1\nevents:\n  - id: [1,\n', 'bad.yaml');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^bad\.yaml:\d+:\d+: /);
  });

  it('merges over the built-in extract or replaces it', () => {
    const file = parseSecurityExtract('version: 1\nevents:\n  - { id: 0x8001, name: OEM_CAN_UNKNOWN, severity: high }\n  - { id: 0xA000, name: OEM_ONLY, severity: low }\n').extract;
    const merged = mergeExtracts(DEFAULT_SECURITY_EXTRACT, file, 'merge');
    expect(merged.get(0x8001)?.name).toBe('OEM_CAN_UNKNOWN');
    expect(merged.get(0x8601)?.name).toBe('IDS_HEARTBEAT');
    expect(merged.size).toBe(DEFAULT_SECURITY_EXTRACT.size + 1);
    const replaced = mergeExtracts(DEFAULT_SECURITY_EXTRACT, file, 'replace');
    expect([...replaced.keys()]).toEqual([0x8001, 0xa000]);
  });
});
