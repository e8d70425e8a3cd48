/**
 * aedes looks up subscribers twice for every QoS 1 PUBLISH: its persistence's QoS 1
 * subscriptions (to queue the message for offline sessions) and mqemitter's listeners (to
 * deliver it) — a topic-trie match and a few promises each, a tenth of the broker's cost per
 * message. Vehicles publish and, mostly, nobody subscribes. While no subscription outside
 * `$`-topics exists, a topic not starting with `$` can match none (wildcards at the first
 * level do not match `$` topics, MQTT 3.1.1 4.7.2-1), so both lookups are answered at once.
 * Once a client subscribes, every lookup runs as before.
 */

/** The parts of aedes' mqemitter used here. */
interface Emitter {
  on(topic: string, notify: unknown, done?: () => void): unknown;
  removeListener(topic: string, notify: unknown, done?: () => void): unknown;
  removeAllListeners(topic: string, done?: () => void): unknown;
  emit(packet: { topic: string }, cb?: (err?: Error) => void): unknown;
}

/** The parts of aedes' persistence used here. */
interface Persistence {
  addSubscriptions(client: unknown, subs: readonly { topic: string; qos: number }[]): Promise<unknown>;
  subscriptionsByTopic(topic: string): Promise<unknown[]>;
  outgoingEnqueueCombi(subs: readonly unknown[], packet: unknown): Promise<void>;
}

const NONE: readonly unknown[] = Object.freeze([]);
const plain = (topic: string): boolean => topic.charCodeAt(0) !== 36; // '$'

/** Wrap an aedes broker's emitter and persistence (after `listen()`, which creates the persistence). */
export function skipLookupsWithoutSubscribers(aedes: object): void {
  // Neither is in aedes' typings: check they are there, so an aedes upgrade that moves them fails loudly.
  const broker = aedes as { mq?: Emitter; persistence?: Persistence };
  if (typeof broker.mq?.emit !== 'function' || typeof broker.persistence?.subscriptionsByTopic !== 'function') {
    throw new Error('aedes internals changed: broker.mq or broker.persistence is missing');
  }
  const mq = broker.mq;
  const { on, removeListener, removeAllListeners, emit } = mq;
  // Listeners on plain topics; -1 once uncountable (removeAllListeners), and lookups always run.
  let listeners = 0;
  mq.on = function (topic, notify, done) {
    if (plain(topic) && listeners >= 0) listeners++;
    return on.call(this, topic, notify, done);
  };
  mq.removeListener = function (topic, notify, done) {
    // mqemitter removes the listener a turn later: count it out then.
    return removeListener.call(this, topic, notify, () => {
      if (plain(topic) && listeners > 0) listeners--;
      done?.();
    });
  };
  mq.removeAllListeners = function (topic, done) {
    if (plain(topic)) listeners = -1;
    return removeAllListeners.call(this, topic, done);
  };
  mq.emit = function (packet, cb) {
    if (listeners === 0 && plain(packet.topic)) {
      cb?.();
      return this;
    }
    return emit.call(this, packet, cb);
  };

  const p = broker.persistence;
  const { addSubscriptions, subscriptionsByTopic, outgoingEnqueueCombi } = p;
  // Whether a QoS 1 subscription to plain topics was ever stored (never counted down: rare, and safe).
  let qosSubscriptions = false;
  p.addSubscriptions = function (client, subs) {
    if (subs.some((s) => s.qos > 0 && plain(s.topic))) qosSubscriptions = true;
    return addSubscriptions.call(this, client, subs);
  };
  p.subscriptionsByTopic = function (topic) {
    return qosSubscriptions || !plain(topic) ? subscriptionsByTopic.call(this, topic) : Promise.resolve(NONE as unknown[]);
  };
  p.outgoingEnqueueCombi = function (subs, packet) {
    return subs.length ? outgoingEnqueueCombi.call(this, subs, packet) : Promise.resolve();
  };
}
