/**
 * SIEM forwarding: every stored alert at or above a target's `minSeverity` goes to that
 * target (syslog RFC 5424 or a signed webhook; config `forward`), every attempt in the delivery
 * log. `offer` is the Pipeline.onAlertsStored listener: it never blocks the pipeline; each
 * notifier bounds its own queue, and a message it cannot take is a `failed` delivery, logged.
 */
import { SEVERITIES, type Alert, type Severity } from '../core/records.js';
import type { DeliveryLog } from './delivery-log.js';
import type { Notification, Notifier } from './notifier.js';

export interface ForwardTarget {
  readonly notifier: Notifier;
  readonly minSeverity: Severity;
}

/** The message for one alert: its fields as structured data, a one-line summary as text. */
export function alertNotification(alert: Alert, channel: string): Notification {
  return {
    // One message per alert and target: the delivery log is keyed by it.
    id: `${channel}:${alert.id}`,
    tenant: alert.tenant,
    event: 'alert',
    severity: alert.severity,
    message: `${alert.title}${alert.vehicle ? ` on vehicle ${alert.vehicle}` : ''} (${alert.rule})`,
    time: alert.time,
    data: {
      alert: alert.id, rule: alert.rule, title: alert.title, vehicle: alert.vehicle ?? null,
      detectedAt: new Date(alert.detectedAt).toISOString(), tags: alert.tags, details: alert.details,
    },
  };
}

export class AlertForwarder {
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Messages handed to a notifier, and those that ended failed. */
  offered = 0;
  failed = 0;

  constructor(
    private readonly targets: readonly ForwardTarget[],
    private readonly log: DeliveryLog,
  ) {}

  /** Messages being delivered now. */
  get pending(): number {
    return this.inFlight.size;
  }

  /** Forward stored alerts; returns at once. */
  offer(alerts: readonly Alert[]): void {
    for (const t of this.targets) {
      const min = SEVERITIES.indexOf(t.minSeverity);
      for (const a of alerts) {
        if (SEVERITIES.indexOf(a.severity) < min) continue;
        this.offered++;
        const p = this.log.deliver(t.notifier, alertNotification(a, t.notifier.channel)).then((last) => {
          if (last.status !== 'delivered') this.failed++;
        });
        this.inFlight.add(p);
        void p.finally(() => this.inFlight.delete(p));
      }
    }
  }

  /** Resolves when every alert offered so far is delivered or failed, and logged. */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
    await this.log.flush();
  }

  /** Delivers what was offered, then closes the notifiers. */
  async close(): Promise<void> {
    await this.idle();
    await Promise.all(this.targets.map((t) => t.notifier.close()));
  }
}
