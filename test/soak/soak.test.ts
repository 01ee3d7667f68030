// A bounded soak: well-behaved and hostile actions mixed for a while, through a real standalone Whirl.
// Every accepted activation must end with a record, the server's memory must stay bounded, and no sandbox
// process may leak. WHIRL_SOAK_SECONDS sets the length (default 60).
import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWhirl, type Whirl } from '../helpers/standalone.js';

const SECONDS = Number(process.env.WHIRL_SOAK_SECONDS ?? 60);
const WORKERS = 8;

const ACTIONS: Record<string, { code: string; limits?: object; weight: number }> = {
  echo: { code: 'function main(p) { return p }', weight: 40 },
  slow: {
    code: 'function main() { return new Promise((r) => setTimeout(() => r({ slept: true }), 200)) }',
    weight: 10,
  },
  crash: { code: 'function main() { process.exit(1) }', weight: 5 },
  hog: {
    code: 'function main() { const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1)) }',
    limits: { memory: 128 },
    weight: 3,
  },
  spin: { code: 'function main() { for (;;) {} }', limits: { timeout: 300 }, weight: 3 },
  flood: {
    code: 'function main() { for (let i = 0; i < 20000; i++) console.log("flood " + i); return {} }',
    limits: { logs: 1 },
    weight: 3,
  },
  huge: { code: 'function main() { return { s: "x".repeat(3 << 20) } }', weight: 3 },
  bomb: {
    code: `function main() { const { spawn } = require('child_process'); for (let i = 0; i < 2000; i++) { const c = spawn('sleep', ['30'], { stdio: 'ignore' }); c.on('error', () => {}); if (!c.pid) break; } return {} }`,
    weight: 2,
  },
  py: { code: 'def main(a):\n    return {"py": True}\n', weight: 10 },
};

function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] !== 'Z') parent.set(Number(e), Number(fields[1]));
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [c, pp] of parent) {
      if (pp !== p) continue;
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

describe('soak: hostile and well-behaved actions together', () => {
  let w: Whirl;
  const headers = (w: Whirl) => ({
    authorization: `Basic ${Buffer.from(w.guestKey).toString('base64')}`,
    'content-type': 'application/json',
  });
  beforeAll(async () => {
    w = await startWhirl();
    for (const [name, a] of Object.entries(ACTIONS)) {
      const r = await fetch(`${w.url}/api/v1/namespaces/_/actions/${name}`, {
        method: 'PUT',
        headers: headers(w),
        body: JSON.stringify({
          exec: { kind: name === 'py' ? 'python:3' : 'nodejs:20', code: a.code },
          ...(a.limits ? { limits: a.limits } : {}),
        }),
      });
      expect(r.status).toBe(200);
    }
  });
  afterAll(async () => w.cleanup());

  it(
    `keeps every promise for ${SECONDS} s`,
    async () => {
      const pick = (() => {
        const bag = Object.entries(ACTIONS).flatMap(([n, a]) => Array<string>(a.weight).fill(n));
        return () => bag[Math.floor(Math.random() * bag.length)]!;
      })();
      const accepted = new Set<string>();
      const statuses = new Map<number, number>();
      const rss: number[] = [];
      let maxSandboxes = 0;
      const end = Date.now() + SECONDS * 1000;
      const sampler = setInterval(() => {
        rss.push(rssMB(w.process.pid!));
        maxSandboxes = Math.max(maxSandboxes, descendants(w.process.pid!).length);
      }, 1000);
      const worker = async () => {
        while (Date.now() < end) {
          const name = pick();
          const blocking = Math.random() < 0.5;
          const r = await fetch(`${w.url}/api/v1/namespaces/_/actions/${name}?blocking=${blocking}`, {
            method: 'POST',
            headers: headers(w),
            body: JSON.stringify({ n: Math.random() }),
          });
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          const id = r.headers.get('x-openwhisk-activation-id');
          if (id !== null) accepted.add(id);
          await r.arrayBuffer();
        }
      };
      await Promise.all(Array.from({ length: WORKERS }, worker));
      clearInterval(sampler);

      // Every accepted activation ends with a record.
      const missing = new Set(accepted);
      for (let round = 0; round < 120 && missing.size > 0; round++) {
        for (const id of [...missing]) {
          const r = await fetch(`${w.url}/api/v1/namespaces/_/activations/${id}`, { headers: headers(w) });
          if (r.status === 200) missing.delete(id);
          await r.arrayBuffer();
        }
        if (missing.size > 0) await new Promise((r) => setTimeout(r, 500));
      }
      const first = rss[Math.floor(rss.length / 3)] ?? 0;
      const last = rss[rss.length - 1] ?? 0;
      console.log(
        `soak: ${accepted.size} activations accepted in ${SECONDS} s, ${missing.size} without a record; ` +
          `statuses ${JSON.stringify(Object.fromEntries(statuses))}; server RSS ${Math.round(Math.min(...rss))}-${Math.round(Math.max(...rss))} MB ` +
          `(a third in ${Math.round(first)}, at the end ${Math.round(last)}); at most ${maxSandboxes} sandbox processes`,
      );
      expect(missing.size).toBe(0);
      expect(accepted.size).toBeGreaterThan(SECONDS);
      // Successes, 202s and the actions' own failures (502): never a platform error.
      for (const s of statuses.keys()) expect([200, 202, 502]).toContain(s);
      expect(Math.max(...rss)).toBeLessThan(600);
      expect(last - first).toBeLessThan(150);

      // Once stopped, nothing is left behind.
      const before = descendants(w.process.pid!);
      expect(await w.stop()).toBe(0);
      await new Promise((r) => setTimeout(r, 500));
      const survivors = before.filter((p) => {
        try {
          const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
          return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
        } catch {
          return false;
        }
      });
      expect(survivors).toEqual([]);
    },
    (SECONDS + 180) * 1000,
  );
});
