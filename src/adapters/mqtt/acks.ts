/**
 * When the embedded broker answers a client's PUBLISHes. aedes reads a client's socket one
 * chunk at a time, hands every PUBLISH of the chunk to `authorizePublish` synchronously, and
 * reads the next chunk only once each of them has called back. The messages of one chunk form
 * a burst: they share one completion callback (no closure or slot per message), and their
 * aedes callbacks (PUBACK, then routing to subscribers) fire together, in arrival order, once
 * the last of them is durable (QoS 1) or taken (QoS 0). Bursts of a client complete in
 * order too: MQTT 3.1.1 (4.6.0-2) wants PUBACKs in the order of the PUBLISHes, while a
 * message's durability depends on which worker took it.
 */

/** aedes' callback for one PUBLISH: null to go on (PUBACK, route), an error to refuse it. */
export type Reply = (err: Error | null) => void;

/** One client's bursts. */
export class ClientAcks {
  private open: Burst | undefined;
  private readonly order = new InOrder();

  /**
   * Join the current burst (a new one starts with the first message of a chunk); returns the
   * callback that says this message is done. `reply` fires, with `err`, when the burst completes.
   */
  add(reply: Reply, err: Error | null = null): () => void {
    let b = this.open;
    if (!b) {
      const burst = (b = this.open = new Burst(this.order));
      // Every PUBLISH of the chunk reaches us before the next microtask: then the burst is whole.
      queueMicrotask(() => {
        this.open = undefined;
        burst.seal();
      });
    }
    b.add(reply, err);
    return b.done;
  }
}

class Burst {
  private readonly replies: Reply[] = [];
  /** Sparse, by position: the error a reply fires with ($SYS topics). */
  private errors: (Error | null)[] | undefined;
  private pending = 0;
  private sealed = false;
  private readonly release: () => void;

  constructor(order: InOrder) {
    this.release = order.next(() => this.fire());
  }

  add(reply: Reply, err: Error | null): void {
    if (err) (this.errors ??= [])[this.replies.length] = err;
    this.replies.push(reply);
    this.pending++;
  }

  readonly done = (): void => {
    if (--this.pending === 0 && this.sealed) this.release();
  };

  seal(): void {
    this.sealed = true;
    if (this.pending === 0) this.release();
  }

  private fire(): void {
    const { replies, errors } = this;
    for (let i = 0; i < replies.length; i++) replies[i]!(errors?.[i] ?? null);
  }
}

/** Completes callbacks in the order they were reserved, whatever order they become ready in. */
export class InOrder {
  private readonly slots: ({ ready: boolean; readonly fire: () => void } | undefined)[] = [];
  private head = 0;

  /** Reserve the next slot; call the returned function when this one may complete. */
  next(fire: () => void): () => void {
    const slot = { ready: false, fire };
    this.slots.push(slot);
    return () => {
      slot.ready = true;
      this.release();
    };
  }

  private release(): void {
    while (this.head < this.slots.length && this.slots[this.head]!.ready) {
      const slot = this.slots[this.head]!;
      this.slots[this.head++] = undefined;
      slot.fire();
    }
    if (this.head > 1024 && this.head * 2 > this.slots.length) {
      this.slots.splice(0, this.head);
      this.head = 0;
    }
  }
}
