/**
 * The shared datasets (../shared/datasets, see its README) for tests and benchmarks: where
 * they are, whether a test may skip when one is absent (never under CI=true), and a loader for
 * the DAGA Volvo V40 trace into a CanFrameBatch. The loader is deliberately simple (a plain
 * CSV split): it serves tests and the bench, not ingest.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yauzl from 'yauzl';
import { CanFrameBatchBuilder, type CanFrameBatch } from '../src/core/can.js';

export const DATASETS = fileURLToPath(new URL('../../shared/datasets/', import.meta.url));
export const IN_CI = process.env.CI === 'true';

/** Absolute path of a dataset file or folder, whether it is present, and whether tests using it skip. */
export function dataset(relative: string, who: string): { path: string; present: boolean; skip: boolean } {
  const path = `${DATASETS}${relative}`;
  const present = existsSync(path);
  if (!present && !IN_CI) console.warn(`${who}: skipping, ${path} not found (under CI=true this fails)`);
  return { path, present, skip: !present && !IN_CI };
}

/** The text of the only (or first) file in a zip archive. */
export function readZipText(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: true }, (err, zip) => {
      if (err) return reject(err);
      zip.once('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e) return reject(e);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', reject);
          stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        });
      });
      zip.once('end', () => reject(new Error(`${path}: empty zip`)));
      zip.once('error', reject);
      zip.readEntry();
    });
  });
}

/**
 * A DAGA trace (`timestamp,CAN_ID,DLC,PAYLOAD_HEX,PAYLOAD_BIN,ANOMALY`, DLC in bits) as one
 * batch with the ANOMALY labels. Time is seconds from the start, kept as ms from 0.
 *
 * PAYLOAD_HEX is the frame data read as a little-endian 64-bit number and printed as hex: its
 * LAST two digits are data byte 0. Read in wire order, the Volvo DBC gives a speed of 650 km/h,
 * a steering angle that never moves and an accelerator at 77-102 % while parked; read as a
 * little-endian number, the same signals give 0-45 km/h, idle at ~820 rpm and a pedal at 0 %
 * when stopped (see dbc/daga.test.ts). The bytes are therefore reversed here.
 */
export async function loadDagaTrace(path: string): Promise<CanFrameBatch> {
  const text = await readZipText(path);
  const lines = text.split('\n');
  const b = new CanFrameBatchBuilder({ tenant: 'test', vin: 'DAGA-V40', source: `file:${path}`, receivedAt: 0 }, lines.length, 8, true);
  const bytes = new Uint8Array(8);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    const [ts, id, dlcBits, hex, , anomaly] = line.split(',');
    const n = Math.min(8, Math.floor(Number(dlcBits) / 8));
    const digits = hex!.padStart(2 * n, '0');
    for (let k = 0; k < n; k++) bytes[k] = parseInt(digits.slice(digits.length - 2 * k - 2, digits.length - 2 * k), 16);
    b.push(Number(ts) * 1000, parseInt(id!, 16), bytes.subarray(0, n), /^true$/i.test(anomaly ?? '') ? 1 : 0);
  }
  return b.build();
}
