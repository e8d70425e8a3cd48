import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { DEFAULT_SLA } from '../alerts/workflow.js';
import { parseConfig, parseConfigYaml } from './config.js';

describe('config incidents.sla', () => {
  it('defaults to DEFAULT_SLA and takes durations per severity, keeping the defaults of those left out', () => {
    expect(parseConfig({}).incidents.sla).toEqual(DEFAULT_SLA);
    const c = parseConfigYaml('incidents:\n  sla:\n    critical: { triage: 5m, resolve: 2h }\n    low: { triage: 86400000, resolve: 10d }\n');
    expect(c.incidents.sla.critical).toEqual({ triageMs: 300_000, resolveMs: 7_200_000 });
    expect(c.incidents.sla.low).toEqual({ triageMs: 86_400_000, resolveMs: 864_000_000 });
    expect(c.incidents.sla.high).toEqual(DEFAULT_SLA.high);
  });

  it('lists every problem: unknown severity, bad duration, triage longer than resolve', () => {
    let error: unknown;
    try {
      parseConfig({ incidents: { sla: { urgent: { triage: '1m', resolve: '1h' }, high: { triage: 'soon', resolve: '1h' }, low: { triage: '2d', resolve: '1d' } } } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/incidents\.sla.*urgent/);
    expect(problems).toMatch(/incidents\.sla\.high\.triage/);
    expect(problems).toMatch(/incidents\.sla\.low.*triage must not be longer than resolve/);
  });
});
