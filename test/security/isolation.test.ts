// Hostile and broken actions, run through the real platform, that try to reach what is not theirs or to
// exhaust the machine; each attempt must fail, and the platform and its other tenants must carry on.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestWhirl, type TestWhirl } from '../helpers/in-process.js';

const A = '/api/v1/namespaces/_/actions';
const root = process.getuid?.() === 0;

async function create(w: TestWhirl, name: string, code: string, extra: object = {}) {
  const r = await w.call('PUT', `${A}/${name}?overwrite=true`, {
    exec: { kind: 'nodejs:20', code },
    ...extra,
  });
  expect(r.statusCode, r.body).toBe(200);
}
async function invoke(w: TestWhirl, name: string, params: object = {}) {
  return (await w.call('POST', `${A}/${name}?blocking=true`, params)).json();
}

describe.runIf(root)('sandbox isolation through the platform', () => {
  let w: TestWhirl;
  const listeners: net.Server[] = [];
  beforeAll(async () => {
    w = await startTestWhirl();
    expect(w.isolation.isolated).toBe(true);
    await create(w, 'healthy', 'function main(p) { return { ok: true, n: p.n } }');
  });
  afterAll(async () => {
    listeners.forEach((l) => l.close());
    await w.cleanup();
  });

  it("cannot read the store, the data directory, home directories or another action's code", async () => {
    await create(
      w,
      'secretholder',
      'const SECRET = "s3cr3t-" + "canary-77"; function main() { return { held: SECRET.length } }',
    );
    await invoke(w, 'secretholder');
    const code = `function main(p) {
      const fs = require('fs');
      const tryRead = (f) => { try { return fs.readFileSync(f, 'utf8').slice(0, 50); } catch (e) { return e.code; } };
      const found = [];
      const walk = (dir, depth) => {
        if (depth > 6) return;
        let entries; try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
        for (const e of entries) {
          const f = (dir === '/' ? '' : dir) + '/' + e.name;
          if (f.startsWith('/proc') || f.startsWith('/sys') || f.startsWith('/usr') || f.startsWith('/dev')) continue;
          if (e.isDirectory()) walk(f, depth + 1);
          else if (e.isFile()) {
            try { if (fs.statSync(f).size < 4e6 && fs.readFileSync(f).includes('canary-77')) found.push(f); } catch {}
          }
        }
      };
      walk('/', 0);
      const procs = fs.readdirSync('/proc').filter((x) => /^\\d+$/.test(x));
      const cmdlines = procs.map((p) => tryRead('/proc/' + p + '/cmdline'));
      return { db: tryRead(p.db), dataDir: tryRead(p.dataDir), home: tryRead('/root/.wskprops'),
        etcShadow: tryRead('/etc/shadow'), found, procs: procs.length,
        seesOthers: cmdlines.some((c) => typeof c === 'string' && c.includes('canary')) };
    }`;
    await create(w, 'snoop', code);
    const r = (await invoke(w, 'snoop', { db: join(w.dataDir, 'whirl.db'), dataDir: w.dataDir })).response
      .result;
    expect(r).toMatchObject({
      db: 'ENOENT',
      dataDir: 'ENOENT',
      home: 'ENOENT',
      etcShadow: 'ENOENT',
      found: [],
      seesOthers: false,
    });
    expect(r.procs).toBeLessThan(5);
  });

  it('cannot signal other sandboxes or the platform', async () => {
    await create(
      w,
      'killer',
      `function main(p) {
      const res = {};
      // The platform's pid, as the host sees it: invisible from the sandbox's pid namespace.
      try { process.kill(${process.pid}, 'SIGKILL'); res.platform = 'sent'; } catch (e) { res.platform = e.code; }
      // Every process this uid may signal: only the sandbox's own ones, its runtime included.
      if (p.all) require('child_process').spawnSync('sh', ['-c', 'kill -9 -1']);
      return res;
    }`,
    );
    const before = await invoke(w, 'healthy', { n: 1 });
    expect(before.response.result).toEqual({ ok: true, n: 1 });
    expect((await invoke(w, 'killer')).response.result).toEqual({ platform: 'ESRCH' });
    // Killing everything it can reach ends only its own activation, as a crash would.
    const all = await invoke(w, 'killer', { all: true });
    expect(all.response.status).toBe('action developer error');
    expect((await invoke(w, 'healthy', { n: 2 })).response.result).toEqual({ ok: true, n: 2 });
    expect((await invoke(w, 'killer')).response.result).toEqual({ platform: 'ESRCH' });
  });

  it("cannot connect to the host's services or other sandboxes, but reaches the Whirl API", async () => {
    const hostService = net.createServer((c) => c.end('internal'));
    listeners.push(hostService);
    await new Promise<void>((r) => hostService.listen(0, '0.0.0.0', r));
    const port = (hostService.address() as net.AddressInfo).port;
    await create(
      w,
      'dialer',
      `function main(p) {
      const net = require('net');
      const tryConnect = (host, port) => new Promise((resolve) => {
        const s = net.connect({ host, port, timeout: 1500 });
        s.on('connect', () => { s.destroy(); resolve('open'); });
        s.on('timeout', () => { s.destroy(); resolve('timeout'); });
        s.on('error', (e) => resolve(e.code));
      });
      const api = new URL(process.env.__OW_API_HOST);
      return Promise.all([
        tryConnect(api.hostname, Number(api.port)),
        tryConnect('127.0.0.1', p.port), tryConnect(api.hostname, p.port),
        tryConnect('127.0.0.1', 5432), tryConnect(api.hostname, 5432), tryConnect(api.hostname, 4222),
        tryConnect('169.254.169.254', 80),
      ]).then((r) => ({ api: r[0], others: r.slice(1) }));
    }`,
    );
    const r = (await invoke(w, 'dialer', { port })).response.result;
    expect(r.api).toBe('open');
    for (const o of r.others) expect(o).not.toBe('open');
  });

  it('keeps an action annotated outbound-network: false off the outside network, API still reachable', async () => {
    const code = `function main() {
      const routes = require('fs').readFileSync('/proc/net/route', 'utf8').trim().split('\\n').slice(1);
      const api = new URL(process.env.__OW_API_HOST);
      return new Promise((resolve) => require('http').get(api.href + 'api/v1', (res) => { res.resume();
        resolve({ defaultRoute: routes.some((r) => r.split('\\t')[1] === '00000000'), api: res.statusCode }); })
        .on('error', (e) => resolve({ error: e.message })));
    }`;
    await create(w, 'closed', code, { annotations: [{ key: 'outbound-network', value: false }] });
    await create(w, 'open', code);
    expect((await invoke(w, 'closed')).response.result).toEqual({ defaultRoute: false, api: 200 });
    expect((await invoke(w, 'open')).response.result).toEqual({ defaultRoute: true, api: 200 });
  });

  it('contains a fork bomb and keeps serving others', async () => {
    await create(
      w,
      'bomb',
      `function main() {
      const { spawn } = require('child_process');
      let n = 0;
      for (let i = 0; i < 5000; i++) { const c = spawn('sleep', ['60'], { stdio: 'ignore' }); c.on('error', () => {}); if (!c.pid) break; n++; }
      return { started: n };
    }`,
    );
    const r = await invoke(w, 'bomb');
    expect(r.response.result.started).toBeLessThan(512);
    expect((await invoke(w, 'healthy', { n: 3 })).response.result).toEqual({ ok: true, n: 3 });
  });

  it('bounds files written to /tmp', async () => {
    await create(
      w,
      'filler',
      `function main() {
      const fs = require('fs'); const chunk = Buffer.alloc(1 << 20, 1); let mb = 0;
      try { for (; mb < 4096; mb++) fs.appendFileSync('/tmp/fill', chunk); } catch (e) { return { mb, error: e.code }; }
      return { mb };
    }`,
      { limits: { memory: 256 } },
    );
    const r = await invoke(w, 'filler');
    // Either the tmpfs fills (ENOSPC) or the memory cgroup ends the action: never 4 GB on the host.
    if (r.response.status === 'success') {
      expect(r.response.result.error).toBe('ENOSPC');
      expect(r.response.result.mb).toBeLessThanOrEqual(256);
    } else {
      expect(r.response.result.error).toBe('The action exhausted its memory and was aborted.');
    }
    expect((await invoke(w, 'healthy', { n: 4 })).response.status).toBe('success');
  });

  it('stops a process that ignores SIGTERM when its container goes, and reaps children after the activation', async () => {
    await create(
      w,
      'stubborn',
      `function main(p) {
      const { spawn, execSync } = require('child_process');
      if (p.start) {
        spawn('sh', ['-c', 'trap "" TERM; while :; do sleep 1; done'], { detached: true, stdio: 'ignore' }).unref();
        return { started: true };
      }
      const ps = execSync('ps -eo stat,args').toString().split('\\n');
      return { survivors: ps.filter((l) => l.includes('while :')).length,
        zombies: ps.filter((l) => l.startsWith('Z')).length };
    }`,
    );
    // Each round leaves a killed grandchild (the shell's sleep) re-parented to the sandbox's pid 1: left
    // unreaped, such zombies would pile up against the pids limit of a long-lived container.
    for (let round = 0; round < 3; round++) {
      expect((await invoke(w, 'stubborn', { start: true })).response.result).toEqual({ started: true });
      await new Promise((r) => setTimeout(r, 300));
      expect((await invoke(w, 'stubborn')).response.result).toEqual({ survivors: 0, zombies: 0 });
    }
  });

  it('ends an activation whose sandbox is killed from outside with the developer error, and serves the next', async () => {
    await create(
      w,
      'victim',
      `function main(p) {
      require('fs').writeFileSync('/tmp/victim-marker', 'here');
      return new Promise((r) => setTimeout(() => r({ done: true }), p.ms));
    }`,
    );
    const pending = invoke(w, 'victim', { ms: 5000 });
    // Find the victim's runtime process from the host: its private /tmp holds the marker.
    let victim: number | undefined;
    for (let i = 0; i < 100 && victim === undefined; i++) {
      await new Promise((r) => setTimeout(r, 50));
      victim = readdirSync('/proc')
        .filter((d) => /^\d+$/.test(d))
        .map(Number)
        .find((pid) => {
          try {
            return (
              readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('nodejs/main.js') &&
              existsSync(`/proc/${pid}/root/tmp/victim-marker`)
            );
          } catch {
            return false;
          }
        });
    }
    expect(victim).toBeDefined();
    process.kill(victim!, 'SIGKILL');
    const r = await pending;
    expect(r.response.status).toBe('action developer error');
    expect(r.response.result.error).toBe(
      'The action did not produce a valid response and exited unexpectedly.',
    );
    // Only what the action and the platform said: nothing from the sandbox's own pid 1.
    expect(r.logs.join('\n')).not.toContain('Killed');
    expect((await invoke(w, 'victim', { ms: 1 })).response.result).toEqual({ done: true });
  });
});
