/**
 * Updates (PUT with overwrite=true) of packages, triggers and rules follow OpenWhisk: what the request
 * carries replaces the old value (annotations and parameters as whole arrays), what it omits is kept, and
 * the version's patch level goes up unless a version is given.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestWhirl, type TestWhirl } from '../helpers/in-process.js';

const NS = '/api/v1/namespaces/_';
const keys = (doc: { annotations: { key: string }[] }): string[] => doc.annotations.map((a) => a.key);

describe('update semantics of packages, triggers and rules', () => {
  let w: TestWhirl;
  beforeAll(async () => {
    w = await startTestWhirl();
    await w.call('PUT', `${NS}/actions/us-a`, { exec: { kind: 'nodejs:20', code: 'function main(){}' } });
  });
  afterAll(async () => w.cleanup());

  it('a package update replaces annotations and parameters when given and keeps them when omitted', async () => {
    await w.call('PUT', `${NS}/packages/us-p`, {
      annotations: [{ key: 'old', value: 1 }],
      parameters: [{ key: 'p1', value: 1 }],
    });
    const up = await w.call('PUT', `${NS}/packages/us-p?overwrite=true`, {
      annotations: [{ key: 'new', value: 2 }],
    });
    expect(up.json()).toMatchObject({ version: '0.0.2', parameters: [{ key: 'p1', value: 1 }] });
    expect(keys(up.json())).toEqual(['new']);
    const params = await w.call('PUT', `${NS}/packages/us-p?overwrite=true`, {
      parameters: [],
      version: '3.0.0',
    });
    expect(params.json()).toMatchObject({ version: '3.0.0', parameters: [] });
    expect(keys(params.json())).toEqual(['new']);
  });

  it('a trigger update replaces annotations (feed included) and keeps its rules', async () => {
    await w.call('PUT', `${NS}/triggers/us-t`, {
      annotations: [{ key: 'a1', value: 1 }],
      parameters: [{ key: 'x', value: 1 }],
    });
    await w.call('PUT', `${NS}/rules/us-r`, { trigger: '/_/us-t', action: '/_/us-a' });
    const up = await w.call('PUT', `${NS}/triggers/us-t?overwrite=true`, {
      annotations: [{ key: 'a2', value: 2 }],
    });
    expect(keys(up.json())).toEqual(['a2']);
    expect(up.json()).toMatchObject({ version: '0.0.2', parameters: [{ key: 'x', value: 1 }] });
    const got = (await w.call('GET', `${NS}/triggers/us-t`)).json();
    expect(Object.keys(got.rules)).toEqual(['guest/us-r']);
  });

  it('a rule update replaces annotations, keeps trigger, action and status when omitted', async () => {
    await w.call('PUT', `${NS}/rules/us-r2`, {
      trigger: '/_/us-t',
      action: '/_/us-a',
      annotations: [{ key: 'r1', value: 1 }],
    });
    await w.call('POST', `${NS}/rules/us-r2`, { status: 'inactive' });
    const up = await w.call('PUT', `${NS}/rules/us-r2?overwrite=true`, {
      annotations: [{ key: 'r2', value: 2 }],
    });
    expect(up.statusCode).toBe(200);
    expect(keys(up.json())).toEqual(['r2']);
    expect(up.json()).toMatchObject({
      version: '0.0.2',
      status: 'inactive',
      trigger: { name: 'us-t' },
      action: { name: 'us-a' },
    });
  });
});
