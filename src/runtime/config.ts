/**
 * Configuration: one schema, parsed once at start-up; the TypeScript type comes from it.
 * Unknown keys are rejected and every problem is reported at once (`vigil config check`).
 */
import { availableParallelism } from 'node:os';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { unitOf } from '../normalize/units.js';
import { SEVERITIES, type Severity } from '../core/records.js';
import { DEFAULT_SLA, type SlaPolicy, type SlaTimes } from '../alerts/workflow.js';
import { DEFAULT_DEDUP_WINDOW_MS, MAX_DEDUP_KEYS, type DedupWindows } from '../alerts/dedup.js';
import { DEFAULT_CAMPAIGN_WINDOW_MS, DEFAULT_GROUP_WINDOW_MS, MAX_OPEN_INCIDENTS } from '../alerts/group.js';
import { duration } from '../detect/rules/schema.js';

const name = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase letters, digits, - and _ (max 63), starting with a letter or digit');

const simulatorSource = z.strictObject({
  type: z.literal('simulator'),
  name,
  tenant: name.optional(),
  vehicles: z.number().int().min(1).max(10_000_000).default(1000),
  seed: z.number().int().default(42),
  /** Simulated seconds per wall-clock second; 1 = real time. */
  speed: z.number().positive().max(10_000).default(1),
  /** Seconds between reports of one vehicle. */
  reportIntervalS: z.number().positive().max(3600).default(1),
  attacks: z.boolean().default(true),
  /** Fraction of messages deliberately malformed, to exercise the dead-letter path. */
  malformedRate: z.number().min(0).max(1).default(0.001),
});

/**
 * Units a source's signal values are in, where they differ from the catalog's: VSS path ->
 * VSS unit id (`{ "Vehicle.Speed": "mph" }`). A message's own `units` win over these.
 */
const signalUnits = z
  .record(z.string(), z.string())
  .superRefine((units, ctx) => {
    for (const [path, unit] of Object.entries(units)) {
      if (!/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)+$/.test(path)) ctx.addIssue({ code: 'custom', path: [path], message: 'not a VSS path such as Vehicle.Speed' });
      else if (unitOf(unit) === undefined) ctx.addIssue({ code: 'custom', path: [path], message: `unknown unit ${JSON.stringify(unit)} (VSS unit ids: km/h, m/s, mph, celsius, fahrenheit, kPa, psi, km, mi, l, gal, ...)` });
    }
  })
  .optional();

/** MQTT username/password; the password inline (tests, demos) or, better, from an environment variable. */
const mqttAuth = z
  .strictObject({
    username: z.string().min(1),
    password: z.string().optional(),
    /** Environment variable holding the password. */
    passwordEnv: z.string().min(1).optional(),
  })
  .refine((a) => (a.password === undefined) !== (a.passwordEnv === undefined), 'give exactly one of password, passwordEnv');

/** What MQTT sources share: which tenants a topic may name, and where refused topics are filed. */
const mqttTenancy = {
  /** Tenants a topic may name (`vigil/<tenant>/...`); absent: any valid tenant name. Others: `topic.invalid`. */
  tenants: z.array(name).min(1).optional(),
  /** Tenant of the dead letters whose topic names no accepted tenant. Default: the top-level `tenant`. */
  tenant: name.optional(),
};

/** The embedded MQTT broker (aedes): vehicles publish to Vigil directly. MQTT 3.1.1. */
const mqttBrokerSource = z.strictObject({
  type: z.literal('mqtt-broker'),
  name,
  /** Interface to listen on; `0.0.0.0` to take vehicles from the network. */
  host: z.string().min(1).default('127.0.0.1'),
  /** 1884 by default, not MQTT's 1883, so it never clashes with a broker already running. */
  port: z.number().int().min(0).max(65535).default(1884),
  /** TLS (MQTT over TLS) with PEM files; with `ca`, clients must present a certificate it signed. */
  tls: z
    .strictObject({
      key: z.string().min(1),
      cert: z.string().min(1),
      ca: z.string().min(1).optional(),
    })
    .optional(),
  /** Clients must connect with this username and password. */
  auth: mqttAuth.optional(),
  ...mqttTenancy,
  units: signalUnits,
});

