import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestWhirl, type TestWhirl } from '../helpers/in-process.js';
import { WHIRL_BIN } from '../helpers/standalone.js';

const A = '/api/v1/namespaces/_/actions';
const node = { kind: 'nodejs:20', code: 'function main(p) { return { ok: true } }' };

describe('per-namespace limits', () => {
  let w: TestWhirl;
  beforeAll(async () => {
    w = await startTestWhirl(
      {},
      {
        guest: {
          invocationsPerMinute: 1000,
          concurrentInvocations: 100,
          allowedKinds: ['nodejs:20'],
          storeActivations: false,
          maxActionMemory: 256,
          maxActionTimeout: 10_000,
          maxActionLogs: 2,
        },
      },
    );
  });
  afterAll(async () => w.cleanup());

  /** Writes a python action straight into the store, as if made before `allowedKinds` was set. */
  async function putPython(name: string): Promise<void> {
    await w.store.putEntity(
      'guest',
      name,
      'action',
      {
        namespace: 'guest',
        name,
        version: '0.0.1',
        publish: false,
        annotations: [],
        updated: 1,
        exec: { kind: 'python:3', code: 'def main(a):\n  return {"ran": "python"}', binary: false },
        parameters: [],
        limits: { timeout: 1000, memory: 128, logs: 1, concurrency: 1 },
      },
      null,
    );
  }

  it('refuses kinds the namespace may not use, on create and on invoke', async () => {
    const py = await w.call('PUT', `${A}/py`, { exec: { kind: 'python:3', code: 'def main(a): return a' } });
    expect(py.statusCode).toBe(403);
    expect(py.json().error).toBe(
      "The supplied authentication is not authorized to access actions of kind 'python:3'.",
    );
    // An action created before the restriction cannot be invoked either.
    await w.store.putEntity(
      'guest',
      'oldpy',
      'action',
      {
        namespace: 'guest',
        name: 'oldpy',
        version: '0.0.1',
        publish: false,
        annotations: [],
        updated: 1,
        exec: { kind: 'python:3', code: 'def main(a):\n  return a', binary: false },
        parameters: [],
        limits: { timeout: 1000, memory: 128, logs: 1, concurrency: 1 },
      },
      null,
    );
    const inv = await w.call('POST', `${A}/oldpy?blocking=true`);
    expect(inv.statusCode).toBe(403);
  });

  it('refuses a kind the namespace may not use inside sequences and conductors too', async () => {
    // The python action predates the restriction; compositions must not be a way around it.
    await putPython('legacy');
    await w.call('PUT', `${A}/small-echo`, { exec: { kind: 'nodejs:20', code: 'const main = (p) => p' } });
    await w.call('PUT', `${A}/seq`, {
      exec: { kind: 'sequence', components: ['/_/small-echo', '/_/legacy'] },
    });
    const seq = await w.call('POST', `${A}/seq?blocking=true`, { x: 1 });
    expect(seq.statusCode).toBe(502);
    expect(seq.json().response.result).toEqual({
      error: "The supplied authentication is not authorized to access actions of kind 'python:3'.",
    });
    // Only the node component ran: the python one never started.
    expect(seq.json().logs).toHaveLength(1);

    // A conductor asks for the python action, and hears why it may not run.
    const conductor = `function main(p) {
      if (p.error !== undefined) return { params: { refused: p.error } };
      return { action: '/_/legacy', params: {} };
    }`;
    await w.call('PUT', `${A}/cond`, {
      exec: { kind: 'nodejs:20', code: conductor },
      annotations: [{ key: 'conductor', value: true }],
    });
    const cond = await w.call('POST', `${A}/cond?blocking=true&result=true`);
    expect(cond.statusCode).toBe(200);
    expect(cond.json()).toEqual({
      refused: "The supplied authentication is not authorized to access actions of kind 'python:3'.",
    });
  });

  it('keeps action limits within the namespace bounds', async () => {
    const mem = await w.call('PUT', `${A}/big`, { exec: node, limits: { memory: 512 } });
    expect(mem.statusCode).toBe(400);
    expect(mem.json().error).toMatch(/memory 512 MB exceeds allowed threshold of 256 MB/);
    const t = await w.call('PUT', `${A}/big`, { exec: node, limits: { timeout: 20_000 } });
    expect(t.json().error).toMatch(
      /timeout 20000 milliseconds exceeds allowed threshold of 10000 milliseconds/,
    );
    const ok = await w.call('PUT', `${A}/small`, { exec: node });
    expect(ok.json().limits).toEqual({ timeout: 10_000, memory: 256, logs: 2, concurrency: 1 });
    const limits = (await w.call('GET', '/api/v1/namespaces/_/limits')).json();
    expect(limits).toMatchObject({
      maxActionMemory: 256,
      maxActionTimeout: 10_000,
      maxActionLogs: 2,
      allowedKinds: ['nodejs:20'],
      storeActivations: false,
    });
  });

  it('answers blocking invokes but keeps no records when storeActivations is false', async () => {
    await w.call('PUT', `${A}/unrecorded?overwrite=true`, { exec: node });
    const r = await w.call('POST', `${A}/unrecorded?blocking=true`);
    expect(r.statusCode).toBe(200);
    expect(r.json().response.result).toEqual({ ok: true });
    expect(
      (await w.call('GET', `/api/v1/namespaces/_/activations/${r.json().activationId}`)).statusCode,
    ).toBe(404);
    expect((await w.call('GET', '/api/v1/namespaces/_/activations')).json()).toEqual([]);
  });

  it('applies `whirl admin limits set` to a running server within seconds', async () => {
    execFileSync(process.execPath, [
      WHIRL_BIN,
      'admin',
      'limits',
      'set',
      'guest',
      '--invocationsPerMinute',
      '1',
      '--data-dir',
      w.dataDir,
    ]);
    let limits = 0;
    for (let i = 0; i < 30 && limits !== 1; i++) {
      await new Promise((r) => setTimeout(r, 100));
      limits = (await w.call('GET', '/api/v1/namespaces/_/limits')).json().invocationsPerMinute;
    }
    expect(limits).toBe(1);
    const out = execFileSync(process.execPath, [
      WHIRL_BIN,
      'admin',
      'limits',
      'get',
      'guest',
      '--data-dir',
      w.dataDir,
    ]).toString();
    expect(out).toMatch(/invocationsPerMinute = 1/);
    execFileSync(process.execPath, [
      WHIRL_BIN,
      'admin',
      'limits',
      'delete',
      'guest',
      '--data-dir',
      w.dataDir,
    ]);
    // Deleted, the namespace falls back to the profile's default: a standalone serving only its guest
    // gives it the developer throttles.
    for (let i = 0; i < 30 && limits !== 60_000; i++) {
      await new Promise((r) => setTimeout(r, 100));
      limits = (await w.call('GET', '/api/v1/namespaces/_/limits')).json().invocationsPerMinute;
    }
    expect(limits).toBe(60_000);
  });
});
