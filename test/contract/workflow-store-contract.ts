/**
 * The WorkflowStore contract (src/alerts/ports.ts): incident history, links and rule tuning.
 * Every adapter runs it unchanged; it speaks only the port.
 *
 * Rules it pins down beyond the port's types:
 * - events are idempotent by (tenant, incident, id): a repeated id is skipped, the first write wins;
 * - `events` is oldest first, and events of the same time keep the order they were appended in;
 * - a link joins two incidents once, whichever way round, and is listed from both ends;
 * - saving tuning for a (tenant, rule) replaces the previous parameters;
 * - malformed input rejects with StoreError and writes nothing;
 * - nothing of another tenant is ever read.
 *
 *   runWorkflowStoreContract('duckdb', async () => ({ store, close }));
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/core/errors.js';
import type { IncidentEvent, WorkflowStore } from '../../src/alerts/ports.js';

const T0 = Date.UTC(2026, 0, 1, 12);

function event(over: Partial<IncidentEvent> & Pick<IncidentEvent, 'id'>): IncidentEvent {
  return { tenant: 'acme', incident: 'inc-1', time: T0, actor: 'tok-1', kind: 'comment', body: { text: 'hello' }, ...over };
}

export function runWorkflowStoreContract(name: string, open: () => Promise<{ store: WorkflowStore; close(): Promise<void> }>): void {
  describe(`WorkflowStore contract: ${name}`, () => {
    let store: WorkflowStore;
    let close: () => Promise<void>;
    beforeEach(async () => {
      ({ store, close } = await open());
    });
    afterEach(async () => close());

    it('keeps events oldest first, same-time events in append order, bodies intact to the millisecond', async () => {
      await store.appendEvents([
        event({ id: 'e3', time: T0 + 2000, kind: 'state', body: { from: 'new', to: 'triaged', reason: 'ok', nested: { n: [1, 2] } } }),
        event({ id: 'e1', time: T0 + 1, kind: 'created', actor: 'system' }),
      ]);
      await store.appendEvents([event({ id: 'z0', time: T0 + 2000 }), event({ id: 'a0', time: T0 + 2000 })]);
      const got = await store.events('acme', 'inc-1');
      expect(got.map((e) => e.id)).toEqual(['e1', 'e3', 'z0', 'a0']);
      expect(got[0]).toEqual({ tenant: 'acme', incident: 'inc-1', id: 'e1', time: T0 + 1, actor: 'system', kind: 'created', body: { text: 'hello' } });
      expect(got[1]!.body).toEqual({ from: 'new', to: 'triaged', reason: 'ok', nested: { n: [1, 2] } });
    });

    it('skips an event id already stored (the first write wins), also within one call', async () => {
      await store.appendEvents([event({ id: 'e1', body: { text: 'first' } }), event({ id: 'e1', body: { text: 'again' } })]);
      await store.appendEvents([event({ id: 'e1', body: { text: 'later' } })]);
      const got = await store.events('acme', 'inc-1');
      expect(got).toHaveLength(1);
      expect(got[0]!.body).toEqual({ text: 'first' });
    });

    it('scopes events to tenant and incident', async () => {
      await store.appendEvents([event({ id: 'e1' }), event({ id: 'e1', tenant: 'globex' }), event({ id: 'e2', incident: 'inc-2' })]);
      expect((await store.events('acme', 'inc-1')).map((e) => [e.tenant, e.incident, e.id])).toEqual([['acme', 'inc-1', 'e1']]);
      expect((await store.events('globex', 'inc-2'))).toEqual([]);
      expect((await store.events('nobody', 'inc-1'))).toEqual([]);
    });

    it('rejects a malformed event with StoreError and writes none of the call', async () => {
      await expect(store.appendEvents([event({ id: 'ok' }), event({ id: '' })])).rejects.toBeInstanceOf(StoreError);
      await expect(store.appendEvents([event({ id: 'ok', time: Number.NaN })])).rejects.toBeInstanceOf(StoreError);
      await expect(store.appendEvents([event({ id: 'ok', body: null as unknown as Record<string, unknown> })])).rejects.toBeInstanceOf(StoreError);
      expect(await store.events('acme', 'inc-1')).toEqual([]);
      await store.appendEvents([]);
    });

    it('links two incidents once, whichever way round, listed from both ends', async () => {
      const link = { tenant: 'acme', a: 'inc-1', b: 'inc-2', relation: 'duplicate_of', createdBy: 'tok-1', createdAt: T0 };
      expect(await store.insertLink(link)).toBe(true);
      expect(await store.insertLink(link)).toBe(false);
      expect(await store.insertLink({ ...link, a: 'inc-2', b: 'inc-1', relation: 'related' })).toBe(false);
      expect(await store.insertLink({ ...link, b: 'inc-3', relation: 'related', createdAt: T0 + 5 })).toBe(true);
      expect(await store.links('acme', 'inc-1')).toEqual([link, { ...link, b: 'inc-3', relation: 'related', createdAt: T0 + 5 }]);
      expect(await store.links('acme', 'inc-2')).toEqual([link]);
      expect(await store.links('globex', 'inc-1')).toEqual([]);
      await expect(store.insertLink({ ...link, b: 'inc-1' })).rejects.toBeInstanceOf(StoreError);
      await expect(store.insertLink({ ...link, relation: '' })).rejects.toBeInstanceOf(StoreError);
    });

    it('keeps one tuning per tenant and rule; saving again replaces it', async () => {
      await store.saveTuning({ tenant: 'acme', rule: 'r.flood', params: { threshold: 20 }, reason: 'fleet test rig', createdBy: 'tok-1', createdAt: T0 });
      await store.saveTuning({ tenant: 'globex', rule: 'r.flood', params: { threshold: 5 }, reason: 'x', createdBy: 'tok-9', createdAt: T0 });
      await store.saveTuning({ tenant: 'acme', rule: 'r.flood', params: { threshold: 30, window: '10m' }, reason: 'still noisy', createdBy: 'tok-2', createdAt: T0 + 60_000 });
      expect(await store.listTuning('acme')).toEqual([
        { tenant: 'acme', rule: 'r.flood', params: { threshold: 30, window: '10m' }, reason: 'still noisy', createdBy: 'tok-2', createdAt: T0 + 60_000 },
      ]);
      expect((await store.listTuning()).map((t) => [t.tenant, t.rule, t.params])).toEqual([
        ['acme', 'r.flood', { threshold: 30, window: '10m' }],
        ['globex', 'r.flood', { threshold: 5 }],
      ]);
      expect(await store.listTuning('nobody')).toEqual([]);
      await expect(store.saveTuning({ tenant: 'acme', rule: '', params: {}, reason: '', createdBy: 'x', createdAt: T0 })).rejects.toBeInstanceOf(StoreError);
      await expect(store.saveTuning({ tenant: 'acme', rule: 'r', params: [] as unknown as Record<string, unknown>, reason: '', createdBy: 'x', createdAt: T0 })).rejects.toBeInstanceOf(StoreError);
    });
  });
}