/** A client of an external MQTT broker (Mosquitto, EMQX, AWS IoT Core, ...). */
const mqttSource = z.strictObject({
  type: z.literal('mqtt'),
  name,
  /** mqtt://, mqtts:// (TLS), ws:// or wss://. */
  url: z.string().regex(/^(mqtts?|wss?):\/\/./, 'an mqtt://, mqtts://, ws:// or wss:// URL').default('mqtt://127.0.0.1:1883'),
  /** Keep it stable: with `cleanSession: false` the broker keeps QoS 1 messages for this id while Vigil is away. Default `vigil-<name>`. */
  clientId: z.string().min(1).max(128).optional(),
  /** Subscription filter; `$share/<group>/vigil/+/+/+` shares the load among several Vigil processes. */
  topic: z.string().min(1).default('vigil/+/+/+'),
  /** 1: each message is acknowledged (PUBACK) only once stored or dead-lettered. 0: at most once. */
  qos: z.union([z.literal(0), z.literal(1)]).default(1),
  /** false: the broker keeps the session and its queued messages across reconnects. */
  cleanSession: z.boolean().default(false),
  /** MQTT 5, with `cleanSession: false`: how long the broker keeps the session after a disconnect (default a week). */
  sessionExpiryS: z.number().int().min(0).max(0xffff_ffff).default(604_800),
  /** 5 (MQTT 5: the content type property selects the encoding) or 4 (MQTT 3.1.1). */
  protocolVersion: z.union([z.literal(4), z.literal(5)]).default(5),
  auth: mqttAuth.optional(),
  /** TLS with PEM files: `ca` to trust the broker, `cert` + `key` to authenticate by client certificate. */
  tls: z
    .strictObject({
      ca: z.string().min(1).optional(),
      cert: z.string().min(1).optional(),
      key: z.string().min(1).optional(),
      rejectUnauthorized: z.boolean().default(true),
    })
    .refine((t) => (t.cert === undefined) === (t.key === undefined), 'give both cert and key, or neither')
    .optional(),
  keepaliveS: z.number().int().min(0).max(65_535).default(30),
  reconnectPeriodMs: z.number().int().min(100).max(600_000).default(1000),
  ...mqttTenancy,
  units: signalUnits,
});

/** A NATS subject; `*` and `>` wildcards allowed. */
const natsSubject = z.string().regex(/^[^\s.]+(\.[^\s.]+)*$/, 'dot-separated tokens without spaces');
/** A JetStream stream, consumer or queue group name. */
const natsName = z.string().regex(/^[A-Za-z0-9_-]{1,200}$/, 'letters, digits, - and _');

/**
 * NATS: messages on `<subjectPrefix>.<tenant>.<vehicle>.<kind>` from core subscriptions, or,
 * with `jetstream`, from a durable consumer that acknowledges each message once durable.
 */
const natsSource = z
  .strictObject({
    type: z.literal('nats'),
    name,
    servers: z.array(z.string().min(1)).min(1).default(['nats://127.0.0.1:4222']),
    subjectPrefix: z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'dot-separated tokens of letters, digits, - and _').default('vigil'),
    /** Tenants a subject may name; absent: any valid tenant name. Others: `subject.invalid`. */
    tenants: z.array(name).min(1).optional(),
    /** Tenant of the dead letters whose subject names no accepted tenant. Default: the top-level `tenant`. */
    tenant: name.optional(),
    /** Core mode: subjects to subscribe to. Default `<subjectPrefix>.>`. */
    subjects: z.array(natsSubject).min(1).optional(),
    /** Core mode: a queue group, so several Vigil processes share the messages. */
    queue: natsName.optional(),
    /** Core mode: messages held while the pipeline is full; past it they are dead-lettered (`backpressure.overflow`). */
    maxBuffered: z.number().int().min(1).max(10_000_000).default(100_000),
    jetstream: z
      .strictObject({
        stream: natsName,
        durable: natsName,
        /** Default `<subjectPrefix>.>`. */
        filterSubject: natsSubject.optional(),
        /** Create the stream and the consumer when they do not exist. */
        create: z.boolean().default(false),
        /** Subjects of a stream created here. Default: `[filterSubject]`. */
        streamSubjects: z.array(natsSubject).min(1).optional(),
        /** Unacknowledged messages the server lets this consumer hold: the backpressure bound. */
        maxAckPending: z.number().int().min(1).max(1_000_000).default(10_000),
        /** The server redelivers a message not acknowledged within this time. */
        ackWaitMs: z.number().int().min(500).max(3_600_000).default(30_000),
        /** Messages the client buffers per pull. */
        batch: z.number().int().min(1).max(10_000).default(256),
      })
      .optional(),
    units: signalUnits,
  })
  .superRefine((c, ctx) => {
    if (c.jetstream && (c.subjects || c.queue)) {
      ctx.addIssue({ code: 'custom', path: ['subjects'], message: 'subjects and queue are for core mode; with jetstream use jetstream.filterSubject' });
    }
  });

