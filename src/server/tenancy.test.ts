import { describe, expect, it } from 'vitest';
import { newIdentity } from '../core/identity.js';
import type { IsolationReport } from '../sandbox/sandbox.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { checkTenancy } from './tenancy.js';

const unisolated: IsolationReport = {
  isolated: false,
  namespaces: false,
  cgroups: false,
  network: false,
  notes: ['not root'],
};
const isolated: IsolationReport = {
  isolated: true,
  namespaces: true,
  cgroups: true,
  network: true,
  notes: [],
};

async function storeWith(...namespaces: string[]) {
  const store = new SqliteStore(':memory:');
  let n = 0;
  for (const ns of namespaces) {
    await store.putIdentity(
      newIdentity(ns, ns, `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`, 'k'.repeat(64)),
    );
  }
  return store;
}

describe('checkTenancy', () => {
  it('says nothing when sandboxes are isolated', async () => {
    expect(await checkTenancy(await storeWith('guest', 'alice'), isolated, '0.0.0.0', false)).toEqual([]);
  });

  it('lets a single-user loopback server run unisolated, with warnings', async () => {
    const warnings = await checkTenancy(
      await storeWith('guest', 'whisk.system'),
      unisolated,
      '127.0.0.1',
      false,
    );
    expect(warnings[0]).toMatch(/NOT ISOLATED/);
  });

  it('refuses several tenants, or a server reachable from elsewhere, unless told --insecure-sandbox', async () => {
    await expect(
      checkTenancy(await storeWith('guest', 'alice'), unisolated, '127.0.0.1', false),
    ).rejects.toThrow(/multi-tenant: namespaces other than guest exist \(alice\).*--insecure-sandbox/);
    await expect(checkTenancy(await storeWith('guest'), unisolated, '0.0.0.0', false)).rejects.toThrow(
      /listens on 0\.0\.0\.0/,
    );
    const accepted = await checkTenancy(await storeWith('guest', 'alice'), unisolated, '0.0.0.0', true);
    expect(accepted.at(-1)).toMatch(/serving several tenants anyway/);
  });
});
