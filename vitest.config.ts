import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * Test files run at once. Vitest's default for `vitest run` is one less than the CPUs: ONE on a
 * 2-core CI machine, which leaves a core idle while a file waits on NATS, PostgreSQL, Chromium, a
 * child process or a timer. Two workers there: 52 files (CLI, NATS, MQTT, HTTP, unit) took 206 s
 * instead of 548 s at load ~10. Every test uses port 0, its own NATS subjects/streams, MQTT
 * topics, PostgreSQL schemas and temp directories, so files never share a resource.
 */
const MAX_WORKERS = Math.max(2, availableParallelism() - 1);

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'tools/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: MAX_WORKERS,
    reporters: ['default', './tools/summary-reporter.ts'],
  },
});
