import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { parseConfig, parseConfigYaml } from './config.js';

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('fills every default from an empty document', () => {
    const c = parseConfig({});
    expect(c.tenant).toBe('demo');
    expect(c.store.kind).toBe('duckdb');
    expect(c.runtime.partitions).toBe(64);
    expect(c.runtime.onFull).toBe('block');
    expect(c.normalize.unknownSignals).toBe('reject');
    expect(c.http.port).toBe(8080);
  });

  it('reports every problem at once: unknown keys, wrong types, bad enums, duplicate names', () => {
    const problems = problemsOf(() =>
      parseConfigYaml(
        [
          'tenant: Demo Tenant',
          'colour: blue',
          'runtime:',
          '  workers: "two"',
          '  onFull: drop',
          'sources:',
          '  - { type: simulator, name: fleet, vehicles: -3 }',
          '  - { type: carrier-pigeon, name: birds }',
        ].join('\n'),
      ),
    );
    expect(problems.length).toBeGreaterThanOrEqual(5);
    const text = problems.join('\n');
    expect(text).toMatch(/^tenant:/m);
    expect(text).toMatch(/colour/);
    expect(text).toMatch(/^runtime\.workers:/m);
    expect(text).toMatch(/^runtime\.onFull:/m);
    expect(text).toMatch(/^sources\.0\.vehicles:/m);
    expect(text).toMatch(/^sources\.1\.type:/m);
  });

  it('reports cross-field problems together', () => {
    const problems = problemsOf(() =>
      parseConfig({
        runtime: { workers: 8, partitions: 4, handoffBatch: 100, maxInFlightPerWorker: 10 },
        sources: [
          { type: 'simulator', name: 'a' },
          { type: 'simulator', name: 'a' },
        ],
      }),
    );
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toContain('sources.1.name: "a" is already the name of sources.0');
  });

  it('points at the line of a YAML syntax error', () => {
    const problems = problemsOf(() => parseConfigYaml('tenant: demo\nruntime: [unclosed\n', 'vigil.yaml'));
    expect(problems[0]).toMatch(/^vigil\.yaml:\d+:\d+: /);
  });
});
