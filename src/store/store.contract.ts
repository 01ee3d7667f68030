/**
 * The behaviour every Store backend must show. Backends call defineStoreContract from their own test file
 * with a factory that returns a fresh, empty store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ActivationRecord } from '../core/activation.js';
import { newActivationId } from '../core/activation.js';
import type { ActionDoc } from '../core/entities.js';
import { newIdentity } from '../core/identity.js';
import type { ProviderRecordStore, Store } from './store.js';
import { ConflictError } from './store.js';

const action = (namespace: string, name: string, updated: number): ActionDoc => ({
  namespace,
  name,
  version: '0.0.1',
  publish: false,
  annotations: [],
  updated,
  exec: { kind: 'nodejs:20', code: 'function main(){}', binary: false },
  parameters: [],
  limits: { timeout: 60000, memory: 256, logs: 10, concurrency: 1 },
});

const record = (namespace: string, path: string, start: number): ActivationRecord => ({
  namespace,
  name: path.split('/').pop()!,
  version: '0.0.1',
  subject: namespace,
  publish: false,
  activationId: newActivationId(),
  start,
  end: start + 5,
  duration: 5,
  response: { statusCode: 0, result: { ok: true } },
  logs: [],
  annotations: [{ key: 'path', value: `${namespace}/${path}` }],
});

export function defineStoreContract(name: string, create: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await create();
    });
    afterEach(async () => {
      await store.close();
    });

    it('creates an entity at a positive revision and reads it back', async () => {
      const rev = await store.putEntity('ns', 'a', 'action', action('ns', 'a', 1), null);
      expect(rev).toBeGreaterThan(0);
      const got = await store.getEntity('ns', 'a');
      expect(got).toMatchObject({ type: 'action', rev, doc: { name: 'a' } });
    });

    it('never gives a revision twice, even to a deleted and re-created entity', async () => {
      const seen = new Set<number>();
      const note = (rev: number): void => {
        expect(seen.has(rev)).toBe(false);
        seen.add(rev);
      };
      for (let round = 0; round < 3; round++) {
        const created = await store.putEntity('ns', 'a', 'action', action('ns', 'a', round), null);
        note(created);
        note(await store.putEntity('ns', 'a', 'action', action('ns', 'a', round), created));
        // Another entity's writes and another namespace's share the same sequence.
        note(await store.putEntity('other', `b${round}`, 'trigger', action('other', 'b', round), null));
        expect(await store.deleteEntity('ns', 'a')).toBe(true);
      }
      expect(seen.size).toBe(9);
    });

    it('refuses a second create of the same path, whatever the collection', async () => {
      await store.putEntity('ns', 'x', 'trigger', action('ns', 'x', 1), null);
      const err = await store
        .putEntity('ns', 'x', 'action', action('ns', 'x', 2), null)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConflictError);
      expect((err as ConflictError).existing?.type).toBe('trigger');
    });

    it('updates only the revision it was given (compare-and-set)', async () => {
      const first = await store.putEntity('ns', 'a', 'action', action('ns', 'a', 1), null);
      const second = await store.putEntity('ns', 'a', 'action', action('ns', 'a', 2), first);
      expect(second).toBeGreaterThan(first);
      expect((await store.getEntity('ns', 'a'))?.rev).toBe(second);
      await expect(store.putEntity('ns', 'a', 'action', action('ns', 'a', 3), first)).rejects.toBeInstanceOf(
        ConflictError,
      );
      await expect(
        store.putEntity('ns', 'gone', 'action', action('ns', 'gone', 3), first),
      ).rejects.toBeInstanceOf(ConflictError);
      expect((await store.getEntity('ns', 'a'))?.doc.updated).toBe(2);
    });

    it('deletes conditionally and reports absence', async () => {
      const rev = await store.putEntity('ns', 'a', 'action', action('ns', 'a', 1), null);
      expect(await store.deleteEntity('ns', 'a', rev + 7)).toBe(false);
      expect(await store.deleteEntity('ns', 'a', rev)).toBe(true);
      expect(await store.deleteEntity('ns', 'a')).toBe(false);
      expect(await store.getEntity('ns', 'a')).toBeUndefined();
    });

    it('lists newest first with paging, per namespace, including package members', async () => {
      for (let i = 0; i < 5; i++)
        await store.putEntity('ns', `a${i}`, 'action', action('ns', `a${i}`, 100 + i), null);
      await store.putEntity('ns', 'p/inner', 'action', action('ns/p', 'inner', 50), null);
      await store.putEntity('other', 'z', 'action', action('other', 'z', 999), null);
      const page = await store.listEntities('ns', 'action', { skip: 1, limit: 2 });
      expect(page.map((d) => d.name)).toEqual(['a3', 'a2']);
      expect(await store.countEntities('ns', 'action')).toBe(6);
      const inPkg = await store.listEntities('ns', 'action', { skip: 0, limit: 10, pkg: 'p' });
      expect(inPkg.map((d) => d.name)).toEqual(['inner']);
      expect(await store.countEntities('ns', 'action', 'p')).toBe(1);
      expect(await store.countEntities('ns', 'package')).toBe(0);
    });

    it('keeps entity names case-sensitive and allows spaces', async () => {
      await store.putEntity('ns', 'TWICE', 'action', action('ns', 'TWICE', 1), null);
      await store.putEntity('ns', 'twice', 'action', action('ns', 'twice', 1), null);
      await store.putEntity('ns', 'with spaces', 'action', action('ns', 'with spaces', 1), null);
      expect(await store.countEntities('ns', 'action')).toBe(3);
    });

    it('keeps API entities (path = base path, starting with /) apart from the other collections', async () => {
      const api = {
        namespace: 'ns',
        name: 'Books',
        version: '0.0.1',
        publish: false,
        annotations: [],
        updated: 5,
        basePath: '/v1/books',
        routes: [],
      };
      await store.putEntity('ns', 'books', 'action', action('ns', 'books', 1), null);
      const rev = await store.putEntity('ns', '/v1/books', 'api', api, null);
      expect(await store.getEntity('ns', '/v1/books')).toMatchObject({ type: 'api', rev, doc: api });
      expect((await store.listEntities('ns', 'api', { skip: 0, limit: 10 })).map((d) => d.name)).toEqual([
        'Books',
      ]);
      expect(await store.countEntities('ns', 'api')).toBe(1);
      expect(await store.countEntities('ns', 'action')).toBe(1);
      expect(await store.deleteEntity('ns', '/v1/books', rev)).toBe(true);
      expect(await store.getEntity('ns', 'books')).toMatchObject({ type: 'action' });
    });

    it('stores identities by uuid and lists them by namespace or subject', async () => {
      const a = newIdentity('alice', 'ns1', '11111111-1111-4111-8111-111111111111', 'k'.repeat(64));
      const b = newIdentity('bobby', 'ns1', '22222222-2222-4222-8222-222222222222', 'q'.repeat(64));
      await store.putIdentity(a);
      await store.putIdentity(b);
      expect(await store.getIdentity(a.uuid)).toMatchObject({
        subject: 'alice',
        namespace: 'ns1',
        keyHash: a.keyHash,
      });
      expect((await store.listIdentities({ namespace: 'ns1' })).length).toBe(2);
      expect((await store.listIdentities({ subject: 'bobby' })).map((i) => i.uuid)).toEqual([b.uuid]);
      expect(await store.deleteIdentity(a.uuid)).toBe(true);
      expect(await store.getIdentity(a.uuid)).toBeUndefined();
    });

    it('sets, reads and deletes namespace limits', async () => {
      expect(await store.getLimits('ns')).toBeUndefined();
      await store.setLimits('ns', { invocationsPerMinute: 5, allowedKinds: ['python:3'] });
      expect(await store.getLimits('ns')).toEqual({ invocationsPerMinute: 5, allowedKinds: ['python:3'] });
      expect(await store.deleteLimits('ns')).toBe(true);
      expect(await store.getLimits('ns')).toBeUndefined();
    });

    it('writes activations idempotently and scopes reads to their namespace', async () => {
      const r = record('ns', 'hello', 1000);
      await store.putActivations([r, r]);
      await store.putActivations([r]);
      expect(await store.getActivation('ns', r.activationId)).toEqual(r);
      expect(await store.getActivation('other', r.activationId)).toBeUndefined();
      expect(await store.countActivations('ns', {})).toBe(1);
    });

    it('filters activations by name, since and upto, newest first, with paging', async () => {
      const rs = [
        record('ns', 'a', 1000),
        record('ns', 'a', 2000),
        record('ns', 'p/a', 3000),
        record('ns', 'b', 4000),
        record('other', 'a', 5000),
      ];
      await store.putActivations(rs);
      const all = await store.listActivations('ns', { skip: 0, limit: 10 });
      expect(all.map((r) => r.start)).toEqual([4000, 3000, 2000, 1000]);
      expect(
        (await store.listActivations('ns', { skip: 0, limit: 10, name: 'a' })).map((r) => r.start),
      ).toEqual([2000, 1000]);
      expect((await store.listActivations('ns', { skip: 0, limit: 10, name: 'p/a' })).length).toBe(1);
      const window = await store.listActivations('ns', { skip: 0, limit: 10, since: 2000, upto: 3000 });
      expect(window.map((r) => r.start)).toEqual([3000, 2000]);
      expect((await store.listActivations('ns', { skip: 1, limit: 2 })).map((r) => r.start)).toEqual([
        3000, 2000,
      ]);
      expect(await store.countActivations('ns', { name: 'a', since: 1500 })).toBe(1);
    });
  });
}

/** The behaviour of provider records (ProviderRecordStore), for backends that keep them. */
export function defineProviderRecordsContract(
  name: string,
  create: () => Promise<ProviderRecordStore & { close(): Promise<void> }>,
): void {
  describe(`ProviderRecordStore contract: ${name}`, () => {
    let store: ProviderRecordStore & { close(): Promise<void> };
    beforeEach(async () => {
      store = await create();
    });
    afterEach(async () => {
      await store.close();
    });

    it('keeps provider records per provider and key: create, replace, list in key order, delete', async () => {
      expect(await store.getProviderRecord('alarms', 'ns/t')).toBeUndefined();
      await store.putProviderRecord({
        provider: 'alarms',
        key: 'ns/t',
        doc: { cron: '* * * * *' },
        updated: 1,
      });
      await store.putProviderRecord({ provider: 'alarms', key: 'a/b', doc: { n: 1 }, updated: 2 });
      await store.putProviderRecord({ provider: 'other', key: 'ns/t', doc: { x: true }, updated: 3 });
      await store.putProviderRecord({
        provider: 'alarms',
        key: 'ns/t',
        doc: { cron: '0 * * * *' },
        updated: 4,
      });
      expect(await store.getProviderRecord('alarms', 'ns/t')).toEqual({
        provider: 'alarms',
        key: 'ns/t',
        doc: { cron: '0 * * * *' },
        updated: 4,
      });
      expect((await store.listProviderRecords('alarms')).map((r) => r.key)).toEqual(['a/b', 'ns/t']);
      expect(await store.deleteProviderRecord('alarms', 'ns/t')).toBe(true);
      expect(await store.deleteProviderRecord('alarms', 'ns/t')).toBe(false);
      expect((await store.listProviderRecords('alarms')).map((r) => r.key)).toEqual(['a/b']);
      expect(await store.getProviderRecord('other', 'ns/t')).toMatchObject({ doc: { x: true } });
    });

    it('replaces a record only while it holds what the writer last saw', async () => {
      const first = { cron: '* * * * *', status: { active: true }, fires: 0 };
      await store.putProviderRecord({ provider: 'alarms', key: 'ns/t', doc: first, updated: 1 });
      const fired = { ...first, fires: 1 };
      expect(
        await store.replaceProviderRecord({ provider: 'alarms', key: 'ns/t', doc: fired, updated: 2 }, first),
      ).toBe(true);
      // Someone else pauses it; a writer still holding the older doc must not undo that.
      const paused = { ...fired, status: { active: false } };
      await store.putProviderRecord({ provider: 'alarms', key: 'ns/t', doc: paused, updated: 3 });
      const stale = { ...fired, fires: 2 };
      expect(
        await store.replaceProviderRecord({ provider: 'alarms', key: 'ns/t', doc: stale, updated: 4 }, fired),
      ).toBe(false);
      expect(await store.getProviderRecord('alarms', 'ns/t')).toMatchObject({ doc: paused, updated: 3 });
      // Nor bring back a deleted one.
      await store.deleteProviderRecord('alarms', 'ns/t');
      expect(
        await store.replaceProviderRecord(
          { provider: 'alarms', key: 'ns/t', doc: stale, updated: 5 },
          paused,
        ),
      ).toBe(false);
      expect(await store.getProviderRecord('alarms', 'ns/t')).toBeUndefined();
    });
  });
}
