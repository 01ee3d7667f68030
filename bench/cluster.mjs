// `npm run bench` (cluster part), or `node bench/cluster.mjs [--quick]`: Whirl as a cluster on this
// machine — `whirl controller` and 1, 2, then 3 `whirl invoker` processes over the local PostgreSQL and
// NATS JetStream — measured in the same run as `whirl standalone`:
//   - the bus hop: warm blocking invoke latency (p50/p99, one connection), cluster vs standalone;
//   - throughput at 32 connections with 1, 2 and 3 invokers, for a no-op action (CPU-bound on this
//     machine) and for an action that waits 50 ms (bound by invoker capacity, which invokers add).
// Results are printed and written to bench/results/cluster-<date>.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { latency, throughput } from './load.mjs';
import {
  KEY,
  LIMITS,
  headers as authHeaders,
  root,
  startProcess,
  startStandalone,
  stopProcess,
  whirlBin,
} from './whirl.mjs';

const quick = process.argv.includes('--quick');
const LATENCY_COUNT = quick ? 300 : 1500;
const SECONDS = quick ? 3 : 6;
const CONNECTIONS = 32;
const DATABASE_URL = process.env.WHIRL_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const NATS_URL = process.env.WHIRL_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const headers = authHeaders();

const children = [];
async function start(args, ready) {
  const p = await startProcess([whirlBin, ...args], ready);
  children.push(p.child);
  return p;
}
const stop = stopProcess;

async function call(base, method, path, body) {
  const r = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: await r.text() };
}

const ACTIONS = {
  noop: 'function main() { return {} }',
  wait50: 'function main() { return new Promise((r) => setTimeout(() => r({}), 50)) }',
};
async function deploy(base) {
  for (const [name, code] of Object.entries(ACTIONS)) {
    const r = await call(base, 'PUT', `/api/v1/namespaces/_/actions/${name}?overwrite=true`, {
      exec: { kind: 'nodejs:20', code },
      limits: { memory: 256 },
    });
    if (r.status !== 200) throw new Error(`deploy ${name}: ${r.status} ${r.body}`);
  }
}
const invokeUrl = (base, name) => `${base}/api/v1/namespaces/_/actions/${name}?blocking=true&result=true`;
const invokeOpts = { method: 'POST', headers, body: '{}' };

const fmt = (n) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));

// 1. Standalone, for the same-run comparison.
const standalone = await startStandalone();
const saUrl = standalone.url;
await deploy(saUrl);
const saLatency = await latency(invokeUrl(saUrl, 'noop'), invokeOpts, LATENCY_COUNT);
const saNoop = await throughput(invokeUrl(saUrl, 'noop'), invokeOpts, CONNECTIONS, SECONDS);
const saWait = await throughput(invokeUrl(saUrl, 'wait50'), invokeOpts, CONNECTIONS, SECONDS);
await standalone.stop();

// 2. The cluster: one controller, invokers added one at a time.
const schema = `whirl_bench_${randomBytes(4).toString('hex')}`;
const prefix = `wb_${randomBytes(4).toString('hex')}`;
const { PostgresStore } = await import('../dist/store/postgres/postgres-store.js');
{
  const s = await PostgresStore.open({ url: DATABASE_URL, schema, poolSize: 1 });
  await s.setLimits('guest', LIMITS);
  await s.close();
}
const common = [
  '--database-url',
  DATABASE_URL,
  '--database-schema',
  schema,
  '--nats-url',
  NATS_URL,
  '--nats-prefix',
  prefix,
];
const controller = await start(
  [
    'controller',
    '--id',
    'controller0',
    '--port',
    '0',
    '--guest-key',
    KEY,
    '--probe-interval',
    '1',
    ...common,
  ],
  /ready on (http:\/\/\S+)/,
);
const cUrl = controller.match[1];
async function waitUp(n) {
  for (let i = 0; i < 600; i++) {
    const states = await (await fetch(`${cUrl}/invokers`)).json();
    if (Object.values(states).filter((s) => s === 'up').length >= n) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`fewer than ${n} invokers up`);
}
const invokers = [];
const addInvoker = async () => {
  const id = `invoker${invokers.length}`;
  invokers.push(
    await start(
      ['invoker', '--id', id, '--memory', '1024', '--max-in-flight', '32', '--api-host', cUrl, ...common],
      /whirl invoker \S+ ready/,
    ),
  );
  await waitUp(invokers.length);
};
await addInvoker();
await deploy(cUrl);
const clLatency = await latency(invokeUrl(cUrl, 'noop'), invokeOpts, LATENCY_COUNT);
const scaling = [];
for (let n = 1; n <= 3; n++) {
  if (n > 1) await addInvoker();
  const noop = await throughput(invokeUrl(cUrl, 'noop'), invokeOpts, CONNECTIONS, SECONDS);
  const wait50 = await throughput(invokeUrl(cUrl, 'wait50'), invokeOpts, CONNECTIONS, SECONDS);
  scaling.push({ invokers: n, noop, wait50 });
}
for (const p of [...invokers, controller]) await stop(p);
{
  const c = new pg.Client({ connectionString: DATABASE_URL });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await c.end();
  const { NatsBus } = await import('../dist/bus/nats/nats-bus.js');
  const bus = await NatsBus.open({ url: NATS_URL, prefix });
  await bus.destroy();
  await bus.close();
}

const results = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryGB: Math.round(totalmem() / 2 ** 30) },
  notes:
    'One machine: controllers, invokers, PostgreSQL, NATS and the load generator share its cores. Invokers 1024 MB each, actions 256 MB (4 at a time per invoker).',
  latency: {
    standalone: saLatency,
    cluster: clLatency,
    busHopMsP50: clLatency.p50 - saLatency.p50,
    ratioP50: clLatency.p50 / saLatency.p50,
    ratioP99: clLatency.p99 / saLatency.p99,
  },
  throughput: {
    standalone: { noop: saNoop, wait50: saWait },
    cluster: scaling,
    ratios: scaling.map((s) => ({
      invokers: s.invokers,
      noopVsStandalone: s.noop.rps / saNoop.rps,
      wait50VsStandalone: s.wait50.rps / saWait.rps,
      wait50VsOneInvoker: s.wait50.rps / scaling[0].wait50.rps,
    })),
  },
};
console.log('\nWhirl cluster on this machine (same run as standalone)');
console.log(
  `warm blocking invoke p50/p99: standalone ${fmt(saLatency.p50)}/${fmt(saLatency.p99)} ms, cluster ${fmt(clLatency.p50)}/${fmt(clLatency.p99)} ms` +
    ` → bus hop +${fmt(results.latency.busHopMsP50)} ms p50 (×${fmt(results.latency.ratioP50)})`,
);
console.log(`standalone throughput: noop ${fmt(saNoop.rps)} req/s, wait50 ${fmt(saWait.rps)} req/s`);
for (const s of scaling) {
  console.log(
    `cluster, ${s.invokers} invoker(s): noop ${fmt(s.noop.rps)} req/s (p99 ${fmt(s.noop.p99)} ms, ${s.noop.errors} errors), ` +
      `wait50 ${fmt(s.wait50.rps)} req/s (×${fmt(s.wait50.rps / scaling[0].wait50.rps)} of one invoker, ${s.wait50.errors} errors)`,
  );
}
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
const file = join(
  root,
  'bench',
  'results',
  `cluster-${results.date.replaceAll(':', '-').replaceAll('.', '-')}.json`,
);
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(root, 'bench', 'results', 'cluster-latest.json'), `${JSON.stringify(results, null, 2)}\n`);
console.log(`written to ${file}`);
process.exit(0);
