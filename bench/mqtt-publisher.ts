/**
 * A load generator for the MQTT benchmarks, run as a child process (bench/mqtt.ts forks it)
 * so the broker's process is measured alone. It speaks MQTT 3.1.1 on raw sockets with
 * PUBLISH packets encoded before the clock starts, so its own cost per message is a few
 * bytes copied: it can outrun the broker on the same machine. QoS 1 keeps a window of
 * unacknowledged messages per connection and times each PUBACK; QoS 0 writes as fast as
 * the socket drains (the broker stops reading when its pipeline is full).
 *
 * Protocol with the parent (IPC), repeatable: parent sends a `Job`; child answers
 * `{ type: 'ready' }` once connected with everything encoded; parent sends `{ type: 'go' }`;
 * child answers with a `Done` after the last PUBACK (QoS 1) or the last byte written (QoS 0),
 * and closes that job's connections. The child exits when the parent disconnects.
 */
import { encode } from '@msgpack/msgpack';
import { connect, type Socket } from 'node:net';
import { makeVin } from '../src/normalize/vin.js';

export interface Job {
  readonly type: 'job';
  readonly port: number;
  readonly connections: number;
  readonly qos: 0 | 1;
  /** This process's vehicles: `vehicles` of them from number `firstVehicle` (no two processes share one). */
  readonly firstVehicle: number;
  readonly vehicles: number;
  /** Messages per vehicle, numbered from `firstStep` (seq and event time continue across jobs). */
  readonly steps: number;
  readonly firstStep: number;
  readonly tenant: string;
  readonly shape: 'single' | 'batched';
  /** Signals per batched message (multiple of BATCH_PATHS.length). */
  readonly signalsPerMessage: number;
  /** Unacknowledged QoS 1 messages per connection. */
  readonly window: number;
  /** Event time of step 0, epoch ms. */
  readonly ts: number;
}

export interface Done {
  readonly type: 'done';
  readonly messages: number;
  readonly signals: number;
  readonly bytes: number;
  /** Epoch ms (fractional) of the first write and of the last PUBACK (QoS 1) or write (QoS 0). */
  readonly startedAt: number;
  readonly endedAt: number;
  /** A sample of PUBACK latencies, ms (QoS 1). */
  readonly latencies: number[];
  /** CPU time this process spent on the job (user + system), ms. */
  readonly cpuMs: number;
  readonly rssMb: number;
}

/** Numeric signals of the default catalog, with a value around which each one moves. */
export const BATCH_PATHS: readonly (readonly [string, number, number])[] = [
  ['Vehicle.Speed', 60, 20],
  ['Vehicle.CurrentLocation.Latitude', 48.1, 0.01],
  ['Vehicle.CurrentLocation.Longitude', 11.5, 0.01],
  ['Vehicle.CurrentLocation.Heading', 180, 90],
  ['Vehicle.Chassis.Accelerator.PedalPosition', 30, 10],
  ['Vehicle.Powertrain.TractionBattery.StateOfCharge.Current', 70, 5],
  ['Vehicle.Powertrain.TractionBattery.Temperature.Average', 30, 3],
  ['Vehicle.Chassis.Axle.Row1.Wheel.Left.Speed', 60, 20],
  ['Vehicle.Chassis.Axle.Row1.Wheel.Right.Speed', 60, 20],
  ['Vehicle.Acceleration.Longitudinal', 0, 1],
];

/** The bench's VINs: vehicle number n (0-based) of the fleet. */
export const benchVin = (n: number): string => makeVin({ wmi: '5YJ', vds: 'SA1E2', year: 2022, plant: 'F' }, n + 1);

const now = (): number => performance.timeOrigin + performance.now();

const value = (k: number, step: number, vehicle: number): number => {
  const [path, mid, amp] = BATCH_PATHS[k]!;
  const v = mid + amp * Math.sin(step / 40 + vehicle);
  return path.endsWith('PedalPosition') ? Math.round(v) : Math.round(v * 1000) / 1000;
};

function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

