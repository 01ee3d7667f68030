/**
 * The redelivery rules, one case at a time (the chaos test shows them at scale): an invoker is killed
 * while one activation runs and others wait in its pool. After it restarts, the one that had started ends
 * as a whisk internal error (not run again), the ones that were only waiting run, and a `retry-safe`
 * action that was interrupted runs again. A witness outside the sandboxes sees every start.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TestCluster, guestAuth } from '../helpers/cluster.js';
import { DATABASE_URL } from '../helpers/services.js';

const A = '/api/v1/namespaces/_/actions';
const ACTION = `async function main(p) {
  await fetch(process.env.__OW_API_HOST + '/witness/' + process.env.__OW_ACTIVATION_ID, { method: 'POST' });
  await new Promise((r) => setTimeout(r, 1500));
  return { n: p.n };
}`;

let cluster: TestCluster;
let witness: Server;
let witnessUrl: string;
let url: string;
const starts = new Map<string, number>();
// One 256 MB container at a time: a second activation waits in the invoker's pool, taken but not started.
const invokerArgs = () => ['--api-host', witnessUrl, '--memory', '256', '--max-in-flight', '4'];

interface Rec {
  response: { statusCode: number; result: { n?: number; error?: string } };
  annotations: { key: string; value: unknown }[];
}

async function records(ids: string[], ms = 30_000): Promise<Map<string, Rec>> {
  const db = new pg.Client({ connectionString: DATABASE_URL, options: `-c search_path=${cluster.schema}` });
  await db.connect();
  try {
    const end = Date.now() + ms;
    for (;;) {
      const { rows } = await db.query<{ id: string; doc: string }>(
        'SELECT id, doc FROM activations WHERE id = ANY($1)',
        [ids],
      );
      if (rows.length === ids.length || Date.now() > end)
        return new Map(rows.map((r) => [r.id, JSON.parse(r.doc) as Rec]));
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await db.end();
  }
}

const invoke = async (name: string, n: number): Promise<string> => {
  const r = await fetch(`${url}${A}/${name}`, {
    method: 'POST',
    headers: { authorization: guestAuth, 'content-type': 'application/json' },
    body: JSON.stringify({ n }),
  });
  expect(r.status).toBe(202);
  return ((await r.json()) as { activationId: string }).activationId;
};

const until = async (cond: () => boolean, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`condition not met in time\n${cluster.logs()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

beforeAll(async () => {
  witness = createServer((req, res) => {
    const m = /^\/witness\/([0-9a-f]{32})$/.exec(req.url ?? '');
    if (m !== null) starts.set(m[1]!, (starts.get(m[1]!) ?? 0) + 1);
    res.end('{}');
  });
  await new Promise<void>((r) => witness.listen(0, '127.0.0.1', r));
  witnessUrl = `http://127.0.0.1:${(witness.address() as AddressInfo).port}`;
  cluster = new TestCluster({ ackWait: 1, offlineAfter: 2 });
  await cluster.prepare();
  url = (await cluster.startController('controller0')).url;
  await cluster.startInvoker('invoker0', invokerArgs());
  await cluster.waitHealthy('controller0', 1);
  for (const [name, annotations] of [
    ['long', []],
    ['longsafe', [{ key: 'retry-safe', value: true }]],
  ] as const) {
    const r = await fetch(`${url}${A}/${name}`, {
      method: 'PUT',
      headers: { authorization: guestAuth, 'content-type': 'application/json' },
      body: JSON.stringify({
        exec: { kind: 'nodejs:20', code: ACTION },
        annotations,
        limits: { memory: 256 },
      }),
    });
    expect(r.status).toBe(200);
  }
}, 60_000);

afterAll(async () => {
  await cluster?.cleanup();
  await new Promise((r) => witness?.close(r));
}, 60_000);

it('ends a started activation as interrupted and runs the ones that were only waiting, after a kill -9', async () => {
  const ids = [await invoke('long', 1), await invoke('long', 2), await invoke('long', 3)];
  await until(() => starts.size === 1);
  const started = [...starts.keys()][0]!;
  await cluster.invokers.get('invoker0')!.kill();
  await cluster.startInvoker('invoker0', invokerArgs());
  const recs = await records(ids);
  expect(recs.size).toBe(3);
  for (const [i, id] of ids.entries()) {
    const r = recs.get(id)!;
    if (id === started) {
      expect(r.response.statusCode).toBe(3);
      expect(r.response.result.error).toBe(
        "The activation was interrupted: invoker 'invoker0' stopped while running it. It was not run again because the action is not annotated 'retry-safe'.",
      );
      expect(starts.get(id)).toBe(1);
    } else {
      expect(r.response).toMatchObject({ statusCode: 0, result: { n: i + 1 } });
      expect(r.annotations).toContainEqual({ key: 'redelivered', value: true });
      expect(starts.get(id)).toBe(1);
    }
  }
}, 60_000);

it('runs an interrupted retry-safe activation again', async () => {
  await cluster.waitHealthy('controller0', 1); // the restarted invoker has passed its health test
  const id = await invoke('longsafe', 9);
  await until(() => starts.has(id)).catch(async (err: Error) => {
    // Say what became of it (a record without a start means the action itself failed).
    throw new Error(`${err.message}\nrecord: ${JSON.stringify((await records([id], 1000)).get(id))}`);
  });
  await cluster.invokers.get('invoker0')!.kill();
  await cluster.startInvoker('invoker0', invokerArgs());
  const r = (await records([id])).get(id)!;
  expect(r.response).toMatchObject({ statusCode: 0, result: { n: 9 } });
  expect(starts.get(id)).toBe(2);
}, 60_000);