export const sourceSchema = z.discriminatedUnion('type', [simulatorSource, mqttBrokerSource, mqttSource, natsSource]);

/** Which vehicles a `can` entry applies to: all given conditions hold (tenant, VIN prefix, bus). */
const canMatch = z
  .strictObject({
    tenant: name.optional(),
    /** VIN prefix: the WMI (`YV1`), or more of the VIN. */
    vin: z.string().regex(/^[A-HJ-NPR-Z0-9]{1,17}$/, 'a VIN prefix: up to 17 of A-Z (not I, O, Q) and 0-9'),
    bus: z.string().min(1),
  })
  .partial();

const positiveDuration = duration.refine((ms) => ms > 0, 'must be positive');

/** One severity's SLA: `{ triage: 15m, resolve: 4h }`; triage must not be longer than resolve. */
const slaTimes = z
  .strictObject({ triage: duration.refine((ms) => ms > 0, 'must be positive'), resolve: duration.refine((ms) => ms > 0, 'must be positive') })
  .refine((t) => t.triage <= t.resolve, 'triage must not be longer than resolve')
  .transform((t): SlaTimes => ({ triageMs: t.triage, resolveMs: t.resolve }));

/** Retries of a webhook or syslog delivery: exponential backoff with jitter (src/alerts/notifier.ts). */
const retryPolicy = z
  .strictObject({
    /** Tries per message, the first included. */
    maxAttempts: z.number().int().min(1).max(20).default(5),
    /** Wait before the 2nd attempt; doubles each time, with jitter. */
    baseDelayMs: z.number().int().min(1).max(600_000).default(500),
    maxDelayMs: z.number().int().min(1).max(3_600_000).default(30_000),
  })
  .prefault({});

/** A signed webhook (src/adapters/notify/webhook.ts): HMAC-SHA256 `X-Vigil-Signature` with the secret in `secretEnv`. */
const webhookTarget = {
  url: z.string().regex(/^https?:\/\/[^\s]+$/, 'an http:// or https:// URL'),
  /** Environment variable holding the HMAC secret; absent: requests go unsigned. */
  secretEnv: z.string().min(1).optional(),
  timeoutMs: z.number().int().min(100).max(300_000).default(10_000),
  retry: retryPolicy,
};

/** Syslog RFC 5424 over TCP, or TLS (src/adapters/notify/syslog.ts), octet-counted framing. */
const syslogTarget = {
  host: z.string().min(1),
  /** Commonly 601 (syslog over TCP) or 6514 (over TLS). */
  port: z.number().int().min(1).max(65535),
  tls: z.boolean().default(false),
  /** PEM file of the CA that signed the receiver's certificate (with `tls`); absent: the system's roots. */
  ca: z.string().min(1).optional(),
  /** RFC 5424 facility 0..23; default 10 (security/authorization). */
  facility: z.number().int().min(0).max(23).default(10),
  /** Messages waiting while the receiver is away; past it a message fails (logged). */
  maxQueue: z.number().int().min(1).max(1_000_000).default(10_000),
  retry: retryPolicy,
};

const notifyChannel = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('webhook'), ...webhookTarget }),
  z.strictObject({ type: z.literal('syslog'), ...syslogTarget }),
]);

/** A SIEM target: every stored alert at or above `minSeverity` is sent there. */
const forwardTarget = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('webhook'), name: name.optional(), minSeverity: z.enum(SEVERITIES).default('medium'), ...webhookTarget }),
  z.strictObject({ type: z.literal('syslog'), name: name.optional(), minSeverity: z.enum(SEVERITIES).default('medium'), ...syslogTarget }),
]);

export type NotifyChannelConfig = z.infer<typeof notifyChannel>;
export type ForwardTargetConfig = z.infer<typeof forwardTarget>;

