/**
 * Nothing lost, nothing doubled — under fire. A client submits thousands of blocking and non-blocking
 * invocations through two controllers while invokers and one controller are killed with SIGKILL and
 * restarted. Afterwards every activation id a controller accepted has exactly one record: a success, or a
 * whisk internal error saying its invoker died while running it. A witness outside the sandboxes counts
 * how often each activation's code really started: never twice, unless the action is `retry-safe`.
 *
 * Bounded: loopback only, a fixed load window and a fixed chaos script; about two minutes.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { TestCluster, guestAuth } from '../helpers/cluster.js';
import { DATABASE_URL } from '../helpers/services.js';

const LOAD_MS = Number(process.env.WHIRL_CHAOS_MS ?? 45_000);
const NON_BLOCKING_PER_SECOND = Number(process.env.WHIRL_CHAOS_RATE ?? 40);
const BLOCKING_CLIENTS = 8;
const A = '/api/v1/namespaces/_/actions';

/** Each run reports itself to the witness before doing anything else, then works for a while. */
const ACTION = `async function main(p) {
  await fetch(process.env.__OW_API_HOST + '/witness/' + process.env.__OW_ACTIVATION_ID, { method: 'POST' });
  await new Promise((r) => setTimeout(r, p.ms));
  return { seq: p.seq };
}`;

let cluster: TestCluster;
let witness: Server;
let witnessUrl: string;
const runs = new Map<string, number>();

interface Accepted {
  id: string;
  seq: number;
  safe: boolean;
  blocking: boolean;
  /** HTTP status of a blocking answer. */
  status: number;
}

