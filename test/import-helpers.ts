/** Shared by the file-import tests: `vigil import` / `vigil replay` run in-process, and SQL on the store file they wrote. */
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Command } from 'commander';
import { systemClock } from '../src/core/clock.js';
import { importCommand, replayCommand, type ImportEnv } from '../src/cli/import.js';
import { realSleep } from '../src/adapters/files/pace.js';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run `vigil <args>` with the import and replay commands registered, as main.ts will; errors come back as exit code 1. */
export async function vigilFiles(args: readonly string[], env: Partial<ImportEnv> = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: ImportEnv = {
    clock: systemClock,
    sleep: realSleep,
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s), isTTY: false },
    ...env,
  };
  const program = new Command('vigil').exitOverride().configureOutput({ writeOut: (s) => (stdout += s), writeErr: (s) => (stderr += s) });
  program.addCommand(importCommand(io)).addCommand(replayCommand(io));
  const before = process.exitCode;
  let code = 0;
  try {
    await program.parseAsync(['node', 'vigil', ...args]);
    code = Number(process.exitCode ?? 0);
  } catch (e) {
    code = 1;
    stderr += `vigil: ${(e as Error).message}\n`;
  } finally {
    process.exitCode = before;
  }
  return { code, stdout, stderr };
}

/** Rows of a query on the store file of `dataDir` (the default store path), opened after the command closed it. */
export async function sql(dataDir: string, query: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(join(dataDir, 'vigil.duckdb'));
  const conn = await db.connect();
  try {
    const reader = await conn.runAndReadAll(query);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}
