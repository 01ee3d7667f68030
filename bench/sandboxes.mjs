// `npm run bench` (sandbox part), or `node bench/sandboxes.mjs [--quick]`: the `process` and `docker`
// sandbox backends side by side, measured in the same run on the same machine:
//   - sandbox level (the SandboxFactory the invoker uses, nodejs runtime): start until the runtime listens,
//     first /init + /run, warm /run latency, pause, resume, the first /run after a resume, destroy;
//   - through `whirl standalone --sandbox <backend>`: a blocking invoke's cold start with a prewarmed stem
//     cell and with a new sandbox, and a warm invoke.
// Docker absent: the docker column says why. Results are printed and written to
// bench/results/sandboxes-<date>.json.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { latency, percentile, request } from './load.mjs';
import { headers, root, startStandalone } from './whirl.mjs';

const quick = process.argv.includes('--quick');
const STARTS = quick ? 5 : 15;
const WARM_RUNS = quick ? 100 : 400;
const PAUSES = quick ? 5 : 15;
const COLD_RUNS = quick ? 3 : 8;
const dist = (p) => join(root, 'dist', p);
const auth = headers();
const NOOP = 'function main(p) { return p }';

const median = (xs) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );
const fmt = (n) =>
  n === undefined || Number.isNaN(n) ? '-' : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => Number(process.hrtime.bigint()) / 1e6;

function post(endpoint, agent, path, body) {
  const target = 'socketPath' in endpoint ? { socketPath: endpoint.socketPath } : endpoint;
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = http.request(
      {
        ...target,
        agent,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** Sandbox-level figures for one backend. */
async function sandboxFigures(backend) {
  const { openSandboxes } = await import(dist('sandbox/index.js'));
  const factory = await openSandboxes({
    backend,
    runDir: mkdtempSync(join(tmpdir(), 'wb-')),
    instance: `bench-${backend}`,
  });
  const spec = () => ({
    id: `b${randomUUID().slice(0, 8)}`,
    family: 'nodejs',
    memoryMB: 256,
    concurrency: 1,
    env: {},
  });
  const starts = [];
  const firstRuns = [];
  const destroys = [];
  try {
    for (let i = 0; i < STARTS; i++) {
      let t = now();
      const s = await factory.create(spec());
      starts.push(now() - t);
      const agent = new http.Agent({ keepAlive: true });
      t = now();
      await post(s.endpoint, agent, '/init', {
        value: { name: 'n', main: 'main', code: NOOP, binary: false },
      });
      await post(s.endpoint, agent, '/run', { value: {} });
      firstRuns.push(now() - t);
      agent.destroy();
      t = now();
      await s.destroy();
      destroys.push(now() - t);
    }
    // One warm sandbox: run latency, then pause/resume cycles.
    const s = await factory.create(spec());
    const agent = new http.Agent({ keepAlive: true });
    await post(s.endpoint, agent, '/init', { value: { name: 'n', main: 'main', code: NOOP, binary: false } });
    const warm = [];
    for (let i = 0; i < WARM_RUNS; i++) {
      const t = now();
      await post(s.endpoint, agent, '/run', { value: {} });
      warm.push(now() - t);
    }
    const pauses = [];
    const resumes = [];
    const afterResume = [];
    for (let i = 0; i < PAUSES; i++) {
      let t = now();
      await s.pause();
      pauses.push(now() - t);
      await sleep(50);
      t = now();
      await s.resume();
      resumes.push(now() - t);
      t = now();
      await post(s.endpoint, agent, '/run', { value: {} });
      afterResume.push(now() - t);
    }
    agent.destroy();
    await s.destroy();
    return {
      isolated: factory.isolation.isolated,
      startMs: median(starts),
      firstInitRunMs: median(firstRuns),
      warmRunP50Ms: median(warm),
      pauseMs: median(pauses),
      resumeMs: median(resumes),
      runAfterResumeMs: median(afterResume),
      destroyMs: median(destroys),
      samples: { starts, firstRuns, pauses, resumes, afterResume, destroys },
    };
  } finally {
    await factory.close();
  }
}

/** Cold and warm invokes through a standalone Whirl on one backend. */
async function standaloneFigures(backend) {
  const whirl = await startStandalone(['--sandbox', backend]);
  const put = async (name, memory) => {
    const agent = new http.Agent();
    const [status] = await request(agent, `${whirl.url}/api/v1/namespaces/_/actions/${name}?overwrite=true`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ exec: { kind: 'nodejs:20', code: NOOP }, limits: { memory } }),
    });
    agent.destroy();
    if (status !== 200) throw new Error(`creating ${name} answered ${status}`);
  };
  const invoke = async (name) => {
    const agent = new http.Agent({ keepAlive: true });
    const [status, ms] = await request(
      agent,
      `${whirl.url}/api/v1/namespaces/_/actions/${name}?blocking=true`,
      {
        method: 'POST',
        headers: auth,
        body: '{}',
      },
    );
    agent.destroy();
    if (status !== 200) throw new Error(`invoking ${name} answered ${status}`);
    return ms;
  };
  try {
    await sleep(2000); // let the stem cells come up
    const prewarmed = [];
    const fresh = [];
    for (let i = 0; i < COLD_RUNS; i++) {
      await put(`pw${i}`, 256);
      prewarmed.push(await invoke(`pw${i}`)); // a 256 MB nodejs stem cell is waiting
      await sleep(backend === 'docker' ? 1500 : 700); // the pool refills its stem cell
      await put(`cs${i}`, 128);
      fresh.push(await invoke(`cs${i}`)); // no 128 MB stem cells: a full sandbox start
    }
    await put('warm', 256);
    const warm = await latency(
      `${whirl.url}/api/v1/namespaces/_/actions/warm?blocking=true&result=true`,
      { method: 'POST', headers: auth, body: '{}' },
      quick ? 200 : 1000,
      50,
    );
    return {
      coldPrewarmedMs: median(prewarmed),
      coldNewSandboxMs: median(fresh),
      warmInvokeP50Ms: warm.p50,
      samples: { prewarmed, fresh },
    };
  } finally {
    await whirl.stop();
  }
}

