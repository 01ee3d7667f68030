// `npm run bench`: Whirl's warm invoke path and cold starts, each figure next to a raw Node.js http
// server measured in the same run on the same machine (the ratio is the number to watch).
//   node bench/run.mjs [--quick]     results printed and written to bench/results/<date>.json
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { latency, request, throughput } from './load.mjs';
import { headers, root, startProcess, startStandalone } from './whirl.mjs';

const quick = process.argv.includes('--quick');
const LATENCY_COUNT = quick ? 500 : 3000;
const SECONDS = quick ? 3 : 8;
const CONNECTIONS = 32;
const COLD_RUNS = quick ? 4 : 10;
const auth = headers();

async function api(method, path, body, base = whirlUrl) {
  const agent = new http.Agent();
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${base}/api/v1/namespaces/_${path}`,
      { method, headers: auth, agent },
      (res) => {
        let data = '';
        res.on('data', (c) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode, body: data ? JSON.parse(data) : undefined }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));

// 1. The baseline server.
const base = await startProcess([join(root, 'bench', 'baseline-server.mjs'), '0'], /listening (\d+)/);
const baseUrl = `http://127.0.0.1:${base.match[1]}/`;

// 2. Whirl standalone, with throttles out of the way.
const whirl = await startStandalone();
const whirlUrl = whirl.url;

const results = {
  date: new Date().toISOString(),
  machine: {
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  },
  settings: {
    latencyRequests: LATENCY_COUNT,
    throughputSeconds: SECONDS,
    connections: CONNECTIONS,
    coldRuns: COLD_RUNS,
  },
};
try {
  await api('PUT', '/actions/noop?overwrite=true', {
    exec: { kind: 'nodejs:20', code: 'function main() { return {} }' },
  });
  const invokeUrl = `${whirlUrl}/api/v1/namespaces/_/actions/noop?blocking=true&result=true`;
  const invoke = { method: 'POST', headers: auth, body: '{}' };

  // Cold starts on a Whirl of their own whose idle containers go after a second, so that every start meets
  // a pool holding only its stem cells (warm containers of earlier runs would otherwise fill its memory).
  console.log(`cold starts (${COLD_RUNS} each)...`);
  const coldWhirl = await startStandalone(['--idle-timeout', '1']);
  const cold = async (name, memory) => {
    await api(
      'PUT',
      `/actions/${name}?overwrite=true`,
      {
        exec: { kind: 'nodejs:20', code: 'function main() { return {} }' },
        limits: { memory },
      },
      coldWhirl.url,
    );
    const agent = new http.Agent({ keepAlive: true });
    const [status, ms] = await request(
      agent,
      `${coldWhirl.url}/api/v1/namespaces/_/actions/${name}?blocking=true`,
      invoke,
    );
    agent.destroy();
    if (status !== 200) throw new Error(`cold invoke of ${name} answered ${status}`);
    return ms;
  };
  const prewarmed = [];
  const unprewarmed = [];
  try {
    await sleep(1500); // the stem cells start with the server
    for (let i = 0; i < COLD_RUNS; i++) {
      prewarmed.push(await cold(`pw${i}`, 256)); // a 256 MB nodejs stem cell is waiting
      unprewarmed.push(await cold(`cs${i}`, 128)); // no 128 MB stem cells: a full sandbox start
      await sleep(2500); // both containers go idle and are removed; the stem cell is refilled
    }
  } finally {
    await coldWhirl.stop();
  }
  results.coldStart = {
    prewarmedMs: median(prewarmed),
    notPrewarmedMs: median(unprewarmed),
    prewarmed,
    unprewarmed,
  };

  console.log(`latency at 1 connection (${LATENCY_COUNT} requests)...`);
  results.baselineLatency = await latency(baseUrl, { method: 'POST', body: '{}' }, LATENCY_COUNT);
  results.whirlLatency = await latency(invokeUrl, invoke, LATENCY_COUNT);

  console.log(`throughput at ${CONNECTIONS} connections (${SECONDS} s each)...`);
  results.baselineThroughput = await throughput(
    baseUrl,
    { method: 'POST', body: '{}' },
    CONNECTIONS,
    SECONDS,
  );
  results.whirlThroughput = await throughput(invokeUrl, invoke, CONNECTIONS, SECONDS);
  await api('PUT', '/actions/noopc?overwrite=true', {
    exec: { kind: 'nodejs:20', code: 'function main() { return {} }' },
    limits: { concurrency: CONNECTIONS },
  });
  results.whirlThroughputConcurrent = await throughput(
    `${whirlUrl}/api/v1/namespaces/_/actions/noopc?blocking=true&result=true`,
    invoke,
    CONNECTIONS,
    SECONDS,
  );

  const b = results.baselineLatency;
  const w = results.whirlLatency;
  results.ratios = {
    latencyP50: w.p50 / b.p50,
    latencyP99: w.p99 / b.p99,
    throughput: results.whirlThroughput.rps / results.baselineThroughput.rps,
    throughputConcurrent: results.whirlThroughputConcurrent.rps / results.baselineThroughput.rps,
    coldPrewarmedVsBaselineP50: results.coldStart.prewarmedMs / b.p50,
    coldVsBaselineP50: results.coldStart.notPrewarmedMs / b.p50,
  };
  const r = results.ratios;
  const rows = [
    ['latency p50 (1 conn)', `${fmt(b.p50)} ms`, `${fmt(w.p50)} ms`, `${fmt(r.latencyP50)}x`],
    ['latency p99 (1 conn)', `${fmt(b.p99)} ms`, `${fmt(w.p99)} ms`, `${fmt(r.latencyP99)}x`],
    [
      `throughput (${CONNECTIONS} conns)`,
      `${fmt(results.baselineThroughput.rps)}/s`,
      `${fmt(results.whirlThroughput.rps)}/s`,
      `${fmt(r.throughput)}x`,
    ],
    [
      `  same, action concurrency ${CONNECTIONS}`,
      '',
      `${fmt(results.whirlThroughputConcurrent.rps)}/s`,
      `${fmt(r.throughputConcurrent)}x`,
    ],
    [
      'cold start, prewarmed',
      '',
      `${fmt(results.coldStart.prewarmedMs)} ms`,
      `${fmt(r.coldPrewarmedVsBaselineP50)}x`,
    ],
    [
      'cold start, new sandbox',
      '',
      `${fmt(results.coldStart.notPrewarmedMs)} ms`,
      `${fmt(r.coldVsBaselineP50)}x`,
    ],
  ];
  console.log('\nfigure                              baseline      whirl         whirl/baseline');
  for (const row of rows)
    console.log(`${row[0].padEnd(36)}${row[1].padEnd(14)}${row[2].padEnd(14)}${row[3]}`);
  const errors = w.errors + results.whirlThroughput.errors + results.whirlThroughputConcurrent.errors;
  if (errors > 0) console.log(`\nWARNING: ${errors} Whirl requests failed`);
  const file = join(root, 'bench', 'results', `standalone-${results.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(root, 'bench', 'results', 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwritten to ${file}`);
} finally {
  await whirl.stop();
  base.child.kill('SIGTERM');
}

// The sandbox backends side by side (process and docker: start, pause/resume, cold starts), in the same run.
if (!process.argv.includes('--no-sandboxes')) {
  execFileSync(process.execPath, [join(root, 'bench', 'sandboxes.mjs'), ...(quick ? ['--quick'] : [])], {
    stdio: 'inherit',
  });
}

// The cluster (controller + 1, 2, 3 invokers over PostgreSQL and NATS) against standalone, in the same run.
if (!process.argv.includes('--no-cluster')) {
  execFileSync(process.execPath, [join(root, 'bench', 'cluster.mjs'), ...(quick ? ['--quick'] : [])], {
    stdio: 'inherit',
  });
}

// A well-behaved tenant next to a hostile one (CPU spins, memory hogs, fork bombs, log floods), same run.
if (!process.argv.includes('--no-hostile')) {
  execFileSync(process.execPath, [join(root, 'bench', 'hostile.mjs'), ...(quick ? ['--quick'] : [])], {
    stdio: 'inherit',
  });
}
