/**
 * The Notifier port: how Vigil tells other systems — a SIEM, a SOAR, an OTA back end, a chat
 * bridge — that something happened. Adapters (src/adapters/notify) send over signed webhooks
 * or syslog (RFC 5424 over TCP or TLS); both retry with backoff and report every attempt, so
 * the caller can keep a delivery log in which nothing is lost silently.
 *
 * Contract (test/contract/notifier-contract.ts runs it against every adapter with a real receiver):
 * - `deliver` never rejects: it resolves with the last attempt, `delivered` or `failed`;
 * - every attempt is reported through `onAttempt` as it ends, numbered from 1, in order;
 *   only the last one is `delivered` or `failed`, those before it are `retrying`;
 * - a message refused before any try (queue full, adapter closed) is one `failed` attempt;
 * - after `close`, deliver answers `failed` at once.
 */
import type { Severity } from '../core/records.js';

/** One message to deliver. */
export interface Notification {
  /** Unique per message; repeated on every attempt (webhook `X-Vigil-Delivery`, syslog `id` parameter). */
  readonly id: string;
  readonly tenant: string;
  /** What happened, dotted: `alert`, `playbook.webhook`, `notify`, `ota.campaign`, ... */
  readonly event: string;
  readonly severity: Severity;
  /** One line for people (the syslog MSG). */
  readonly message: string;
  /** Time of what is reported (epoch ms). */
  readonly time: number;
  /** The structured body: the webhook's `data`, the syslog structured data. */
  readonly data: Readonly<Record<string, unknown>>;
}

export const ATTEMPT_STATUSES = ['delivered', 'retrying', 'failed'] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

/** How one attempt ended. */
export interface DeliveryAttempt {
  /** 1, 2, 3, ... */
  readonly attempt: number;
  readonly status: AttemptStatus;
  /** The HTTP status a webhook receiver answered. */
  readonly httpStatus?: number;
  readonly error?: string;
  /** When the attempt ended (epoch ms). */
  readonly at: number;
}

export type NotifierKind = 'webhook' | 'syslog';

export interface Notifier {
  /** The channel's name (config), shown in the delivery log. */
  readonly channel: string;
  readonly kind: NotifierKind;
  /** Where messages go, for the delivery log: a URL or `syslog+tls://host:port`; never a secret. */
  readonly target: string;
  /** Delivers with retries; see the file comment for the contract. */
  deliver(n: Notification, onAttempt?: (a: DeliveryAttempt) => void): Promise<DeliveryAttempt>;
  /** Stops taking messages; resolves once queued messages are settled. */
  close(): Promise<void>;
}

/** Retry policy shared by the adapters: exponential backoff with jitter. */
export interface RetryPolicy {
  /** Tries per message, the first included. */
  readonly maxAttempts: number;
  /** Wait before the 2nd attempt; doubles each time. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 30_000 };

/**
 * The wait after failed attempt `attempt` (1-based): `base * 2^(attempt-1)` capped at `max`,
 * then "equal jitter" — a uniformly random point in its upper half — so senders that failed
 * together do not retry together, yet the wait never collapses to zero.
 *
 *   backoffDelay(1, { baseDelayMs: 100, maxDelayMs: 1000 }, () => 0.5) // 75
 */
export function backoffDelay(attempt: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}
