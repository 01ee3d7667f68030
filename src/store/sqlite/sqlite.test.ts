import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defineProviderRecordsContract, defineStoreContract } from '../store.contract.js';
import { SqliteStore } from './sqlite-store.js';

defineStoreContract('sqlite (memory)', async () => new SqliteStore(':memory:'));
defineProviderRecordsContract('sqlite (memory)', async () => new SqliteStore(':memory:'));

describe('SqliteStore on disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'whirl-sqlite-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps its data across reopening and sees other connections write through changeMarker', async () => {
    const file = join(dir, 'whirl.db');
    const a = new SqliteStore(file);
    await a.setLimits('ns', { firesPerMinute: 3 });
    const before = await a.changeMarker();
    const b = new SqliteStore(file);
    expect(await b.getLimits('ns')).toEqual({ firesPerMinute: 3 });
    await b.setLimits('ns', { firesPerMinute: 4 });
    expect(await a.changeMarker()).not.toBe(before);
    await a.close();
    await b.close();
    const c = new SqliteStore(file);
    expect(await c.getLimits('ns')).toEqual({ firesPerMinute: 4 });
    await c.close();
  });
});