beforeAll(async () => {
  witness = createServer((req, res) => {
    const m = /^\/witness\/([0-9a-f]{32})$/.exec(req.url ?? '');
    if (m !== null) runs.set(m[1]!, (runs.get(m[1]!) ?? 0) + 1);
    res.writeHead(m === null ? 404 : 200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((r) => witness.listen(0, '127.0.0.1', r));
  witnessUrl = `http://127.0.0.1:${(witness.address() as AddressInfo).port}`;
  cluster = new TestCluster({
    ackWait: 2,
    offlineAfter: 3,
    // The backlog of non-blocking work may exceed the default concurrency limit: that is not under test.
    limits: {
      guest: { invocationsPerMinute: 1_000_000, concurrentInvocations: 1_000_000, firesPerMinute: 1000 },
    },
  });
  await cluster.prepare();
  await cluster.startController('controller0');
  await cluster.startController('controller1');
  await Promise.all(
    ['invoker0', 'invoker1', 'invoker2'].map((id) =>
      cluster.startInvoker(id, ['--api-host', witnessUrl, '--max-in-flight', '6', '--memory', '768']),
    ),
  );
  await cluster.waitHealthy('controller0', 3);
  await cluster.waitHealthy('controller1', 3);
  for (const [name, annotations] of [
    ['work', []],
    ['safe', [{ key: 'retry-safe', value: true }]],
  ] as const) {
    const r = await fetch(`${cluster.url('controller0')}${A}/${name}`, {
      method: 'PUT',
      headers: { authorization: guestAuth, 'content-type': 'application/json' },
      body: JSON.stringify({
        exec: { kind: 'nodejs:20', code: ACTION },
        annotations,
        limits: { memory: 128 },
      }),
    });
    expect(r.status).toBe(200);
  }
}, 120_000);

afterAll(async () => {
  await cluster?.cleanup();
  await new Promise((r) => witness?.close(r));
}, 60_000);

it('keeps exactly one record per accepted activation while invokers and a controller are killed', async () => {
  const urls = [cluster.url('controller0'), cluster.url('controller1')];
  const c1Port = Number(new URL(urls[1]!).port);
  const accepted: Accepted[] = [];
  const refused: Record<number, number> = {}; // not accepted: 429/503 answers, by status
  let lost = 0; // the connection broke (controller killed): the client never learnt an id
  let seq = 0;
  const deadline = Date.now() + LOAD_MS;

  const submit = async (blocking: boolean) => {
    const n = seq++;
    const safe = n % 10 === 0;
    const base = urls[n % 2]!;
    try {
      const r = await fetch(
        `${base}${A}/${safe ? 'safe' : 'work'}${blocking ? '?blocking=true&timeout=5000' : ''}`,
        {
          method: 'POST',
          headers: { authorization: guestAuth, 'content-type': 'application/json' },
          body: JSON.stringify({ seq: n, ms: (n * 37) % 150 }),
        },
      );
      const body = (await r.json()) as { activationId?: string };
      if (body.activationId !== undefined && [200, 202, 500, 502].includes(r.status)) {
        accepted.push({ id: body.activationId, seq: n, safe, blocking, status: r.status });
      } else refused[r.status] = (refused[r.status] ?? 0) + 1;
    } catch {
      lost++;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  // Non-blocking clients submit at a steady rate (the bus keeps what the invokers cannot run yet); blocking
  // clients submit as fast as their answers come back.
  const t0 = Date.now();
  let nonBlockingSent = 0;
  const nonBlockingClient = async () => {
    while (Date.now() < deadline) {
      if (nonBlockingSent >= ((Date.now() - t0) / 1000) * NON_BLOCKING_PER_SECOND) {
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      nonBlockingSent++;
      await submit(false);
    }
  };
  const blockingClient = async () => {
    while (Date.now() < deadline) await submit(true);
  };

  // The chaos script: kill -9 and restart, one thing at a time, spread over the load window.
  const kills: string[] = [];
  const step = LOAD_MS / 9;
  const at = (i: number) => new Promise((r) => setTimeout(r, step * i));
  const chaos = (async () => {
    const invoker = (id: string) => cluster.invokers.get(id)!;
    const restartInvoker = (id: string) =>
      cluster.startInvoker(id, ['--api-host', witnessUrl, '--max-in-flight', '6', '--memory', '768']);
    await at(1);
    await invoker('invoker1').kill();
    kills.push('invoker1');
    await at(1);
    await restartInvoker('invoker1');
    await at(1);
    await invoker('invoker2').kill();
    kills.push('invoker2');
    await cluster.controllers.get('controller1')!.kill();
    kills.push('controller1');
    await at(1);
    await cluster.startController('controller1', c1Port);
    await at(1);
    await invoker('invoker0').kill();
    kills.push('invoker0');
    await restartInvoker('invoker2');
    await at(1);
    await restartInvoker('invoker0');
    await invoker('invoker1').kill();
    kills.push('invoker1');
    await at(1);
    await restartInvoker('invoker1');
  })();

  await Promise.all([
    ...[...Array(8).keys()].map(() => nonBlockingClient()),
    ...[...Array(BLOCKING_CLIENTS).keys()].map(() => blockingClient()),
  ]);
  await chaos;

  // Every accepted activation must end with exactly one record.
  const db = new pg.Client({ connectionString: DATABASE_URL, options: `-c search_path=${cluster.schema}` });
  await db.connect();
  const ids = accepted.map((a) => a.id);
  let rows: { id: string; doc: string }[] = [];
  // The backlog drains at about 10 records a second while invokers are being killed (redeliveries wait out
  // the acknowledgement time), so on two cores settling takes about 150 s: give it twice that.
  const settleEnd = Date.now() + 300_000;
  for (;;) {
    rows = (
      await db.query<{ id: string; doc: string }>('SELECT id, doc FROM activations WHERE id = ANY($1)', [ids])
    ).rows;
    if (rows.length === ids.length || Date.now() > settleEnd) break;
    if (process.env.WHIRL_CHAOS_LOG !== undefined)
      console.log(`settling: ${rows.length}/${ids.length} records`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const settleSeconds = Math.round((Date.now() - deadline) / 100) / 10;
  await db.end();
  const records = new Map(
    rows.map((r) => [
      r.id,
      JSON.parse(r.doc) as {
        response: { statusCode: number; result: { seq?: number; error?: string } };
        annotations: { key: string; value: unknown }[];
      },
    ]),
  );

  let success = 0;
  let interrupted = 0;
  let redelivered = 0;
  let safeRerun = 0;
  const problems: string[] = [];
  for (const a of accepted) {
    const r = records.get(a.id);
    const started = runs.get(a.id) ?? 0;
    if (r === undefined) {
      problems.push(`${a.id} (seq ${a.seq}): no record`);
      continue;
    }
    if (r.annotations.some((x) => x.key === 'redelivered')) redelivered++;
    if (r.response.statusCode === 0) {
      success++;
      if (r.response.result.seq !== a.seq)
        problems.push(`${a.id}: result of seq ${r.response.result.seq}, expected ${a.seq}`);
      if (started < 1) problems.push(`${a.id}: success without a run`);
    } else if (r.response.statusCode === 3 && /was interrupted/.test(String(r.response.result.error))) {
      interrupted++;
      if (a.safe) problems.push(`${a.id}: retry-safe action not run again`);
    } else problems.push(`${a.id}: unexpected record ${JSON.stringify(r.response)}`);
    if (started > 1) {
      if (a.safe) safeRerun++;
      else problems.push(`${a.id} (not retry-safe) started ${started} times`);
    }
    if (a.blocking && a.status === 200 && r.response.statusCode !== 0)
      problems.push(`${a.id}: answered 200 but recorded ${r.response.statusCode}`);
  }
  const summary = {
    submitted: seq,
    accepted: accepted.length,
    blocking: accepted.filter((a) => a.blocking).length,
    nonBlocking: accepted.filter((a) => !a.blocking).length,
    refused,
    connectionLost: lost,
    records: rows.length,
    success,
    interruptedWhiskError: interrupted,
    redeliveredAndRun: redelivered,
    retrySafeRunTwice: safeRerun,
    kills,
    loadSeconds: LOAD_MS / 1000,
    settleSeconds,
  };
  console.log(`chaos summary: ${JSON.stringify(summary)}`);
  if (process.env.WHIRL_CHAOS_LOG !== undefined) writeFileSync(process.env.WHIRL_CHAOS_LOG, cluster.logs());
  if (problems.length > 0) console.log(`${problems.slice(0, 20).join('\n')}\n${cluster.logs().slice(-5000)}`);
  expect(problems).toEqual([]);
  expect(accepted.length).toBeGreaterThan(1000);
  expect(kills.length).toBe(5);
}, 480_000);
