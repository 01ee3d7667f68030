// Conductor actions through the REST API (in-process, `inject`): the action/params/state protocol, errors
// reported back to the conductor, limits, records and bindings (spec §6.2, checklist 83–88).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SYSTEM_LIMITS } from '../../src/core/limits.js';
import { startTestWhirl, type TestWhirl } from '../helpers/in-process.js';
import { NS, annotation, putAction, recordOf } from '../helpers/entities.js';

const A = `${NS}/actions`;
const LIMIT = 4;
const CONDUCTOR = [{ key: 'conductor', value: true }];

async function putConductor(w: TestWhirl, name: string, code: string, extra: object = {}) {
  return putAction(w, name, code, { annotations: CONDUCTOR, ...extra });
}

describe('conductor actions', () => {
  let w: TestWhirl;
  beforeAll(async () => {
    w = await startTestWhirl({ system: { ...DEFAULT_SYSTEM_LIMITS, sequenceLength: LIMIT } });
    await putAction(w, 'inc', 'function main(p) { return { n: (p.n || 0) + 1 } }', {
      limits: { memory: 257 },
    });
    await putAction(w, 'echo', 'function main(p) { return p }');
  });
  afterAll(async () => w.cleanup());

  it('is transparent when the result names no action, and passes {error} through', async () => {
    await putConductor(
      w,
      'plain',
      'function main(p) { return p.bad ? { error: "bad" } : { a: 1, got: p.x } }',
    );
    const ok = (await w.call('POST', `${A}/plain?blocking=true`, { x: 7 })).json();
    expect(ok.response.result).toEqual({ a: 1, got: 7 });
    expect(ok.logs).toHaveLength(1);
    expect(annotation(ok.annotations, 'conductor')).toBe(true);
    expect(annotation(ok.annotations, 'topmost')).toBe(true);
    expect(annotation(ok.annotations, 'kind')).toBe('sequence');
    const step = await recordOf(w, ok.logs[0]);
    expect(step).toMatchObject({ name: 'plain', cause: ok.activationId });
    expect(annotation(step.annotations, 'causedBy')).toBe('sequence');
    const bad = await w.call('POST', `${A}/plain?blocking=true`, { bad: true });
    expect(bad.statusCode).toBe(502);
    expect(bad.json().response).toMatchObject({ status: 'application error', result: { error: 'bad' } });
  });

  it('unwraps params when there is no next action', async () => {
    await putConductor(
      w,
      'unwrap',
      'function main() { return { params: { x: 1 }, result: "ignored", state: {} } }',
    );
    expect((await w.call('POST', `${A}/unwrap?blocking=true&result=true`)).json()).toEqual({ x: 1 });
  });

  it('reports an unparsable or missing next action back to the conductor', async () => {
    const code = (next: string) =>
      `function main(p) { return p.error ? { error: p.error } : { action: ${JSON.stringify(next)} } }`;
    await putConductor(w, 'invalid', code('#invalid'));
    const inv = (await w.call('POST', `${A}/invalid?blocking=true`)).json();
    expect(inv.response.result).toEqual({
      error: 'Failed to parse action name from json value "#invalid" during composition.',
    });
    expect(inv.logs).toHaveLength(2);
    await putConductor(w, 'lost', code('nothere'));
    const mis = (await w.call('POST', `${A}/lost?blocking=true`)).json();
    expect(mis.response.result).toEqual({
      error: "Failed to resolve action with name 'guest/nothere' during composition.",
    });
    expect(mis.logs).toHaveLength(2);
    await putConductor(w, 'nosy', code('/whisk.system/secret'));
    const nosy = (await w.call('POST', `${A}/nosy?blocking=true`)).json();
    expect(nosy.response.result).toEqual({
      error: "Failed entitlement check for action with name 'whisk.system/secret' during composition.",
    });
  });

  it('runs the next action, re-runs the conductor on its result, and merges state into its input', async () => {
    // step 0: run inc with n; step 1: run inc again remembering it in state; step 2: finish.
    await putConductor(
      w,
      'twice',
      `function main(p) {
        const step = p.step || 0;
        if (step === 0) return { action: 'inc', params: { n: p.n }, state: { step: 1 } };
        if (step === 1) return { action: '/_/inc', params: { n: p.n }, state: { step: 2, seen: p.n } };
        return { params: { n: p.n, seen: p.seen } };
      }`,
    );
    const r = (await w.call('POST', `${A}/twice?blocking=true`, { n: 0 })).json();
    expect(r.response.result).toEqual({ n: 2, seen: 1 });
    expect(r.logs).toHaveLength(5);
    const names = (await Promise.all((r.logs as string[]).map((id) => recordOf(w, id)))).map((x) => x.name);
    expect(names).toEqual(['twice', 'inc', 'twice', 'inc', 'twice']);
    // Duration is the sum of the steps; memory the peak (inc asks for 257 MB, the conductor 256 MB).
    const steps = await Promise.all((r.logs as string[]).map((id) => recordOf(w, id)));
    expect(r.duration).toBe(steps.reduce((n, s) => n + (s.duration as number), 0));
    expect(annotation(r.annotations, 'limits')).toMatchObject({ memory: 257 });
  });

  it('boxes non-object params and state', async () => {
    await putConductor(
      w,
      'boxes',
      `function main(p) {
        if (p.value === undefined && p.state === undefined) return { action: 'echo', params: 5, state: 'kept' };
        return { params: { value: p.value, state: p.state } };
      }`,
    );
    expect((await w.call('POST', `${A}/boxes?blocking=true&result=true`)).json()).toEqual({
      value: 5,
      state: 'kept',
    });
  });

  it('nests conductors and sequences as components', async () => {
    await putConductor(
      w,
      'innerC',
      'function main(p) { return p.done ? { params: p } : { action: "inc", params: p, state: { done: true } } }',
    );
    await w.call('PUT', `${A}/incSeq?overwrite=true`, {
      exec: { kind: 'sequence', components: ['/_/inc', '/_/inc'] },
    });
    await putConductor(
      w,
      'outerC',
      `function main(p) {
        if (p.stage === undefined) return { action: 'innerC', params: { n: 10 }, state: { stage: 1 } };
        if (p.stage === 1) return { action: 'incSeq', params: { n: p.n }, state: { stage: 2 } };
        return { params: { n: p.n } };
      }`,
    );
    const r = (await w.call('POST', `${A}/outerC?blocking=true`)).json();
    expect(r.response.result).toEqual({ n: 13 });
    // outerC, innerC (one composition record), outerC, incSeq (one sequence record), outerC
    expect(r.logs).toHaveLength(5);
    const inner = await recordOf(w, r.logs[1]);
    expect(inner).toMatchObject({ name: 'innerC', cause: r.activationId });
    expect(annotation(inner.annotations, 'conductor')).toBe(true);
    expect(annotation(inner.annotations, 'topmost')).toBe(false);
    expect(annotation(inner.annotations, 'causedBy')).toBe('sequence');
    expect(inner.logs).toHaveLength(3);
    const seq = await recordOf(w, r.logs[3]);
    expect(seq).toMatchObject({ name: 'incSeq', cause: r.activationId });
    expect(seq.logs).toHaveLength(2);
  });

  it('stops a composition that runs too many actions', async () => {
    // Ignores every error and keeps asking for more: the components limit, then the conductor limit.
    await putConductor(
      w,
      'forever',
      'function main(p) { return { action: "echo", params: { e: p.error } } }',
    );
    const r = await w.call('POST', `${A}/forever?blocking=true`);
    expect(r.statusCode).toBe(502);
    expect(r.json().response).toMatchObject({
      status: 'application error',
      result: { error: 'Too many actions in the composition.' },
    });
    // LIMIT components, 2×LIMIT+1 conductor runs.
    expect(r.json().logs).toHaveLength(LIMIT + 2 * LIMIT + 1);
  });

  it('runs through a binding with the binding annotation, and non-blocking with 202', async () => {
    await w.call('PUT', `${NS}/packages/condPkg`, { parameters: [{ key: 'who', value: 'pkg' }] });
    await putConductor(w, 'condPkg/hello', 'function main(p) { return { params: { who: p.who } } }');
    await w.call('PUT', `${NS}/packages/condBinding`, {
      binding: { namespace: '_', name: 'condPkg' },
      parameters: [{ key: 'who', value: 'binding' }],
    });
    const r = (await w.call('POST', `${A}/condBinding/hello?blocking=true`)).json();
    expect(r.response.result).toEqual({ who: 'binding' });
    expect(annotation(r.annotations, 'binding')).toBe('guest/condBinding');
    const nb = await w.call('POST', `${A}/condPkg/hello`);
    expect(nb.statusCode).toBe(202);
    expect((await recordOf(w, nb.json().activationId)).response.result).toEqual({ who: 'pkg' });
  });

  it('refuses to let the payload override final parameters of the conductor', async () => {
    await putConductor(w, 'final', 'function main(p) { return p }', {
      parameters: [{ key: 'fixed', value: 1 }],
      annotations: [...CONDUCTOR, { key: 'final', value: true }],
    });
    const r = await w.call('POST', `${A}/final?blocking=true`, { fixed: 2 });
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toBe(
      'Request defines parameters that are not allowed (e.g., reserved properties).',
    );
  });
});
