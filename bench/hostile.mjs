// A well-behaved tenant's warm invoke latency, alone and next to a hostile neighbour (another namespace
// running CPU spins, memory hogs, fork bombs and log floods), measured in the same run.
//   node bench/hostile.mjs [--quick]      results printed and written to bench/results/hostile-<date>.json
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { latency } from './load.mjs';
import { KEY, LIMITS, headers as header, root, startStandalone, whirlBin } from './whirl.mjs';

const quick = process.argv.includes('--quick');
const COUNT = quick ? 300 : 1500;

const whirl = await startStandalone([], { guest: LIMITS, mallory: LIMITS });
const url = whirl.url;
const admin = (...args) =>
  execFileSync(process.execPath, [whirlBin, 'admin', ...args, '--data-dir', whirl.dataDir])
    .toString()
    .trim();
const hostileKey = admin('user', 'create', 'mallory');

async function put(key, name, body) {
  const r = await fetch(`${url}/api/v1/namespaces/_/actions/${name}?overwrite=true`, {
    method: 'PUT',
    headers: header(key),
    body: JSON.stringify(body),
  });
  if (r.status !== 200) throw new Error(`${name}: ${r.status} ${await r.text()}`);
}
await put(KEY, 'noop', { exec: { kind: 'nodejs:20', code: 'function main() { return {} }' } });
const hostile = {
  spin: { code: 'function main() { for (;;) {} }', limits: { timeout: 2000, memory: 128 } },
  hog: {
    code: 'function main() { const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1)) }',
    limits: { memory: 128 },
  },
  bomb: {
    code: `function main() { const { spawn } = require('child_process'); for (let i = 0; i < 3000; i++) { const c = spawn('sleep', ['5'], { stdio: 'ignore' }); c.on('error', () => {}); if (!c.pid) break; } return new Promise((r) => setTimeout(() => r({}), 1000)) }`,
    limits: { memory: 128 },
  },
  flood: {
    code: 'function main() { for (let i = 0; i < 100000; i++) console.log("x".repeat(100)); return {} }',
    limits: { memory: 128 },
  },
};
for (const [name, a] of Object.entries(hostile))
  await put(hostileKey, name, { exec: { kind: 'nodejs:20', code: a.code }, limits: a.limits });

const invoke = `${url}/api/v1/namespaces/_/actions/noop?blocking=true&result=true`;
console.log(`alone: ${COUNT} warm invokes...`);
const alone = await latency(invoke, { method: 'POST', headers: header(KEY), body: '{}' }, COUNT);

let running = true;
let hostileRuns = 0;
const agent = new http.Agent({ keepAlive: true });
const attacker = async (name) => {
  while (running) {
    await new Promise((resolve) => {
      const req = http.request(
        `${url}/api/v1/namespaces/_/actions/${name}?blocking=true`,
        { method: 'POST', agent, headers: header(hostileKey) },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', resolve);
      req.end('{}');
    });
    hostileRuns++;
  }
};
const attackers = Object.keys(hostile).flatMap((n) => [attacker(n), attacker(n)]);
await new Promise((r) => setTimeout(r, 2000));
console.log(`next to a hostile neighbour: ${COUNT} warm invokes...`);
const neighbour = await latency(invoke, { method: 'POST', headers: header(KEY), body: '{}' }, COUNT, 50);
running = false;
await Promise.all(attackers);

const results = {
  date: new Date().toISOString(),
  requests: COUNT,
  alone,
  withHostileNeighbour: neighbour,
  hostileActivations: hostileRuns,
  ratios: { p50: neighbour.p50 / alone.p50, p99: neighbour.p99 / alone.p99 },
};
const f = (n) => n.toFixed(2);
console.log(`\n                        p50 ms   p99 ms   errors`);
console.log(`alone                   ${f(alone.p50).padEnd(9)}${f(alone.p99).padEnd(9)}${alone.errors}`);
console.log(
  `hostile neighbour       ${f(neighbour.p50).padEnd(9)}${f(neighbour.p99).padEnd(9)}${neighbour.errors}   (${hostileRuns} hostile activations meanwhile)`,
);
console.log(`ratio                   ${f(results.ratios.p50).padEnd(9)}${f(results.ratios.p99)}`);
const file = join(root, 'bench', 'results', `hostile-${results.date.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
console.log(`written to ${file}`);
await whirl.stop();
