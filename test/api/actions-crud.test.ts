import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestWhirl, type TestWhirl } from '../helpers/in-process.js';

const A = '/api/v1/namespaces/_/actions';
const code = 'function main(p) { return { ok: true, p } }';

describe('actions API: create, read, update, delete, list', () => {
  let w: TestWhirl;
  beforeAll(async () => {
    w = await startTestWhirl();
  });
  afterAll(async () => w.cleanup());

  it('creates an action with the fields OpenWhisk clients expect', async () => {
    const r = await w.call('PUT', `${A}/crud1`, {
      exec: { kind: 'nodejs:default', code },
      parameters: [{ key: 'payload', value: 'test' }],
    });
    expect(r.statusCode).toBe(200);
    const a = r.json();
    expect(a).toMatchObject({
      namespace: 'guest',
      name: 'crud1',
      version: '0.0.1',
      publish: false,
      exec: { kind: 'nodejs:20', code, binary: false },
      parameters: [{ key: 'payload', value: 'test' }],
      limits: { timeout: 60000, memory: 256, logs: 10, concurrency: 1 },
      annotations: [
        { key: 'provide-api-key', value: false },
        { key: 'exec', value: 'nodejs:20' },
      ],
    });
    expect(typeof a.updated).toBe('number');
  });

  it('refuses a duplicate create with 409 and updates only with overwrite=true', async () => {
    await w.call('PUT', `${A}/crud2`, {
      exec: { kind: 'nodejs:20', code },
      parameters: [{ key: 'a', value: 'A' }],
    });
    const dup = await w.call('PUT', `${A}/crud2`, { exec: { kind: 'nodejs:20', code } });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error).toBe('resource already exists');
    const up = await w.call('PUT', `${A}/crud2?overwrite=true`, { parameters: [{ key: 'b', value: 'B' }] });
    expect(up.statusCode).toBe(200);
    expect(up.json()).toMatchObject({
      version: '0.0.2',
      parameters: [{ key: 'b', value: 'B' }],
      exec: { code },
    });
  });

  it('replaces the whole annotation array on an update that carries one, as OpenWhisk does', async () => {
    await w.call('PUT', `${A}/crud3`, {
      exec: { kind: 'nodejs:20', code },
      annotations: [
        { key: 'key1', value: 1 },
        { key: 'web-export', value: true },
        { key: 'require-whisk-auth', value: 'secret' },
      ],
    });
    const up = await w.call('PUT', `${A}/crud3?overwrite=true`, { annotations: [{ key: 'key3', value: 3 }] });
    expect(up.statusCode).toBe(200);
    // A redeploy can take web-export and require-whisk-auth off again; exec and provide-api-key stay.
    expect(up.json().annotations).toEqual([
      { key: 'key3', value: 3 },
      { key: 'provide-api-key', value: false },
      { key: 'exec', value: 'nodejs:20' },
    ]);
    expect((await w.call('GET', `${A}/crud3`)).json().annotations).toEqual(up.json().annotations);
    // An update without annotations keeps them; delAnnotations removes keys.
    const kept = await w.call('PUT', `${A}/crud3?overwrite=true`, { parameters: [{ key: 'p', value: 1 }] });
    expect(kept.json().annotations).toEqual(up.json().annotations);
    const del = await w.call('PUT', `${A}/crud3?overwrite=true`, { delAnnotations: ['key3'] });
    expect((del.json().annotations as { key: string }[]).map((a) => a.key)).toEqual([
      'provide-api-key',
      'exec',
    ]);
  });

  it('keeps provide-api-key when a replacement omits it, and changes it when given', async () => {
    await w.call('PUT', `${A}/crud3k`, { exec: { kind: 'nodejs:20', code } });
    const omitted = await w.call('PUT', `${A}/crud3k?overwrite=true`, { annotations: [] });
    expect(omitted.json().annotations).toContainEqual({ key: 'provide-api-key', value: false });
    const given = await w.call('PUT', `${A}/crud3k?overwrite=true`, {
      annotations: [{ key: 'provide-api-key', value: true }],
    });
    expect(given.json().annotations).toContainEqual({ key: 'provide-api-key', value: true });
  });

  it('updates every field as OpenWhisk does: exec, limits field by field, version, publish', async () => {
    await w.call('PUT', `${A}/crud3u`, {
      exec: { kind: 'nodejs:20', code },
      limits: { timeout: 1000, memory: 128 },
      parameters: [{ key: 'x', value: 1 }],
    });
    const up = await w.call('PUT', `${A}/crud3u?overwrite=true`, {
      limits: { memory: 256 },
      version: '2.1',
      publish: true,
    });
    expect(up.json()).toMatchObject({
      exec: { kind: 'nodejs:20', code },
      limits: { timeout: 1000, memory: 256 },
      version: '2.1.0',
      publish: true,
      parameters: [{ key: 'x', value: 1 }],
    });
    const next = await w.call('PUT', `${A}/crud3u?overwrite=true`, {});
    expect(next.json()).toMatchObject({ version: '2.1.1', publish: true });
    const bad = await w.call('PUT', `${A}/crud3u?overwrite=true`, { version: 'one' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatch(/bad semantic version/);
  });

  it("drops a sequence's _actions parameter when it becomes a plain action, and keeps it otherwise", async () => {
    await w.call('PUT', `${A}/crud3c`, { exec: { kind: 'nodejs:20', code } });
    await w.call('PUT', `${A}/crud3s`, { exec: { kind: 'sequence', components: ['/guest/crud3c'] } });
    const params = await w.call('PUT', `${A}/crud3s?overwrite=true`, {
      parameters: [{ key: 'y', value: 2 }],
    });
    expect(params.json().parameters).toEqual([{ key: '_actions', value: ['/guest/crud3c'] }]);
    const plain = await w.call('PUT', `${A}/crud3s?overwrite=true`, { exec: { kind: 'nodejs:20', code } });
    expect(plain.json().parameters).toEqual([]);
  });

  it('changes the runtime on update and keeps the parameters bound at create time', async () => {
    await w.call('PUT', `${A}/crud4`, {
      exec: { kind: 'nodejs:20', code },
      parameters: [{ key: 'x', value: 1 }],
    });
    const up = await w.call('PUT', `${A}/crud4?overwrite=true`, {
      exec: { kind: 'python:default', code: 'def main(a):\n  return a' },
    });
    expect(up.json()).toMatchObject({ exec: { kind: 'python:3' }, parameters: [{ key: 'x', value: 1 }] });
    expect(up.json().annotations).toContainEqual({ key: 'exec', value: 'python:3' });
  });

  it('requires exec on create and a known kind', async () => {
    const noExec = await w.call('PUT', `${A}/crud5`, { parameters: [] });
    expect(noExec.statusCode).toBe(400);
    expect(noExec.json().error).toBe('exec undefined');
    const bad = await w.call('PUT', `${A}/crud5`, { exec: { kind: 'cobol:74', code: 'x' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatch(
      /^The specified runtime 'cobol:74' is not supported by this platform\. Valid values are: 'nodejs:20'/,
    );
  });

  it('omits the code with code=false and answers 404 for a missing action', async () => {
    await w.call('PUT', `${A}/crud6`, { exec: { kind: 'nodejs:20', code } });
    const g = await w.call('GET', `${A}/crud6?code=false`);
    expect(g.statusCode).toBe(200);
    expect(g.json().exec).toEqual({ kind: 'nodejs:20', binary: false });
    for (const method of ['GET', 'DELETE', 'POST'] as const) {
      const r = await w.call(method, `${A}/nope`);
      expect(r.statusCode).toBe(404);
      expect(r.json().error).toBe('The requested resource does not exist.');
    }
  });

  it('keeps names case-sensitive and accepts URL-encoded names with spaces', async () => {
    expect((await w.call('PUT', `${A}/TWICE`, { exec: { kind: 'nodejs:20', code } })).statusCode).toBe(200);
    expect((await w.call('PUT', `${A}/twice`, { exec: { kind: 'nodejs:20', code } })).statusCode).toBe(200);
    const spaced = await w.call('PUT', `${A}/action%20with%20spaces`, { exec: { kind: 'nodejs:20', code } });
    expect(spaced.statusCode).toBe(200);
    expect(spaced.json().name).toBe('action with spaces');
    expect((await w.call('GET', `${A}/action%20with%20spaces`)).statusCode).toBe(200);
  });

  it('rejects illegal names, encoded slashes and over-long names with the spec messages', async () => {
    for (const bad of ['%2Fetc', 'a%2Fb', '.hidden', ' lead', 'trail%20', 'x*y']) {
      const r = await w.call('PUT', `${A}/${bad}`, { exec: { kind: 'nodejs:20', code } });
      expect(r.statusCode, bad).toBe(400);
      expect(r.json().error).toBe('The name of the entity contains illegal characters.');
    }
    const long = await w.call('PUT', `${A}/${'a'.repeat(257)}`, { exec: { kind: 'nodejs:20', code } });
    expect(long.statusCode).toBe(400);
    expect(long.json().error).toBe('Name segement longer than allowed: 257 > 256.');
  });

  it('refuses a name used by another collection with 409', async () => {
    await w.store.putEntity(
      'guest',
      'trig',
      'trigger',
      {
        namespace: 'guest',
        name: 'trig',
        version: '0.0.1',
        publish: false,
        annotations: [],
        updated: 1,
        parameters: [],
        limits: {},
      },
      null,
    );
    const put = await w.call('PUT', `${A}/trig`, { exec: { kind: 'nodejs:20', code } });
    expect(put.statusCode).toBe(409);
    expect(
      (await w.call('PUT', `${A}/trig?overwrite=true`, { exec: { kind: 'nodejs:20', code } })).json().error,
    ).toBe('Resource by this name exists but is not in this collection.');
    const del = await w.call('DELETE', `${A}/trig`);
    expect(del.statusCode).toBe(409);
    expect(del.json().error).toBe('Resource by this name exists but is not in this collection.');
  });

  it('deletes an action and returns it', async () => {
    await w.call('PUT', `${A}/crud7`, { exec: { kind: 'nodejs:20', code } });
    const del = await w.call('DELETE', `${A}/crud7`);
    expect(del.statusCode).toBe(200);
    expect(del.json().name).toBe('crud7');
    expect((await w.call('GET', `${A}/crud7`)).statusCode).toBe(404);
  });

  it('lists newest first with limit, skip and count, and validates them', async () => {
    for (const n of ['l1', 'l2', 'l3']) {
      await w.call('PUT', `${A}/${n}`, { exec: { kind: 'nodejs:20', code } });
      await new Promise((r) => setTimeout(r, 3));
    }
    const page = (await w.call('GET', `${A}?limit=2&skip=0`)).json();
    expect(page.map((a: { name: string }) => a.name)).toEqual(['l3', 'l2']);
    expect(page[0]).not.toHaveProperty('parameters');
    expect(page[0].exec).toEqual({ binary: false });
    const count = (await w.call('GET', `${A}?count=true`)).json();
    expect(count.actions).toBeGreaterThanOrEqual(3);
    expect((await w.call('GET', `${A}?limit=201`)).json().error).toBe(
      "The value '201' is not in the range of 0 to 200 for actions.",
    );
    expect((await w.call('GET', `${A}?limit=x`)).json().error).toBe(
      "The value 'x' is not an integer for actions.",
    );
    expect((await w.call('GET', `${A}?skip=-1`)).json().error).toBe(
      "The value '-1' is not greater than or equal to 0 for actions.",
    );
    // Beyond a 32-bit integer (the store could not take it as an offset): 400, not 500.
    const huge = await w.call('GET', `${A}?skip=99999999999999999999`);
    expect(huge.statusCode).toBe(400);
    expect(huge.json().error).toBe("The value '99999999999999999999' is not an integer for actions.");
    expect((await w.call('GET', `${A}?skip=2147483647`)).json()).toEqual([]);
    expect((await w.call('GET', `${A}?limit=0`)).statusCode).toBe(200);
  });

  it('validates limits against the system bounds', async () => {
    const cases: [object, string][] = [
      [{ memory: 1024 }, 'memory 1024 MB exceeds allowed threshold of 512 MB'],
      [{ memory: 64 }, 'memory 64 MB below allowed threshold of 128 MB'],
      [{ timeout: 50 }, 'timeout 50 milliseconds below allowed threshold of 100 milliseconds'],
      [{ timeout: 300001 }, 'timeout 300001 milliseconds exceeds allowed threshold of 300000 milliseconds'],
      [{ logs: 11 }, 'logs 11 MB exceeds allowed threshold of 10 MB'],
    ];
    for (const [limits, message] of cases) {
      const r = await w.call('PUT', `${A}/lim`, { exec: { kind: 'nodejs:20', code }, limits });
      expect(r.statusCode).toBe(400);
      expect(r.json().error).toBe(`The request content was malformed:\nrequirement failed: ${message}`);
    }
    const py = await w.call('PUT', `${A}/lim`, {
      exec: { kind: 'python:3', code: 'def main(a): return a' },
      limits: { concurrency: 2 },
    });
    expect(py.statusCode).toBe(400);
    const node = await w.call('PUT', `${A}/lim`, {
      exec: { kind: 'nodejs:20', code },
      limits: { concurrency: 5, memory: 128 },
    });
    expect(node.statusCode).toBe(200);
    expect(node.json().limits).toEqual({ timeout: 60000, memory: 128, logs: 10, concurrency: 5 });
  });

  it('answers 413 with the spec messages for oversized parameters, annotations and code', async () => {
    const big = 'x'.repeat(1024 * 1024);
    const p = await w.call('PUT', `${A}/big`, {
      exec: { kind: 'nodejs:20', code },
      parameters: [{ key: 'k', value: big }],
    });
    expect(p.statusCode).toBe(413);
    expect(p.json().error).toMatch(/^parameters larger than allowed: \d+ > 1048576 bytes\.$/);
    const a = await w.call('PUT', `${A}/big`, {
      exec: { kind: 'nodejs:20', code },
      annotations: [{ key: 'k', value: big }],
    });
    expect(a.json().error).toMatch(/^annotations larger than allowed: \d+ > 1048576 bytes\.$/);
    const c = await w.call('PUT', `${A}/big`, {
      exec: { kind: 'nodejs:20', code: ' '.repeat(48 * 1024 * 1024 + 1) },
    });
    expect(c.statusCode).toBe(413);
    expect(c.json().error).toBe(
      `exec larger than allowed: ${48 * 1024 * 1024 + 1} > ${48 * 1024 * 1024} bytes.`,
    );
  });

  it('accepts a 48 MB binary action sent as 64 MB of base64, and detects binary code', async () => {
    const raw = Buffer.alloc(48 * 1024 * 1024 - 3, 7);
    const r = await w.call('PUT', `${A}/bigzip`, {
      exec: { kind: 'nodejs:20', code: raw.toString('base64') },
    });
    expect(r.statusCode).toBe(200);
    expect(r.json().exec.binary).toBe(true);
    const g = await w.call('GET', `${A}/bigzip?code=false`);
    expect(g.json().exec.binary).toBe(true);
    await w.call('DELETE', `${A}/bigzip`);
  });

  it('rejects malformed JSON and non-object bodies with 400 and the envelope', async () => {
    const r = await w.call('PUT', `${A}/bad`, '{"exec": ');
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toMatch(/^The request content was malformed:/);
    expect(r.json().code).toBe(r.headers['x-request-id']);
    const arr = await w.call('PUT', `${A}/bad`, '[1,2]');
    expect(arr.statusCode).toBe(400);
  });
});