export const configSchema = z.strictObject({
  /** Tenant used by sources that do not name one. */
  tenant: name.default('demo'),
  dataDir: z.string().min(1).default('./vigil-data'),
  store: z
    .strictObject({
      /** `duckdb` (embedded, the default) or `postgres` (shared by the processes of a scale-out deployment). */
      kind: z.enum(['duckdb', 'postgres']).default('duckdb'),
      /** DuckDB: database file; relative paths are under dataDir. `:memory:` keeps nothing. */
      path: z.string().min(1).default('vigil.duckdb'),
      threads: z.number().int().min(1).max(64).optional(),
      /** PostgreSQL: connection URL, e.g. postgres://vigil@db:5432/vigil (libpq environment variables fill the rest). */
      url: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// or postgresql:// URL').optional(),
      /** PostgreSQL: the schema holding Vigil's tables (created on first start). */
      schema: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lowercase identifier').default('vigil'),
      /** PostgreSQL: connections per process. */
      poolSize: z.number().int().min(1).max(200).default(8),
    })
    .superRefine((s, ctx) => {
      if (s.kind === 'postgres' && s.url === undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'store.kind postgres needs store.url (postgres://user@host:port/database)' });
      if (s.kind === 'duckdb' && s.url !== undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'store.url is for store.kind postgres; the DuckDB store uses store.path' });
    })
    .prefault({}),
  runtime: z
    .strictObject({
      /** Worker threads; each owns the twins and detector state of its partitions. Default: one per core. */
      workers: z.number().int().min(1).max(64).default(() => Math.max(1, availableParallelism())),
      /** Partitions of the vehicle-key space (fixed for a deployment: changing it moves vehicles between owners). */
      partitions: z.number().int().min(1).max(4096).default(64),
      /** Messages handed to one worker and not yet finished; past it the sources are slowed. */
      maxInFlightPerWorker: z.number().int().min(1).default(50_000),
      /** Signal rows waiting for the store; past it workers' results wait and sources are slowed. */
      maxPendingRows: z.number().int().min(1000).default(2_000_000),
      /** What a full queue does to a source: `block` slows it (default), `reject` refuses with a retry hint. */
      onFull: z.enum(['block', 'reject']).default('block'),
      /** Messages collected before a hand-over to a worker (also flushed on every turn of the event loop). */
      handoffBatch: z.number().int().min(1).max(100_000).default(512),
      /** Store flush: whichever comes first. */
      flushIntervalMs: z.number().int().min(0).max(60_000).default(2),
      flushRows: z.number().int().min(1).default(65_536),
    })
    .prefault({}),
  normalize: z
    .strictObject({
      unknownSignals: z.enum(['reject', 'ignore']).default('reject'),
      vinCheckDigit: z.boolean().default(true),
      maxFutureSkewMs: z.number().int().min(0).default(300_000),
      latenessMs: z.number().int().min(0).default(60_000),
      /** Signal entries later than latenessMs: `store` (counted, not fed to detectors) or `reject` (dead-letter `time.late`). */
      late: z.enum(['store', 'reject']).default('store'),
      /** Environment variable holding the pseudonymization secret. */
      secretEnv: z.string().default('VIGIL_PSEUDONYM_SECRET'),
      /**
       * A MaxMind DB file (GeoLite2 Country/City, DB-IP Lite, ip-location-db) that locates
       * API callers: API events get `detail.geoCountry` (and `geoLat`/`geoLon` from a city
       * database). Absent: API events carry no location (src/normalize/geoip.ts).
       */
      geoipDatabase: z.string().min(1).optional(),
    })
    .prefault({}),
  catalog: z
    .strictObject({
      /** VSS JSON exports to load in addition to the built-in demo signals. */
      vss: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
  security: z
    .strictObject({
      /** Security extract file, YAML or JSON (format: rules/security-extract.yaml). Absent: the built-in extract. */
      extract: z.string().min(1).optional(),
      /** `merge`: the file's events over the built-in ones (same id: the file wins); `replace`: the file's only. */
      extractMode: z.enum(['merge', 'replace']).default('merge'),
    })
    .prefault({}),
  /**
   * Raw CAN frames: which DBC decodes them into which VSS signals, per vehicle group. The first
   * entry whose `match` fits a frame batch (tenant, VIN prefix, bus; absent: any) decodes it;
   * frames of vehicles no entry matches are stored raw only.
   */
  can: z
    .strictObject({
      dbc: z
        .array(
          z.strictObject({
            /** The DBC file. */
            file: z.string().min(1),
            /** DBC signal -> VSS path mapping (format: src/decode/dbc/README.md; e.g. rules/can/volvo_v40_2017_pt.vss.yaml). */
            mapping: z.string().min(1),
            match: canMatch.optional(),
          }),
        )
        .default([]),
      /**
       * CAN intrusion detection: a profile learnt from clean traffic (`vigil learn can`) per
       * vehicle group, first match wins; vehicles no entry matches are not scored.
       */
      ids: z
        .array(
          z.strictObject({
            /** The profile file (JSON, `vigil-can-profile/1`). */
            profile: z.string().min(1),
            match: canMatch.optional(),
          }),
        )
        .default([]),
    })
    .prefault({}),
  /**
   * YAML detection rules (src/detect/rules): every worker runs them after the code detectors;
   * `source: alert` rules run once over the alerts of all workers (fleet campaigns).
   */
  detection: z
    .strictObject({
      /** Rule folders or files. Absent: the shipped pack, `rules/detections` of the package. */
      rules: z.array(z.string().min(1)).optional(),
      /** Rule ids not to run (a rule of the pack that is noisy on this fleet). */
      disabled: z.array(z.string().min(1)).default([]),
      /** How often absence rules are judged against the clock, so a vehicle that went silent is seen without traffic. */
      tickIntervalMs: z.number().int().min(100).max(3_600_000).default(10_000),
    })
    .prefault({}),
  http: z
    .strictObject({
      enabled: z.boolean().default(true),
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8080),
      /** Batch ingest, `POST /v1/ingest/{signals|security|logs}` (src/adapters/http/ingest.ts). */
      ingest: z
        .strictObject({
          enabled: z.boolean().default(true),
          /** Largest body in bytes, as sent and after gzip decompression; past it: 413. */
          maxBodyBytes: z.number().int().min(1024).max(1 << 30).default(16 << 20),
          /** Most records in one request; past it: 413. */
          maxRecords: z.number().int().min(1).max(1_000_000).default(10_000),
          /** How long a batch being taken waits for room before answering 503 with `retryFrom`. */
          maxWaitMs: z.number().int().min(0).max(600_000).default(10_000),
          /** Retry-After of a 503, in seconds. */
          retryAfterS: z.number().int().min(1).max(3600).default(1),
          units: signalUnits,
        })
        .prefault({}),
      /**
       * API tokens (src/adapters/http/api.ts), on by default: every `/v1` request needs
       * `Authorization: Bearer <token>`. Off: every request is the local operator (admin of
       * every tenant); only for a server bound to loopback.
       */
      auth: z
        .strictObject({
          enabled: z.boolean().default(true),
          /** Environment variable holding the first admin token's secret (an operator token, tenant `*`). */
          adminTokenEnv: z.string().min(1).default('VIGIL_ADMIN_TOKEN'),
        })
        .prefault({}),
    })
    .prefault({}),
  /** The alert pipeline (src/alerts/README.md): dedup and grouping windows, caps, evidence window. */
  alerts: z
    .strictObject({
      /** Dedup window per severity (`default` for those not named), a duration or ms; default 10m. */
      dedupWindow: z
        .strictObject(Object.fromEntries(['default', ...SEVERITIES].map((s) => [s, positiveDuration.optional()])) as Record<Severity | 'default', z.ZodOptional<typeof positiveDuration>>)
        .prefault({})
        .transform((w) => Object.fromEntries(SEVERITIES.map((s) => [s, w[s] ?? w.default ?? DEFAULT_DEDUP_WINDOW_MS])) as DedupWindows),
      /** How long after its last alert a vehicle incident takes more. */
      groupWindow: positiveDuration.default(DEFAULT_GROUP_WINDOW_MS),
      /** The same for campaign and intel incidents. */
      campaignWindow: positiveDuration.default(DEFAULT_CAMPAIGN_WINDOW_MS),
      maxOpenIncidents: z.number().int().min(1).default(MAX_OPEN_INCIDENTS),
      maxDedupKeys: z.number().int().min(1).default(MAX_DEDUP_KEYS),
      /** Signals, frames and records captured before and after each grouped alert. */
      evidence: z.strictObject({ before: duration.default(60_000), after: duration.default(60_000) }).prefault({}),
    })
    .prefault({}),
  /** The analyst workflow (src/alerts/workflow.ts). */
  incidents: z
    .strictObject({
      /**
       * SLA per severity: time to triage (while `new`) and time to resolve, as durations
       * (`15m`, `4h`, `3d`) or ms. A severity left out keeps its default (DEFAULT_SLA).
       */
      sla: z
        .strictObject(Object.fromEntries(SEVERITIES.map((s) => [s, slaTimes.optional()])) as Record<Severity, z.ZodOptional<typeof slaTimes>>)
        .prefault({})
        .transform((given) => Object.fromEntries(SEVERITIES.map((s) => [s, given[s] ?? DEFAULT_SLA[s]])) as SlaPolicy),
    })
    .prefault({}),
  /** Threat intelligence (src/intel, src/runtime/intel-service.ts): what is imported at start, and how often new exposure is looked for. */
  intel: z
    .strictObject({
      /** Feed files, folders (every file is a document) or http(s) URLs imported at start. */
      feeds: z.array(z.string().min(1)).default([]),
      /** SBOM files or folders (CycloneDX / SPDX JSON) imported at start for `sbomTenant`. */
      sboms: z.array(z.string().min(1)).default([]),
      /** Tenant of the SBOMs above (default: `tenant`). */
      sbomTenant: name.optional(),
      /** Also import the simulator's SBOMs of the demo fleet (src/sim/sboms.ts) for `sbomTenant`. */
      simSboms: z.boolean().default(false),
      /** How often vulnerabilities matched but not yet exposing (vehicles not registered yet) are looked at again. */
      exposureCheck: positiveDuration.default(60_000),
    })
    .prefault({}),
  sources: z.array(sourceSchema).default([]),
  /** Forward stored alerts to SIEMs: syslog (RFC 5424, TCP/TLS) or signed webhooks. Channel names default to `forward-<index>`. */
  forward: z.array(forwardTarget).default([]),
  /** Response playbooks (src/alerts/playbooks.ts) and where their actions go. */
  playbooks: z
    .strictObject({
      /** Folder of playbook YAML/JSON files for every tenant. Absent: the shipped `rules/playbooks` of the package. */
      dir: z.string().min(1).optional(),
      /** Named channels that `notify` and `webhook` steps send to. */
      channels: z.record(name, notifyChannel).default({}),
      /** The OTA back end: `ota_campaign` requests are POSTed there as signed webhooks. Absent: requests stay `requested` for it to poll. */
      ota: z.strictObject(webhookTarget).optional(),
    })
    .prefault({}),
  /** Plain-language questions (src/ask): the vocabulary's refresh and the optional language model. */
  ask: z
    .strictObject({
      /** How long a tenant's vocabulary values (makes, models, rules, ...) are kept before they are read again. */
      vocabularyRefresh: positiveDuration.default(300_000),
      /** An OpenAI-compatible endpoint (llama.cpp server, Ollama, vLLM). Absent: the embedded engine only. */
      model: z
        .strictObject({
          /** API base URL, e.g. http://localhost:11434/v1; `/chat/completions` is appended. */
          url: z.url({ protocol: /^https?$/ }),
          /** Model name as the endpoint knows it. */
          name: z.string().min(1),
          /** Environment variable holding the API key, when the endpoint needs one. */
          apiKeyEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/).optional(),
          /** fallback: only questions the embedded engine refuses; always: every question. */
          mode: z.enum(['fallback', 'always']).default('fallback'),
          timeout: positiveDuration.default(30_000),
        })
        .optional(),
    })
    .prefault({}),
  /**
   * Scale-out (`vigil serve --role ingest|worker`, src/adapters/nats/README.md): the ingest role
   * publishes each partition's hand-overs to NATS JetStream; worker processes own partitions by
   * lease and write to the shared PostgreSQL of `store` (kind postgres). `runtime.partitions`
   * is the partition count.
   */
  scaleout: z
    .strictObject({
      /** NATS servers (a cluster: several URLs). */
      servers: z.array(z.string().min(1)).min(1).default(['nats://127.0.0.1:4222']),
      /** The hand-over stream, and the lease stream (`<stream>_LEASES`). */
      stream: z.string().regex(/^[A-Za-z0-9_-]+$/).default('VIGIL_BUS'),
      /** Hand-overs go to `<subjectPrefix>.part.<n>`, leases to `<subjectPrefix>.lease.*`. */
      subjectPrefix: z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/).default('vigil.bus'),
      /** Stream replicas when Vigil creates the streams (3 on a NATS cluster). */
      replicas: z.number().int().min(1).max(5).default(1),
      /** A partition's lease lives this long without renewal: a killed worker's partitions move after it. */
      leaseTtl: positiveDuration.default(5_000),
      /** Raw messages per write group of a worker at most. */
      groupMessages: z.number().int().min(1).max(100_000).default(2_000),
    })
    .optional(),
}).transform((c) => ({ ...c, normalize: { ...c.normalize, sourceUnits: sourceUnitsOf(c) } }));

