// Sequences through the REST API (in-process, `inject`): creation checks, the blocking chain, records,
// nesting, the length limit, the 202 fallback, rules and bindings (spec §6.1, checklist 71–82).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SYSTEM_LIMITS } from '../../src/core/limits.js';
import { startTestWhirl, type TestWhirl } from '../helpers/in-process.js';
import { NS, annotation, putAction, recordOf } from '../helpers/entities.js';

const A = `${NS}/actions`;
const LIMIT = 5;

async function putSequence(w: TestWhirl, name: string, components: string[], extra: object = {}) {
  return w.call('PUT', `${A}/${name}?overwrite=true`, { exec: { kind: 'sequence', components }, ...extra });
}

describe('sequences', () => {
  let w: TestWhirl;
  beforeAll(async () => {
    w = await startTestWhirl({ system: { ...DEFAULT_SYSTEM_LIMITS, sequenceLength: LIMIT } });
    await putAction(w, 'echo', 'function main(p) { return p }');
    await putAction(w, 'inc', 'function main(p) { return { n: (p.n || 0) + 1 } }');
    await putAction(w, 'fail', 'function main(p) { return { error: "failed on purpose" } }');
    await putAction(w, 'big', 'function main(p) { return p }', { limits: { memory: 300 } });
    await putAction(w, 'small', 'function main(p) { return p }', { limits: { memory: 128 } });
  });
  afterAll(async () => w.cleanup());

  it('stores fully qualified components and an _actions parameter', async () => {
    const r = await putSequence(w, 's0', ['/_/echo', 'inc', '/whisk.system/utils/echo']);
    expect(r.statusCode).toBe(200);
    expect(r.json().exec).toEqual({
      kind: 'sequence',
      components: ['/guest/echo', '/guest/inc', '/whisk.system/utils/echo'],
    });
    expect(r.json().parameters).toEqual([
      { key: '_actions', value: ['/guest/echo', '/guest/inc', '/whisk.system/utils/echo'] },
    ]);
    expect(annotation(r.json().annotations, 'exec')).toBe('sequence');
  });

  it('refuses empty, missing, self-referencing and too long sequences with the spec messages', async () => {
    const cases: [string[], string][] = [
      [[], 'No component specified for the sequence.'],
      [['/_/ghost'], 'Sequence component does not exist.'],
      [['/_/echo', '/_/selfish'], 'Sequence may not refer to itself.'],
      [Array(LIMIT + 1).fill('/_/echo') as string[], 'Too many actions in the sequence.'],
    ];
    for (const [components, message] of cases) {
      const r = await putSequence(w, 'selfish', components);
      expect(r.statusCode, message).toBe(400);
      expect(r.json().error).toBe(message);
    }
    // Nested sequences count inline, and a cycle through a nested sequence is refused too.
    expect((await putSequence(w, 'three', ['/_/echo', '/_/echo', '/_/echo'])).statusCode).toBe(200);
    const tooLong = await putSequence(w, 'outer6', ['/_/three', '/_/three']);
    expect(tooLong.json().error).toBe('Too many actions in the sequence.');
    expect((await putSequence(w, 'wrap', ['/_/three'])).statusCode).toBe(200);
    const cycle = await putSequence(w, 'three', ['/_/wrap']);
    expect(cycle.statusCode).toBe(400);
    expect(cycle.json().error).toBe('Sequence may not refer to itself.');
    const badName = await putSequence(w, 'bad', ['a//b']);
    expect(badName.statusCode).toBe(400);
  });

  it('runs split, sort, head, cat from the catalog: one record per component, linked by cause', async () => {
    expect(
      (
        await putSequence(w, 'lines', [
          '/whisk.system/utils/split',
          '/whisk.system/utils/sort',
          '/whisk.system/utils/head',
          '/whisk.system/utils/cat',
        ])
      ).statusCode,
    ).toBe(200);
    const r = await w.call('POST', `${A}/lines?blocking=true`, { payload: 'c\nb\na', num: 2 });
    expect(r.statusCode).toBe(200);
    const seq = r.json();
    expect(seq.response.result).toEqual({ lines: ['a'], payload: 'a' });
    expect(seq).not.toHaveProperty('cause');
    expect(seq.logs).toHaveLength(4);
    expect(annotation(seq.annotations, 'topmost')).toBe(true);
    expect(annotation(seq.annotations, 'kind')).toBe('sequence');
    expect(annotation(seq.annotations, 'path')).toBe('guest/lines');
    const components = await Promise.all((seq.logs as string[]).map((id) => recordOf(w, id)));
    expect(components.map((c) => c.name)).toEqual(['split', 'sort', 'head', 'cat']);
    for (const c of components) {
      expect(c.cause).toBe(seq.activationId);
      expect(c.namespace).toBe('guest');
      expect(annotation(c.annotations, 'causedBy')).toBe('sequence');
      expect(typeof annotation(c.annotations, 'waitTime')).toBe('number');
    }
    expect(seq.duration).toBe(components.reduce((n, c) => n + (c.duration as number), 0));
    expect(await recordOf(w, seq.activationId)).toMatchObject({
      activationId: seq.activationId,
      logs: seq.logs,
    });
  });

  it('reports the sum of durations and the peak memory of the components', async () => {
    await putSequence(w, 'mem', ['/_/small', '/_/big', '/_/small']);
    const seq = (await w.call('POST', `${A}/mem?blocking=true`)).json();
    expect(annotation(seq.annotations, 'limits')).toEqual({ timeout: 60000, memory: 300, logs: 10 });
  });

  it('stops at the first failure, and lets an input field named error through', async () => {
    await putSequence(w, 'stops', ['/_/fail', '/_/echo']);
    const r = await w.call('POST', `${A}/stops?blocking=true`);
    expect(r.statusCode).toBe(502);
    expect(r.json().response).toMatchObject({
      status: 'application error',
      success: false,
      result: { error: 'failed on purpose' },
    });
    expect(r.json().logs).toHaveLength(1);
    await putSequence(w, 'counts', ['/_/inc', '/_/inc']);
    const ok = await w.call('POST', `${A}/counts?blocking=true&result=true`, {
      error: 'not a failure',
      n: 1,
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ n: 3 });
  });

  it('takes an update of its components into account', async () => {
    await putSequence(w, 'grows', ['/_/inc']);
    expect((await w.call('POST', `${A}/grows?blocking=true&result=true`)).json()).toEqual({ n: 1 });
    await putSequence(w, 'grows', ['/_/inc', '/_/inc']);
    expect((await w.call('POST', `${A}/grows?blocking=true&result=true`)).json()).toEqual({ n: 2 });
  });

  it('counts a nested sequence as one component, with its own record caused by the outer one', async () => {
    await putSequence(w, 'inner', ['/_/inc', '/_/inc']);
    await putSequence(w, 'outer', ['/_/inc', '/_/inner']);
    const outer = (await w.call('POST', `${A}/outer?blocking=true`)).json();
    expect(outer.response.result).toEqual({ n: 3 });
    expect(outer.logs).toHaveLength(2);
    const inner = await recordOf(w, outer.logs[1]);
    expect(inner).toMatchObject({ name: 'inner', cause: outer.activationId });
    expect(inner.logs).toHaveLength(2);
    expect(annotation(inner.annotations, 'topmost')).toBe(false);
    expect(annotation(inner.annotations, 'causedBy')).toBe('sequence');
    expect(outer.duration).toBe((await recordOf(w, outer.logs[0])).duration + inner.duration);
  });

  it('fails with "Too many actions" when a nested sequence grows past the limit after creation', async () => {
    const info = (await w.call('GET', '/', undefined, null)).json();
    expect(info.limits.sequence_length).toBe(LIMIT);
    await putSequence(w, 'innerGrow', Array(LIMIT - 1).fill('/_/inc') as string[]);
    expect((await putSequence(w, 'outerGrow', ['/_/inc', '/_/innerGrow'])).statusCode).toBe(200);
    await putSequence(w, 'innerGrow', Array(LIMIT).fill('/_/inc') as string[]);
    const r = await w.call('POST', `${A}/outerGrow?blocking=true`);
    expect(r.statusCode).toBe(502);
    expect(r.json().response).toMatchObject({
      status: 'application error',
      result: { error: 'Too many actions in the sequence.' },
    });
    const inner = await recordOf(w, r.json().logs[1]);
    expect(inner.logs).toHaveLength(LIMIT - 1);
    expect(inner.cause).toBe(r.json().activationId);
    expect(inner.response.result).toEqual({ error: 'Too many actions in the sequence.' });
  });

  it('reports a component deleted after creation, and a component that times out', async () => {
    await putAction(w, 'temp', 'function main(p) { return p }');
    await putSequence(w, 'dangling', ['/_/echo', '/_/temp']);
    await w.call('DELETE', `${A}/temp`);
    const r = await w.call('POST', `${A}/dangling?blocking=true&result=true`);
    expect(r.statusCode).toBe(502);
    expect(r.json()).toEqual({ error: 'Sequence component does not exist.' });
    await putAction(
      w,
      'slowpoke',
      'function main() { return new Promise(r => setTimeout(() => r({}), 3000)) }',
      {
        limits: { timeout: 300 },
      },
    );
    await putSequence(w, 'times', ['/_/echo', '/_/slowpoke']);
    const t = (await w.call('POST', `${A}/times?blocking=true`)).json();
    expect(t.response).toMatchObject({
      success: false,
      result: { error: 'The action exceeded its time limits of 300 milliseconds.' },
    });
    expect(t.logs).toHaveLength(2);
  });

  it('answers 202 when a blocking sequence runs past the wait, and still completes', async () => {
    await putAction(
      w,
      'snooze',
      'function main(p) { return new Promise(r => setTimeout(() => r({ woke: true }), 1200)) }',
    );
    await putSequence(w, 'late', ['/_/echo', '/_/snooze']);
    const r = await w.call('POST', `${A}/late?blocking=true&timeout=300`);
    expect(r.statusCode).toBe(202);
    expect(r.headers['x-openwhisk-activation-id']).toBe(r.json().activationId);
    const rec = await recordOf(w, r.json().activationId);
    expect(rec.response).toMatchObject({ success: true, result: { woke: true } });
    const nb = await w.call('POST', `${A}/late`);
    expect(nb.statusCode).toBe(202);
    expect((await recordOf(w, nb.json().activationId)).logs).toHaveLength(2);
  });

  it('passes arrays between components and returns them', async () => {
    await putAction(w, 'arr', 'function main(p) { return [1, 2, 3] }');
    await putAction(
      w,
      'sum',
      'function main(p) { return Array.isArray(p) ? p.map(x => x * 2) : { notArray: p } }',
    );
    await putSequence(w, 'arrays', ['/_/arr', '/_/sum']);
    const r = await w.call('POST', `${A}/arrays?blocking=true`);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual([2, 4, 6]);
  });

  it('applies package and binding parameters to package components, only under the input', async () => {
    await w.call('PUT', `${NS}/packages/seqPkg`, {
      parameters: [
        { key: 'fromPkg', value: 'pkg' },
        { key: 'shared', value: 'pkg' },
      ],
    });
    await putAction(w, 'seqPkg/show', 'function main(p) { return p }', {
      parameters: [{ key: 'shared', value: 'action' }],
    });
    await w.call('PUT', `${NS}/packages/seqBinding`, {
      binding: { namespace: '_', name: 'seqPkg' },
      parameters: [{ key: 'fromPkg', value: 'binding' }],
    });
    await putSequence(w, 'pkgSeq', ['/_/seqPkg/show', '/_/echo']);
    expect((await w.call('POST', `${A}/pkgSeq?blocking=true&result=true`, { input: 1 })).json()).toEqual({
      fromPkg: 'pkg',
      shared: 'action',
      input: 1,
    });
    expect(
      (await w.call('POST', `${A}/pkgSeq?blocking=true&result=true`, { shared: 'payload' })).json().shared,
    ).toBe('payload');
    await putSequence(w, 'bindSeq', ['/_/seqBinding/show']);
    const seq = (await w.call('POST', `${A}/bindSeq?blocking=true`)).json();
    expect(seq.response.result.fromPkg).toBe('binding');
    const component = await recordOf(w, seq.logs[0]);
    expect(annotation(component.annotations, 'binding')).toBe('guest/seqBinding');
  });

  it('runs as the target of a rule, with trigger parameters, payload and headers', async () => {
    await putSequence(w, 'ruleSeq', ['/_/echo', '/_/echo']);
    await w.call('PUT', `${NS}/triggers/seqTrigger`, { parameters: [{ key: 'fromTrigger', value: true }] });
    await w.call('PUT', `${NS}/rules/seqRule`, { trigger: '/_/seqTrigger', action: '/_/ruleSeq' });
    const fired = await w.call('POST', `${NS}/triggers/seqTrigger`, { fromPayload: 1 });
    expect(fired.statusCode).toBe(202);
    const trig = await recordOf(w, fired.json().activationId);
    const line = JSON.parse(trig.logs[0] as string);
    expect(line.success).toBe(true);
    const seq = await recordOf(w, line.activationId);
    expect(seq.name).toBe('ruleSeq');
    expect(seq.response.result).toMatchObject({ fromTrigger: true, fromPayload: 1 });
    expect(seq.response.result.__ow_headers['content-type']).toBe('application/json');
  });
});
