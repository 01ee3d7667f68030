// Load generation for the benchmarks: keep-alive HTTP clients measuring latency and throughput.
import http from 'node:http';

/** One request; resolves with [status, latency in ms]. */
export function request(agent, url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = http.request(url, { method, agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve([res.statusCode, Number(process.hrtime.bigint() - t0) / 1e6]));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Sequential requests on one connection: p50/p99 latency. */
export async function latency(url, opts, count, warmup = 200) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < warmup; i++) await request(agent, url, opts);
  const times = [];
  let errors = 0;
  for (let i = 0; i < count; i++) {
    const [status, ms] = await request(agent, url, opts);
    if (status >= 300) errors++;
    times.push(ms);
  }
  agent.destroy();
  times.sort((a, b) => a - b);
  return {
    count,
    errors,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    mean: times.reduce((a, b) => a + b, 0) / count,
  };
}

/** `connections` concurrent request loops for `seconds`: requests per second. */
export async function throughput(url, opts, connections, seconds) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const warmEnd = Date.now() + 1000;
  const loop = async (until, tally) => {
    while (Date.now() < until) {
      const [status, ms] = await request(agent, url, opts);
      tally.push([status, ms]);
    }
  };
  await Promise.all(Array.from({ length: connections }, () => loop(warmEnd, [])));
  const tally = [];
  const t0 = Date.now();
  const end = t0 + seconds * 1000;
  await Promise.all(Array.from({ length: connections }, () => loop(end, tally)));
  const elapsed = (Date.now() - t0) / 1000;
  agent.destroy();
  const times = tally.map(([, ms]) => ms).sort((a, b) => a - b);
  return {
    connections,
    seconds: elapsed,
    requests: tally.length,
    errors: tally.filter(([s]) => s >= 300).length,
    rps: tally.length / elapsed,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
  };
}
