import { describe, expect, it } from 'vitest';
import type { ActionDoc, PackageDoc } from '../core/entities.js';
import { getAnnotation } from '../core/entities.js';
import { DEFAULT_SYSTEM_LIMITS } from '../core/limits.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { CATALOG, CATALOG_NAMESPACE, installCatalog, packageVersion } from './index.js';

const ns = CATALOG_NAMESPACE;

describe('system catalog installation', () => {
  it('installs public packages with their actions, then leaves them alone while current', async () => {
    const store = new SqliteStore(':memory:');
    expect(await installCatalog(store, DEFAULT_SYSTEM_LIMITS)).toEqual({
      installed: ['utils', 'samples', 'alarms'],
      current: [],
    });
    const utils = (await store.getEntity(ns, 'utils'))!.doc as PackageDoc;
    expect(utils).toMatchObject({ namespace: ns, publish: true, binding: {}, version: '0.0.1' });
    expect(getAnnotation(utils.annotations, 'catalog-version')).toBe(packageVersion(CATALOG[0]!));
    const names = (await store.listEntities(ns, 'action', { skip: 0, limit: 100, pkg: 'utils' })).map(
      (a) => a.name,
    );
    expect(names.sort()).toEqual(['cat', 'date', 'echo', 'head', 'sort', 'split', 'wordCount']);
    const alarm = (await store.getEntity(ns, 'alarms/alarm'))!.doc as ActionDoc;
    expect(alarm).toMatchObject({ namespace: `${ns}/alarms`, exec: { kind: 'nodejs:20', binary: false } });
    expect(getAnnotation(alarm.annotations, 'feed')).toBe(true);
    expect(getAnnotation(alarm.annotations, 'provide-api-key')).toBe(true);
    expect(getAnnotation(alarm.annotations, 'exec')).toBe('nodejs:20');
    const echo = (await store.getEntity(ns, 'utils/echo'))!.doc as ActionDoc;
    expect(getAnnotation(echo.annotations, 'provide-api-key')).toBe(false);

    expect(await installCatalog(store, DEFAULT_SYSTEM_LIMITS)).toEqual({
      installed: [],
      current: ['utils', 'samples', 'alarms'],
    });
    expect(((await store.getEntity(ns, 'utils'))!.doc as PackageDoc).version).toBe('0.0.1');
    await store.close();
  });

  it('upgrades a package whose version changed: rewrites its actions and drops the ones it no longer has', async () => {
    const store = new SqliteStore(':memory:');
    await installCatalog(store, DEFAULT_SYSTEM_LIMITS);
    const pkg = await store.getEntity(ns, 'samples');
    const old = pkg!.doc as PackageDoc;
    const outdated: PackageDoc = {
      ...old,
      annotations: old.annotations.map((a) => (a.key === 'catalog-version' ? { ...a, value: 'older' } : a)),
    };
    await store.putEntity(ns, 'samples', 'package', outdated, pkg!.rev);
    const hello = await store.getEntity(ns, 'samples/helloWorld');
    await store.putEntity(
      ns,
      'samples/helloWorld',
      'action',
      { ...hello!.doc, exec: { kind: 'nodejs:20', code: 'broken', binary: false } },
      hello!.rev,
    );
    const stray = { ...(hello!.doc as ActionDoc), name: 'retired' };
    await store.putEntity(ns, 'samples/retired', 'action', stray, null);

    expect((await installCatalog(store, DEFAULT_SYSTEM_LIMITS)).installed).toEqual(['samples']);
    expect(((await store.getEntity(ns, 'samples'))!.doc as PackageDoc).version).toBe('0.0.2');
    const fixed = (await store.getEntity(ns, 'samples/helloWorld'))!.doc as ActionDoc;
    expect(fixed.version).toBe('0.0.2');
    expect((fixed.exec as { code: string }).code).toContain('Hello, ');
    expect(await store.getEntity(ns, 'samples/retired')).toBeUndefined();
    await store.close();
  });

  it('reinstalls an action deleted from a current package', async () => {
    const store = new SqliteStore(':memory:');
    await installCatalog(store, DEFAULT_SYSTEM_LIMITS);
    await store.deleteEntity(ns, 'utils/date');
    expect((await installCatalog(store, DEFAULT_SYSTEM_LIMITS)).installed).toEqual(['utils']);
    expect(await store.getEntity(ns, 'utils/date')).toBeDefined();
    await store.close();
  });
});