/**
 * `units` of every source, keyed as the records of that source are (`InputItem.source`:
 * `mqtt:<name>`, `nats:<name>`, and `http` for HTTP ingest), for normalize, which sees
 * only a record's source.
 */
function sourceUnitsOf(c: { sources: readonly { type: string; name: string; units?: Record<string, string> }[]; http: { ingest: { units?: Record<string, string> } } }): Record<string, Record<string, string>> | undefined {
  const out: Record<string, Record<string, string>> = {};
  for (const s of c.sources) if (s.units) out[`${s.type === 'nats' ? 'nats' : 'mqtt'}:${s.name}`] = s.units;
  if (c.http.ingest.units) out.http = c.http.ingest.units;
  return Object.keys(out).length ? out : undefined;
}

export type VigilConfig = z.infer<typeof configSchema>;
export type SourceConfig = z.infer<typeof sourceSchema>;

/** Validate a parsed config object; throws ConfigError listing every problem. */
export function parseConfig(input: unknown): VigilConfig {
  const result = configSchema.safeParse(input ?? {});
  const problems: string[] = [];
  if (!result.success) {
    for (const issue of result.error.issues) {
      const where = issue.path.length ? issue.path.join('.') : '(root)';
      problems.push(`${where}: ${issue.message}`);
    }
    throw new ConfigError('invalid configuration', problems);
  }
  problems.push(...topologyProblems(result.data));
  if (problems.length) throw new ConfigError('invalid configuration', problems);
  return result.data;
}

