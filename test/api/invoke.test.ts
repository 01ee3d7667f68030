import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SYSTEM_LIMITS } from '../../src/core/limits.js';
import { startTestWhirl, type TestWhirl } from '../helpers/in-process.js';

const A = '/api/v1/namespaces/_/actions';
const ACT = '/api/v1/namespaces/_/activations';

async function create(w: TestWhirl, name: string, code: string, extra: object = {}, kind = 'nodejs:20') {
  const r = await w.call('PUT', `${A}/${name}?overwrite=true`, { exec: { kind, code }, ...extra });
  expect(r.statusCode, r.body).toBe(200);
}

/** Polls until the activation record exists (non-blocking invokes). */
async function record(w: TestWhirl, id: string) {
  for (let i = 0; i < 200; i++) {
    const r = await w.call('GET', `${ACT}/${id}`);
    if (r.statusCode === 200) return r.json();
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error(`no record for ${id}`);
}

describe('invoking actions', () => {
  let w: TestWhirl;
  beforeAll(async () => {
    w = await startTestWhirl();
  });
  afterAll(async () => w.cleanup());

  it('answers a non-blocking invoke with 202 and the activation id, and records the run', async () => {
    await create(w, 'echo', 'function main(p) { console.log("got", p.x); return p }');
    const r = await w.call('POST', `${A}/echo`, { x: 1 });
    expect(r.statusCode).toBe(202);
    const { activationId } = r.json();
    expect(activationId).toMatch(/^[0-9a-f]{32}$/);
    expect(r.headers['x-openwhisk-activation-id']).toBe(activationId);
    const rec = await record(w, activationId);
    expect(rec.response).toEqual({ status: 'success', success: true, result: { x: 1 }, size: 7 });
    expect(rec.logs).toHaveLength(1);
    expect(rec.logs[0]).toMatch(/^\d+-\d+-\d+T\d+:\d+:\d+\.\d+Z\s+stdout: got 1$/);
  });

  it('returns the full record on a blocking invoke, with timing annotations; initTime only when cold', async () => {
    await create(w, 'hello', 'function main(p) { return { greeting: "hello " + p.name } }');
    const first = await w.call('POST', `${A}/hello?blocking=true`, { name: 'Ann' });
    expect(first.statusCode).toBe(200);
    const a = first.json();
    expect(a).toMatchObject({
      namespace: 'guest',
      name: 'hello',
      version: '0.0.1',
      subject: 'guest',
      publish: false,
      response: { status: 'success', success: true, result: { greeting: 'hello Ann' } },
    });
    expect(a.response).not.toHaveProperty('statusCode');
    expect(a.end - a.start).toBe(a.duration);
    const ann = Object.fromEntries(
      a.annotations.map((x: { key: string; value: unknown }) => [x.key, x.value]),
    );
    expect(ann).toMatchObject({
      path: 'guest/hello',
      kind: 'nodejs:20',
      timeout: false,
      limits: { memory: 256 },
    });
    expect(typeof ann.waitTime).toBe('number');
    expect(typeof ann.initTime).toBe('number');
    const warm = (await w.call('POST', `${A}/hello?blocking=true`, { name: 'Bob' })).json();
    expect(warm.annotations.map((x: { key: string }) => x.key)).not.toContain('initTime');
  });

  it('returns only the result with result=true', async () => {
    await create(w, 'count', 'function main() { return { count: 3 } }');
    const r = await w.call('POST', `${A}/count?blocking=true&result=true`);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ count: 3 });
    expect(r.headers['x-openwhisk-activation-id']).toMatch(/^[0-9a-f]{32}$/);
  });

  it('answers 502 for an application error, with the result as body when result=true', async () => {
    await create(w, 'fail', 'function main(p) { return { error: p.e } }');
    for (const e of ['str', 502, true]) {
      const full = await w.call('POST', `${A}/fail?blocking=true`, { e });
      expect(full.statusCode).toBe(502);
      expect(full.json().response).toMatchObject({
        status: 'application error',
        success: false,
        result: { error: e },
      });
      const res = await w.call('POST', `${A}/fail?blocking=true&result=true`, { e });
      expect(res.statusCode).toBe(502);
      expect(res.json()).toEqual({ error: e });
    }
  });

  it('classifies a rejected promise as an application error and a thrown error as a developer error', async () => {
    await create(
      w,
      'reject',
      'function main() { return Promise.reject({ msg: "failed activation on purpose" }) }',
    );
    const rej = await w.call('POST', `${A}/reject?blocking=true`);
    expect(rej.statusCode).toBe(502);
    expect(rej.json().response).toMatchObject({
      status: 'application error',
      result: { error: { msg: 'failed activation on purpose' } },
    });
    await create(w, 'throws', 'function main() { throw "Extraordinary exception" }');
    const t = await w.call('POST', `${A}/throws?blocking=true`);
    expect(t.statusCode).toBe(502);
    expect(t.json().response).toMatchObject({
      status: 'action developer error',
      result: { error: 'An error has occurred: Extraordinary exception' },
    });
    await create(w, 'malformed', 'x');
    const m = await w.call('POST', `${A}/malformed?blocking=true`);
    expect(m.json().response.status).toBe('action developer error');
    expect(JSON.stringify(m.json().response.result)).toMatch(/ReferenceError/);
  });

  it('gives {} for main(){} and an empty body, and passes arrays through as results', async () => {
    await create(w, 'nothing', 'function main() {}');
    const r = await w.call('POST', `${A}/nothing?blocking=true&result=true`);
    expect(r.json()).toEqual({});
    await create(w, 'arr', 'function main() { return ["a", "b"] }');
    const arr = await w.call('POST', `${A}/arr?blocking=true`);
    expect(arr.statusCode).toBe(200);
    expect(arr.json()).toEqual(['a', 'b']);
  });

  it('reports a missing main on an empty action as a developer error', async () => {
    await create(w, 'empty', '');
    const r = await w.call('POST', `${A}/empty?blocking=true`);
    expect(r.statusCode).toBe(502);
    expect(r.json().response).toMatchObject({
      status: 'action developer error',
      result: { error: 'Missing main/no code to execute.' },
    });
  });

  it('rejects a non-object payload and a bad timeout with 400', async () => {
    await create(w, 'p', 'function main(p) { return p }');
    expect((await w.call('POST', `${A}/p`, '[1]')).statusCode).toBe(400);
    expect((await w.call('POST', `${A}/p`, '"s"')).statusCode).toBe(400);
    for (const t of ['0', '60001', 'x', '-5']) {
      const r = await w.call('POST', `${A}/p?blocking=true&timeout=${t}`, {});
      expect(r.statusCode).toBe(400);
      expect(r.json().error).toBe('Timeout must be number of milliseconds up to 60000.');
    }
  });

  it('answers 202 when the blocking wait runs out, and the activation still completes', async () => {
    await create(
      w,
      'slow',
      'function main() { return new Promise(r => setTimeout(() => r({ done: true }), 1500)) }',
    );
    const r = await w.call('POST', `${A}/slow?blocking=true&timeout=200`);
    expect(r.statusCode).toBe(202);
    const rec = await record(w, r.json().activationId);
    expect(rec.response.result).toEqual({ done: true });
  });

  it('answers 413 for a payload over 1 MB', async () => {
    const r = await w.call('POST', `${A}/p`, { big: 'x'.repeat(1024 * 1024) });
    expect(r.statusCode).toBe(413);
    expect(r.json().error).toMatch(/^Request larger than allowed: \d+ > 1048576 bytes\.$/);
  });

  it('merges action parameters under the payload and refuses to override final ones', async () => {
    await create(w, 'params', 'function main(p) { return p }', {
      parameters: [
        { key: 'a', value: 1 },
        { key: 'b', value: 2 },
      ],
    });
    const r = await w.call('POST', `${A}/params?blocking=true&result=true`, { b: 3, c: 4 });
    expect(r.json()).toEqual({ a: 1, b: 3, c: 4 });
    await create(w, 'final', 'function main(p) { return p }', {
      parameters: [{ key: 'a', value: 1 }],
      annotations: [{ key: 'final', value: true }],
    });
    const f = await w.call('POST', `${A}/final?blocking=true`, { a: 2 });
    expect(f.statusCode).toBe(400);
    expect(f.json().error).toBe(
      'Request defines parameters that are not allowed (e.g., reserved properties).',
    );
    expect((await w.call('POST', `${A}/final?blocking=true&result=true`, { z: 2 })).json()).toEqual({
      a: 1,
      z: 2,
    });
  });

  it('round-trips UTF-8 through parameters, logs and results', async () => {
    const s = '«ταБЬℓσö»: 1<2 & 4+1>3, now 20% off! ❄ ☃ ❄';
    await create(w, 'utf8', 'function main(p) { console.log(p.s); return { s: p.s } }');
    const a = (await w.call('POST', `${A}/utf8?blocking=true`, { s })).json();
    expect(a.response.result.s).toBe(s);
    expect(a.logs[0]).toContain(s);
  });

  it('gives the action its environment, and the key only when provide-api-key allows', async () => {
    const code = `function main() { const e = process.env; return { host: e.__OW_API_HOST, key: e.__OW_API_KEY ?? null,
      ns: e.__OW_NAMESPACE, name: e.__OW_ACTION_NAME, version: e.__OW_ACTION_VERSION, id: e.__OW_ACTIVATION_ID,
      deadline: e.__OW_DEADLINE } }`;
    await create(w, 'env', code);
    const a = (await w.call('POST', `${A}/env?blocking=true`)).json();
    expect(a.response.result).toMatchObject({
      key: null,
      ns: 'guest',
      name: '/guest/env',
      version: '0.0.1',
      id: a.activationId,
    });
    // A sandbox in its own network reaches a loopback API through its gateway: same port, another address.
    expect(new URL(a.response.result.host).port).toBe(new URL(w.url).port);
    expect(Number(a.response.result.deadline)).toBeGreaterThan(a.start);
    await create(w, 'envkey', code, { annotations: [{ key: 'provide-api-key', value: true }] });
    const k = (await w.call('POST', `${A}/envkey?blocking=true&result=true`)).json();
    expect(k.key).toMatch(/^23bc46b1-/);
  });

  it('lets an action call the Whirl API at __OW_API_HOST', async () => {
    const code = `function main() {
      return new Promise((resolve) => require('http').get(process.env.__OW_API_HOST + '/api/v1', (res) => {
        let d = ''; res.on('data', (c) => (d += c));
        res.on('end', () => resolve({ status: res.statusCode, version: JSON.parse(d).api_version }));
      }).on('error', (e) => resolve({ error: e.message })));
    }`;
    await create(w, 'callback', code);
    expect((await w.call('POST', `${A}/callback?blocking=true&result=true`)).json()).toEqual({
      status: 200,
      version: '1.0.0',
    });
  });

  it('never runs stale code after an update or a delete and re-create', async () => {
    await create(w, 'ver', 'function main() { return { v: 1 } }');
    expect((await w.call('POST', `${A}/ver?blocking=true&result=true`)).json()).toEqual({ v: 1 });
    await create(w, 'ver', 'function main() { return { v: 2 } }');
    expect((await w.call('POST', `${A}/ver?blocking=true&result=true`)).json()).toEqual({ v: 2 });
    await w.call('DELETE', `${A}/ver`);
    await create(w, 'ver', 'function main() { return { v: 3 } }');
    expect((await w.call('POST', `${A}/ver?blocking=true&result=true`)).json()).toEqual({ v: 3 });
  });

  it('enforces the action time limit, discards the container, and the next run works', async () => {
    await create(
      w,
      'sleepy',
      'function main(p) { return new Promise(r => setTimeout(() => r({ ok: 1 }), p.ms)) }',
      { limits: { timeout: 500 } },
    );
    const t = await w.call('POST', `${A}/sleepy?blocking=true`, { ms: 3000 });
    expect(t.statusCode).toBe(502);
    expect(t.json().response).toMatchObject({
      status: 'action developer error',
      result: { error: 'The action exceeded its time limits of 500 milliseconds.' },
    });
    expect(t.json().annotations).toContainEqual({ key: 'timeout', value: true });
    const ok = await w.call('POST', `${A}/sleepy?blocking=true`, { ms: 10 });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().annotations.map((x: { key: string }) => x.key)).toContain('initTime');
  });

  it('truncates logs at the limit and collects none with logs: 0', async () => {
    const code =
      'function main(p) { for (let i = 0; i < p.n; i++) console.log("x".repeat(1000)); return {} }';
    await create(w, 'chatty', code, { limits: { logs: 1 } });
    const a = (await w.call('POST', `${A}/chatty?blocking=true`, { n: 2000 })).json();
    expect(a.logs.length).toBeLessThan(1100);
    expect(a.logs[a.logs.length - 1]).toMatch(
      /Logs were truncated because the total bytes size exceeds the limit of 1048576 bytes\.$/,
    );
    await create(w, 'quiet', code, { limits: { logs: 0 } });
    expect((await w.call('POST', `${A}/quiet?blocking=true`, { n: 3 })).json().logs).toEqual([]);
  });

  it('replaces a result over 1 MB with the truncation error', async () => {
    await create(w, 'huge', 'function main() { return { s: "y".repeat(2 * 1024 * 1024) } }');
    const a = (await w.call('POST', `${A}/huge?blocking=true`)).json();
    expect(a.response.status).toBe('application error');
    expect(a.response.result.error).toMatch(
      /^The action produced a response that exceeded the allowed length: \d+ > 1048576 bytes\. The truncated response was: \{"s":"yyy/,
    );
  });

  it('reports an action that exhausts its memory, and keeps serving', async () => {
    await create(
      w,
      'hog',
      'function main() { const a = []; for (;;) a.push(Buffer.alloc(8 * 1024 * 1024, 1)) }',
      { limits: { memory: 128 } },
    );
    const a = (await w.call('POST', `${A}/hog?blocking=true`)).json();
    expect(a.response).toMatchObject({
      status: 'action developer error',
      result: { error: 'The action exhausted its memory and was aborted.' },
    });
    expect((await w.call('POST', `${A}/count?blocking=true&result=true`)).json()).toEqual({ count: 3 });
  });

  it('reports a crashing runtime as a developer error and starts a fresh container next time', async () => {
    await create(w, 'crash', 'function main(p) { if (p.die) process.exit(3); return { alive: true } }');
    const d = (await w.call('POST', `${A}/crash?blocking=true`, { die: true })).json();
    expect(d.response).toMatchObject({
      status: 'action developer error',
      result: { error: 'The action did not produce a valid response and exited unexpectedly.' },
    });
    expect((await w.call('POST', `${A}/crash?blocking=true&result=true`)).json()).toEqual({ alive: true });
  });

  it('runs a whisk error as 500 when no sandbox can serve the kind', async () => {
    const r = await w.call('PUT', `${A}/docker?overwrite=true`, {
      exec: { kind: 'blackbox', image: 'someone/image' },
    });
    expect(r.statusCode).toBe(200);
    const a = await w.call('POST', `${A}/docker?blocking=true`);
    expect(a.statusCode).toBe(500);
    expect(a.json().response).toMatchObject({ status: 'whisk internal error' });
  });

  it('serves concurrent activations from one nodejs container when concurrency allows, with separate logs', async () => {
    const code = `const cid = Math.random();
      async function main(p) {
        console.log('start ' + p.i);
        await new Promise(r => setTimeout(r, 200));
        console.log('end ' + p.i);
        return { cid, i: p.i };
      }`;
    await create(w, 'conc', code, { limits: { concurrency: 10 } });
    const runs = await Promise.all(
      Array.from({ length: 8 }, (_, i) => w.call('POST', `${A}/conc?blocking=true`, { i })),
    );
    const records = runs.map((r) => r.json());
    expect(new Set(records.map((a) => a.response.result.cid)).size).toBe(1);
    for (const a of records) {
      const i = a.response.result.i;
      expect(a.logs.map((l: string) => l.replace(/^\S+\s+/, ''))).toEqual([
        `stdout: start ${i}`,
        `stdout: end ${i}`,
      ]);
    }
  });

  it('accepts and runs code padded up to the 48 MB limit', async () => {
    const code = 'function main() { return { ok: true } }';
    await create(w, 'padded', code + ' '.repeat(48 * 1024 * 1024 - code.length));
    const r = await w.call('POST', `${A}/padded?blocking=true&result=true`);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ ok: true });
  }, 60_000);

  it('runs a zipped native executable, with its logs and without sentinels in them', async () => {
    const { makeZip } = await import('../helpers/archive-writer.js');
    const zip = makeZip([
      {
        name: 'exec',
        data: '#!/bin/sh\necho "native says $1"\necho >&2 warn\necho \'{"zipped": true}\'\n',
        mode: 0o755,
      },
    ]);
    const r = await w.call('PUT', `${A}/natzip?overwrite=true`, {
      exec: { kind: 'native', code: zip.toString('base64') },
    });
    expect(r.statusCode, r.body).toBe(200);
    const a = (await w.call('POST', `${A}/natzip?blocking=true`, { x: 1 })).json();
    expect(a.response.result).toEqual({ zipped: true });
    expect(a.logs.some((l: string) => /stdout: native says \{"x":1\}$/.test(l))).toBe(true);
    expect(a.logs.some((l: string) => /stderr: warn$/.test(l))).toBe(true);
    expect(a.logs.join('\n')).not.toContain('XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX');
  });
});

describe('the blocking wait', () => {
  let w: TestWhirl;
  beforeAll(async () => {
    w = await startTestWhirl({ system: { ...DEFAULT_SYSTEM_LIMITS, maxBlockingWaitMs: 500 } });
  });
  afterAll(async () => w.cleanup());

  it('answers 202 once the longest blocking wait runs out, even without a timeout parameter', async () => {
    await create(
      w,
      'long',
      'function main() { return new Promise((r) => setTimeout(() => r({ late: true }), 1500)) }',
    );
    const r = await w.call('POST', `${A}/long?blocking=true&result=true`);
    expect(r.statusCode).toBe(202);
    expect(r.json().activationId).toMatch(/^[0-9a-f]{32}$/);
    expect((await record(w, r.json().activationId)).response.result).toEqual({ late: true });
  });
});