/** Why the docker backend cannot be measured here, or undefined when it can. */
async function dockerProblem() {
  const { DockerEngine } = await import(dist('sandbox/docker/engine.js'));
  const e = new DockerEngine();
  try {
    await e.connect();
    return undefined;
  } catch (err) {
    return `Docker unavailable: ${err.message}`;
  } finally {
    e.close();
  }
}

const results = {
  date: new Date().toISOString(),
  machine: {
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  },
  settings: { starts: STARTS, warmRuns: WARM_RUNS, pauses: PAUSES, coldRuns: COLD_RUNS },
  backends: {},
};
const dockerSkip = await dockerProblem();
for (const backend of ['process', 'docker']) {
  if (backend === 'docker' && dockerSkip !== undefined) {
    results.backends.docker = { skipped: dockerSkip };
    continue;
  }
  console.log(`sandboxes: ${backend} backend...`);
  results.backends[backend] = {
    sandbox: await sandboxFigures(backend),
    standalone: await standaloneFigures(backend),
  };
}

const p = results.backends.process;
const d = results.backends.docker;
const row = (label, pick) => {
  const pv = pick(p);
  const dv = d.skipped ? undefined : pick(d);
  return [
    label,
    `${fmt(pv)} ms`,
    d.skipped ? 'skipped' : `${fmt(dv)} ms`,
    d.skipped ? '' : `${fmt(dv / pv)}x`,
  ];
};
const rows = [
  row('sandbox start (runtime listening)', (b) => b.sandbox.startMs),
  row('first /init + /run', (b) => b.sandbox.firstInitRunMs),
  row('warm /run p50', (b) => b.sandbox.warmRunP50Ms),
  row('pause', (b) => b.sandbox.pauseMs),
  row('resume', (b) => b.sandbox.resumeMs),
  row('first /run after resume', (b) => b.sandbox.runAfterResumeMs),
  row('destroy', (b) => b.sandbox.destroyMs),
  row('invoke, cold, prewarmed stem cell', (b) => b.standalone.coldPrewarmedMs),
  row('invoke, cold, new sandbox', (b) => b.standalone.coldNewSandboxMs),
  row('invoke, warm p50', (b) => b.standalone.warmInvokeP50Ms),
];
console.log('\nfigure (nodejs)                       process       docker        docker/process');
for (const r of rows) console.log(`${r[0].padEnd(38)}${r[1].padEnd(14)}${r[2].padEnd(14)}${r[3]}`);
if (d.skipped) console.log(`\ndocker: ${d.skipped}`);
const file = join(root, 'bench', 'results', `sandboxes-${results.date.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nwritten to ${file}`);
