/**
 * A deleted and re-created action runs its new code: no cache keyed by revision (the controller's entity
 * cache, the invoker's action cache, the pool's warm containers) may serve the document that was deleted.
 * The cluster's twin of this test is in test/cluster/cluster.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestWhirl, type TestWhirl } from '../helpers/in-process.js';
import { NS, recordOf } from '../helpers/entities.js';

const A = `${NS}/actions`;
const returning = (v: number) => ({
  exec: { kind: 'nodejs:20', code: `function main(){ return { v: ${v} } }` },
});

describe('redeploy: delete, then create again', () => {
  let w: TestWhirl;
  beforeAll(async () => {
    w = await startTestWhirl();
  });
  afterAll(async () => w.cleanup());

  it('runs the new code, blocking and non-blocking, round after round', async () => {
    for (let round = 1; round <= 4; round++) {
      expect((await w.call('PUT', `${A}/again`, returning(round))).statusCode).toBe(200);
      // Warm: the first invoke starts a container, the second reuses it.
      for (let i = 0; i < 2; i++) {
        const r = await w.call('POST', `${A}/again?blocking=true&result=true`);
        expect(r.json()).toEqual({ v: round });
      }
      const accepted = await w.call('POST', `${A}/again`);
      expect(accepted.statusCode).toBe(202);
      expect(
        (await recordOf(w, accepted.json<{ activationId: string }>().activationId)).response.result,
      ).toEqual({
        v: round,
      });
      expect((await w.call('DELETE', `${A}/again`)).statusCode).toBe(200);
    }
  });

  it('runs the new code of a re-created sequence component', async () => {
    for (let round = 1; round <= 3; round++) {
      await w.call('PUT', `${A}/comp`, returning(round));
      if (round === 1)
        await w.call('PUT', `${A}/seq`, { exec: { kind: 'sequence', components: ['/_/comp'] } });
      for (let i = 0; i < 2; i++) {
        expect((await w.call('POST', `${A}/seq?blocking=true&result=true`)).json()).toEqual({ v: round });
      }
      const accepted = await w.call('POST', `${A}/seq`);
      const record = await recordOf(w, accepted.json<{ activationId: string }>().activationId);
      expect(record.response.result).toEqual({ v: round });
      await w.call('DELETE', `${A}/comp`);
    }
  });
});
