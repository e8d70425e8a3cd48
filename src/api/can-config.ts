/**
 * The `can` section of the config made real: each `can.dbc` entry's DBC and mapping files are
 * read and bound against the signal catalog here, once, so a bad DBC, mapping or VSS path
 * stops start-up with every problem listed (file:line:col). The lanes get the texts and
 * compile them again in their own threads. Each `can.ids` profile is read and checked here
 * too; the lanes get it as plain JSON.
 */
import { readFileSync } from 'node:fs';
import type { SignalCatalog } from '../core/catalog.js';
import { ConfigError } from '../core/errors.js';
import { compileCanBinding } from '../decode/dbc/bind.js';
import { parseCanProfile } from '../detect/can/profile.js';
import type { CanIdsEntry } from '../detect/can/vehicles.js';
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

/** The learnt CAN profiles of `can.ids`, read and checked; every problem of every file at once. */
export function loadCanIds(c: VigilConfig['can']): CanIdsEntry[] {
  const problems: string[] = [];
  const out: CanIdsEntry[] = [];
  c.ids.forEach((entry, i) => {
    const where = `can.ids.${i}.profile`;
    try {
      const profile = parseCanProfile(JSON.parse(readFileSync(entry.profile, 'utf8')), entry.profile);
      out.push({ name: entry.profile, profile, ...(entry.match ? { match: entry.match } : {}) });
    } catch (e) {
      if (e instanceof ConfigError) problems.push(...e.problems.map((p) => `${where}: ${entry.profile}: ${p}`));
      else problems.push(`${where}: ${(e as Error).message}`);
    }
  });
  if (problems.length) throw new ConfigError('invalid CAN intrusion-detection configuration', problems);
  return out;
}