function str(s: string): Buffer {
  const b = Buffer.from(s);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
}

function connectPacket(clientId: string): Buffer {
  // Protocol "MQTT" level 4, clean session, keep-alive 0 (off).
  const body = Buffer.concat([str('MQTT'), Buffer.from([4, 0x02, 0, 0]), str(clientId)]);
  return Buffer.concat([Buffer.from([0x10, ...varint(body.length)]), body]);
}

/** A PUBLISH; QoS 1 gets a placeholder packet id at `idAt`, written just before sending. */
function publishPacket(topic: string, payload: Uint8Array, qos: 0 | 1): { packet: Buffer; idAt: number } {
  const t = str(topic);
  const idLen = qos ? 2 : 0;
  const head = Buffer.from([qos ? 0x32 : 0x30, ...varint(t.length + idLen + payload.length)]);
  return { packet: Buffer.concat([head, t, Buffer.alloc(idLen), payload]), idAt: head.length + t.length };
}

/** Every message encoded, bucketed by connection (vehicle modulo connections), in step order. */
function generate(job: Job): { packets: Buffer[][]; idAt: number[][]; signals: number; bytes: number } {
  const vins = Array.from({ length: job.vehicles }, (_, i) => benchVin(job.firstVehicle + i));
  const packets: Buffer[][] = Array.from({ length: job.connections }, () => []);
  const idAt: number[][] = Array.from({ length: job.connections }, () => []);
  const paths = BATCH_PATHS.map((x) => x[0]);
  const rounds = job.signalsPerMessage / BATCH_PATHS.length;
  let signals = 0;
  let bytes = 0;
  for (let s = 0; s < job.steps; s++) {
    const step = job.firstStep + s; // this vehicle's message number
    for (let i = 0; i < job.vehicles; i++) {
      const vehicle = job.firstVehicle + i;
      const vin = vins[i]!;
      let topic: string;
      let payload: Uint8Array;
      if (job.shape === 'single') {
        const k = step % BATCH_PATHS.length;
        topic = `vigil/${job.tenant}/${vin}/signals`;
        payload = Buffer.from(`{"vin":"${vin}","ts":${job.ts + step * 100},"seq":${step},"signals":{"${paths[k]}":${value(k, step, vehicle)}}}`);
        signals += 1;
      } else {
        // Compact samples: every path sampled `rounds` times, 100 ms apart.
        const p: number[] = [];
        const t: number[] = [];
        const v: number[] = [];
        for (let r = 0; r < rounds; r++) {
          for (let k = 0; k < BATCH_PATHS.length; k++) {
            p.push(k);
            t.push(r * 100);
            v.push(value(k, step * rounds + r, vehicle));
          }
        }
        topic = `vigil/${job.tenant}/${vin}/signals.msgpack`;
        payload = encode({ vin, ts: job.ts + step * rounds * 100, seq: step, samples: { paths, p, t, v } });
        signals += p.length;
      }
      const c = vehicle % job.connections;
      const { packet, idAt: at } = publishPacket(topic, payload, job.qos);
      packets[c]!.push(packet);
      idAt[c]!.push(at);
      bytes += packet.length;
    }
  }
  return { packets, idAt, signals, bytes };
}

/** Packets to write at once: up to 64 KiB, as one buffer. */
function chunkOf(packets: readonly Buffer[], from: number, to: number): Buffer {
  return to - from === 1 ? packets[from]! : Buffer.concat(packets.slice(from, to));
}

