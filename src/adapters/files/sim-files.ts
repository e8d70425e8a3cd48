/**
 * Write a simulation run to files, one file per record kind so every line is exactly one
 * wire message (src/decode/README.md) that can be replayed or posted as is:
 *
 *   <dir>/signals.jsonl    signals messages (malformed ones included, as sent)
 *   <dir>/security.jsonl   IdsM security events
 *   <dir>/log.jsonl        back-end log events
 *   <dir>/labels.jsonl     ground truth: one ScenarioLabel per line (attacks and malformed messages)
 *   <dir>/fleet.jsonl      one VehicleIdentity per line (VIN, make, model, year, software, ...)
 *   <dir>/can/<VIN>.log    candump log of selected vehicles, in the layout of src/sim/can-layout.ts
 *   <dir>/manifest.json    options, counts and the list of files
 *
 * Writes go through node:fs streams and wait for 'drain' when a stream's buffer is full,
 * so the simulator never runs ahead of the disk.
 */
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CanEncoder, candumpLine } from '../../sim/can-layout.js';
import type { SimItem } from '../../sim/events.js';
import { resolveSimOptions, type SimOptions } from '../../sim/options.js';
import { runSimulation, type RunOptions, type RunSummary } from '../../sim/run.js';
import type { ScenarioLabel } from '../../sim/scenarios.js';
import { simulatedFleet } from '../../sim/simulator.js';

export const SIM_FILES_FORMAT = 'vigil-sim-files/1';

export interface SimFilesOptions {
  /** Output directory; created when missing. Existing files of the same names are replaced. */
  readonly dir: string;
  /**
   * Vehicles (indexes) whose CAN traffic is written as candump logs from the start. Targets of
   * speed-injection scenarios are added when their attack starts. Default: vehicle 0.
   */
  readonly candumpVehicles?: readonly number[];
  /** Write fleet.jsonl (default true). */
  readonly fleet?: boolean;
  /** Stream buffer size in bytes (default 1 MiB); writes wait for 'drain' past it. */
  readonly highWaterMark?: number;
}

export interface SimFilesSummary extends RunSummary {
  readonly dir: string;
  readonly files: readonly string[];
  readonly candumpFrames: number;
}

/** Lines to one file, batched into large writes, waiting for 'drain' when the stream is full. */
class LineFile {
  private readonly stream: WriteStream;
  private buf = '';
  lines = 0;

  constructor(
    readonly path: string,
    highWaterMark: number,
  ) {
    this.stream = createWriteStream(path, { highWaterMark });
  }

  async line(s: string): Promise<void> {
    this.buf += s + '\n';
    this.lines++;
    if (this.buf.length >= 64 * 1024) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.buf.length === 0) return;
    const chunk = this.buf;
    this.buf = '';
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    await once(this.stream, 'finish');
  }
}

/** Run a simulation and write it to `out.dir`; resolves when every file is complete on disk. */
export async function writeSimulationFiles(opts: SimOptions, run: RunOptions, out: SimFilesOptions): Promise<SimFilesSummary> {
  const dir = out.dir;
  const hwm = out.highWaterMark ?? 1 << 20;
  await mkdir(join(dir, 'can'), { recursive: true });
  const options = resolveSimOptions(opts);
  const fleet = simulatedFleet(options);
  const files = {
    signals: new LineFile(join(dir, 'signals.jsonl'), hwm),
    security: new LineFile(join(dir, 'security.jsonl'), hwm),
    log: new LineFile(join(dir, 'log.jsonl'), hwm),
    labels: new LineFile(join(dir, 'labels.jsonl'), hwm),
  };
  const can = new Map<string, { file: LineFile; enc: CanEncoder }>();
  const addCan = (vin: string): void => {
    if (!can.has(vin)) can.set(vin, { file: new LineFile(join(dir, 'can', `${vin}.log`), hwm), enc: new CanEncoder() });
  };
  for (const i of out.candumpVehicles ?? [0]) {
    if (i >= 0 && i < fleet.size) addCan(fleet.vin(i));
  }
  /** Speed-injection windows per VIN: the candump shows genuine and injected 0x1D0 frames. */
  const injections = new Map<string, [number, number][]>();
  let frames = 0;

  const summary = await runSimulation(
    opts,
    {
      async write(items: readonly SimItem[]) {
        for (const it of items) {
          await files[it.kind].line(it.payload);
          const c = it.kind === 'signals' && it.vin !== undefined ? can.get(it.vin) : undefined;
          if (!c) continue;
          let msg: { ts: number; signals?: Record<string, unknown>; samples?: unknown[] };
          try {
            msg = JSON.parse(it.payload);
          } catch {
            continue; // a deliberately broken message never made it onto the bus in one piece
          }
          const injected = (injections.get(it.vin!) ?? []).some(([s, e]) => msg.ts >= s && msg.ts <= e);
          for (const f of c.enc.fromMessage(msg, injected)) {
            await c.file.line(candumpLine(f));
            frames++;
          }
        }
      },
      async labels(labels: readonly ScenarioLabel[]) {
        for (const l of labels) {
          await files.labels.line(JSON.stringify(l));
          if (l.scenario === 'speed-injection' && l.vin !== undefined) {
            addCan(l.vin);
            injections.set(l.vin, [...(injections.get(l.vin) ?? []), [l.start, l.end]]);
          }
        }
      },
    },
    run,
  );

  const written = [...Object.values(files), ...[...can.values()].map((c) => c.file)];
  for (const f of written) await f.close();
  const names = written.map((f) => f.path);
  if (out.fleet !== false) {
    const f = new LineFile(join(dir, 'fleet.jsonl'), hwm);
    for (const id of fleet.identities()) await f.line(JSON.stringify(id));
    await f.close();
    names.push(f.path);
  }
  const manifestPath = join(dir, 'manifest.json');
  const manifest = {
    format: SIM_FILES_FORMAT,
    options,
    summary,
    lines: Object.fromEntries(Object.entries(files).map(([k, f]) => [k, f.lines])),
    candump: { frames, vins: [...can.keys()], layout: 'src/sim/README.md#can-frame-layout' },
    files: names.map((p) => p.slice(dir.length + 1)),
  };
  await writeFile(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  names.push(manifestPath);
  return { ...summary, dir, files: names, candumpFrames: frames };
}
