/**
 * The `can.dbc` section of the config made real: each entry's DBC and mapping files are read
 * and bound against the signal catalog here, once, so a bad DBC, mapping or VSS path stops
 * start-up with every problem listed (file:line:col). The lanes get the texts and compile
 * them again in their own threads.
 */
import { readFileSync } from 'node:fs';
import type { SignalCatalog } from '../core/catalog.js';
import { ConfigError } from '../core/errors.js';
import { compileCanBinding } from '../decode/dbc/bind.js';
import type { VigilConfig } from '../runtime/config.js';
import type { CanBindingOption } from '../runtime/lane.js';

export function loadCanBindings(c: VigilConfig['can'], catalog: SignalCatalog): CanBindingOption[] {
  const problems: string[] = [];
  const out: CanBindingOption[] = [];
  c.dbc.forEach((entry, i) => {
    const read = (file: string, key: string): string | undefined => {
      try {
        return readFileSync(file, 'utf8');
      } catch (e) {
        problems.push(`can.dbc.${i}.${key}: ${(e as Error).message}`);
        return undefined;
      }
    };
    const dbcText = read(entry.file, 'file');
    const mappingText = read(entry.mapping, 'mapping');
    if (dbcText === undefined || mappingText === undefined) return;
    const src = { dbcFile: entry.file, dbcText, mappingFile: entry.mapping, mappingText };
    const compiled = compileCanBinding(src, catalog);
    if (compiled.problems.length) problems.push(...compiled.problems.map((p) => `can.dbc.${i}: ${p}`));
    else out.push({ ...src, ...(entry.match ? { match: entry.match } : {}) });
  });
  if (problems.length) throw new ConfigError('invalid CAN decoding configuration', problems);
  return out;
}