/** QoS 1 on one connection: keep `window` messages unacknowledged, time each PUBACK. */
function runQos1(sock: Socket, packets: Buffer[], idAt: number[], window: number, latencies: number[]): Promise<void> {
  return new Promise((resolve, reject) => {
    if (packets.length === 0) return resolve();
    const sentAt = new Float64Array(65_536);
    let next = 0;
    let acked = 0;
    let rest: Buffer | undefined;
    const pump = (): void => {
      const from = next;
      let size = 0;
      const t = performance.now();
      while (next < packets.length && next - acked < window && size < 65_536) {
        const id = (next % 65_535) + 1;
        packets[next]!.writeUInt16BE(id, idAt[next]!);
        sentAt[id] = t;
        size += packets[next]!.length;
        next++;
      }
      if (next > from) sock.write(chunkOf(packets, from, next));
    };
    sock.on('data', (d: Buffer) => {
      const b = rest ? Buffer.concat([rest, d]) : d;
      const t = performance.now();
      let i = 0;
      for (; i + 4 <= b.length; i += 4) {
        if (b[i] !== 0x40 || b[i + 1] !== 0x02) return reject(new Error(`unexpected packet 0x${b[i]!.toString(16)} from the broker`));
        latencies.push(t - sentAt[b.readUInt16BE(i + 2)]!);
        acked++;
      }
      rest = i < b.length ? b.subarray(i) : undefined;
      if (acked === packets.length) resolve();
      else pump();
    });
    sock.on('error', reject);
    sock.on('close', () => reject(new Error(`the broker closed the connection after ${acked} of ${packets.length} PUBACKs`)));
    pump();
  });
}

/** QoS 0 on one connection: write in 64 KiB chunks whenever the socket drains. */
function runQos0(sock: Socket, packets: Buffer[]): Promise<void> {
  return new Promise((resolve, reject) => {
    let next = 0;
    const pump = (): void => {
      while (next < packets.length) {
        const from = next;
        let size = 0;
        while (next < packets.length && size < 65_536) size += packets[next++]!.length;
        const last = next === packets.length;
        const more = sock.write(chunkOf(packets, from, next), last ? (e) => (e ? reject(e) : resolve()) : undefined);
        if (!more && !last) return void sock.once('drain', pump);
      }
    };
    if (packets.length === 0) return resolve();
    sock.on('error', reject);
    pump();
  });
}

async function open(port: number, clientId: string): Promise<Socket> {
  const sock = connect({ port, host: '127.0.0.1', noDelay: true });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.once('connect', () => sock.write(connectPacket(clientId)));
    sock.once('data', (d: Buffer) => {
      if (d[0] !== 0x20 || d[3] !== 0) reject(new Error(`connection refused (CONNACK ${d.toString('hex')})`));
      else resolve();
    });
  });
  sock.removeAllListeners('data');
  sock.removeAllListeners('error');
  return sock;
}

let jobs = 0;

async function run(job: Job): Promise<void> {
  const { packets, idAt, signals, bytes } = generate(job);
  const n = jobs++;
  const socks = await Promise.all(Array.from({ length: job.connections }, (_, c) => open(job.port, `bench-${process.pid}-${n}-${c}`)));
  process.send!({ type: 'ready' });
  await new Promise<void>((r) => process.once('message', () => r()));
  const cpu0 = process.cpuUsage();
  const latencies: number[] = [];
  const startedAt = now();
  await Promise.all(socks.map((s, c) => (job.qos ? runQos1(s, packets[c]!, idAt[c]!, job.window, latencies) : runQos0(s, packets[c]!))));
  const endedAt = now();
  const cpu = process.cpuUsage(cpu0);
  for (const s of socks) {
    s.removeAllListeners('close');
    s.end();
  }
  // A sample of the latencies is enough for percentiles and keeps the IPC message small.
  const every = Math.max(1, Math.floor(latencies.length / 20_000));
  const done: Done = {
    type: 'done', messages: job.steps * job.vehicles, signals, bytes, startedAt, endedAt,
    latencies: latencies.filter((_, i) => i % every === 0),
    cpuMs: (cpu.user + cpu.system) / 1000, rssMb: Math.round(process.memoryUsage().rss / 1048576),
  };
  process.send!(done);
}

if (process.send) {
  const onJob = (job: Job): void => {
    run(job).then(
      () => process.once('message', onJob),
      (e: unknown) => {
        process.stderr.write(`mqtt publisher: ${(e as Error).stack ?? String(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('message', onJob);
  process.on('disconnect', () => process.exit(0));
}