/** Parse YAML text, then validate; YAML syntax errors carry line and column. */
export function parseConfigYaml(text: string, file = 'config'): VigilConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true });
  } catch (e) {
    const where = e instanceof YAMLParseError && e.linePos ? `${file}:${e.linePos[0].line}:${e.linePos[0].col}` : file;
    throw new ConfigError('invalid configuration', [`${where}: ${(e as Error).message.split('\n')[0]}`], { cause: e });
  }
  return parseConfig(doc);
}

/** Checks that span fields: names unique, sizes coherent. */
function topologyProblems(c: VigilConfig): string[] {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  c.sources.forEach((s, i) => {
    const first = seen.get(s.name);
    if (first !== undefined) problems.push(`sources.${i}.name: "${s.name}" is already the name of sources.${first}`);
    else seen.set(s.name, i);
  });
  c.forward.forEach((f, i) => {
    if (f.type === 'syslog' && f.ca !== undefined && !f.tls) problems.push(`forward.${i}.ca: a CA is for TLS; set tls: true`);
  });
  for (const [n, ch] of Object.entries(c.playbooks.channels)) {
    if (ch.type === 'syslog' && ch.ca !== undefined && !ch.tls) problems.push(`playbooks.channels.${n}.ca: a CA is for TLS; set tls: true`);
  }
  const forwardNames = c.forward.map((f, i) => f.name ?? `forward-${i}`);
  forwardNames.forEach((n, i) => {
    if (forwardNames.indexOf(n) !== i) problems.push(`forward.${i}.name: "${n}" is already the name of forward.${forwardNames.indexOf(n)}`);
  });
  if (c.runtime.workers > c.runtime.partitions) {
    problems.push(`runtime.workers: ${c.runtime.workers} workers but only ${c.runtime.partitions} partitions; some workers would own nothing`);
  }
  if (c.runtime.handoffBatch > c.runtime.maxInFlightPerWorker) {
    problems.push(`runtime.handoffBatch: ${c.runtime.handoffBatch} exceeds runtime.maxInFlightPerWorker (${c.runtime.maxInFlightPerWorker})`);
  }
  return problems;
}
