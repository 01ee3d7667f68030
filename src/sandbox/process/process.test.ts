import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineSandboxContract, sandboxHandle } from '../sandbox.contract.js';
import { ProcessSandboxFactory } from './process-sandbox.js';

let isolated: ProcessSandboxFactory;
let plain: ProcessSandboxFactory;
beforeAll(async () => {
  isolated = await ProcessSandboxFactory.open({
    runDir: mkdtempSync(join(tmpdir(), 'wsi-')),
    instance: `test-${process.pid}`,
  });
  plain = await ProcessSandboxFactory.open({
    runDir: mkdtempSync(join(tmpdir(), 'wsp-')),
    instance: `plain-${process.pid}`,
    isolation: 'off',
  });
});
afterAll(async () => {
  await isolated.close();
  await plain.close();
});

defineSandboxContract('process (isolated where the host allows)', () => isolated);
defineSandboxContract('process (isolation off)', () => plain);

/** Runs a shell script as a native action in an isolated sandbox and returns its JSON answer. */
async function probe(script: string, memoryMB = 128): Promise<Record<string, unknown>> {
  const h = sandboxHandle(
    await isolated.create({
      id: `p${randomUUID().slice(0, 8)}`,
      family: 'native',
      memoryMB,
      concurrency: 1,
      env: {},
    }),
  );
  try {
    const init = await h.request('/init', {
      value: { name: 'probe', main: 'main', code: `#!/bin/sh\n${script}`, binary: false },
    });
    expect(init.status, init.text).toBe(200);
    const r = await h.request('/run', { value: {} });
    return r.body as Record<string, unknown>;
  } finally {
    await h.stop();
  }
}

describe('process sandbox isolation (Linux, root)', () => {
  it.runIf(process.getuid?.() === 0)('is isolated on this host', () => {
    expect(isolated.isolation).toMatchObject({ isolated: true, namespaces: true, cgroups: true });
  });

  it.runIf(process.getuid?.() === 0)(
    'runs actions as nobody, without the host files, data or other processes',
    async () => {
      const secret = join(tmpdir(), `whirl-secret-${process.pid}`);
      writeFileSync(secret, 'top secret');
      const r = await probe(`
      uid=$(id -u)
      procs=$(ls /proc | grep -c '^[0-9]')
      home=$(ls /root 2>/dev/null | wc -l)
      work=$(test -e /work && echo yes || echo no)
      secret=$(cat ${secret} 2>/dev/null || echo none)
      cg=$(test -e /sys/fs/cgroup && echo yes || echo no)
      ro=$(touch /usr/x 2>/dev/null && echo writable || echo readonly)
      tmp=$(echo hi > /tmp/f && cat /tmp/f)
      echo "{\\"uid\\":\\"$uid\\",\\"procs\\":$procs,\\"home\\":$home,\\"work\\":\\"$work\\",\\"secret\\":\\"$secret\\",\\"cg\\":\\"$cg\\",\\"usr\\":\\"$ro\\",\\"tmp\\":\\"$tmp\\"}"
    `);
      expect(r).toMatchObject({
        uid: '65534',
        home: 0,
        work: 'no',
        secret: 'none',
        cg: 'no',
        usr: 'readonly',
        tmp: 'hi',
      });
      // Only the sandbox's own processes: the proxy, the action and the probe's helpers.
      expect(r.procs).toBeLessThan(10);
    },
  );

  it.runIf(process.getuid?.() === 0)(
    'closes the socket directory (on the host disk) to the action once the proxy listens',
    async () => {
      const r = await probe(`
      file=$(dd if=/dev/zero of=/run/whirl/fill bs=1M count=8 2>/dev/null && echo written || echo refused)
      dir=$(mkdir /run/whirl/d 2>/dev/null && echo made || echo refused)
      sock=$(test -S /run/whirl/proxy.sock && echo kept || echo gone)
      gone=$(rm -f /run/whirl/proxy.sock 2>/dev/null; test -S /run/whirl/proxy.sock && echo kept || echo gone)
      echo "{\\"file\\":\\"$file\\",\\"dir\\":\\"$dir\\",\\"sock\\":\\"$sock\\",\\"rm\\":\\"$gone\\"}"
    `);
      // /tmp is the action's scratch space (a tmpfs bounded by its memory: isolation.test.ts).
      expect(r).toEqual({ file: 'refused', dir: 'refused', sock: 'kept', rm: 'kept' });
    },
  );

  it.runIf(process.getuid?.() === 0)('kills a memory hog inside its limit and reports it', async () => {
    const s = await isolated.create({
      id: `m${randomUUID().slice(0, 8)}`,
      family: 'nodejs',
      memoryMB: 128,
      concurrency: 1,
      env: {},
    });
    const h = sandboxHandle(s);
    await h.request('/init', {
      value: {
        name: 'hog',
        main: 'main',
        code: 'function main(){const a=[];for(;;)a.push(Buffer.alloc(1<<20,1))}',
        binary: false,
      },
    });
    await expect(h.request('/run', { value: {} })).rejects.toThrow();
    expect((await s.exited).oomKilled).toBe(true);
    await h.stop();
  });

  it.runIf(process.getuid?.() === 0)('contains a fork bomb with the pids limit', async () => {
    const h = sandboxHandle(
      await isolated.create({
        id: `f${randomUUID().slice(0, 8)}`,
        family: 'nodejs',
        memoryMB: 256,
        concurrency: 1,
        env: {},
      }),
    );
    try {
      const code = `function main() {
        const { spawn } = require('child_process');
        const kids = [];
        for (let i = 0; i < 2000; i++) {
          const c = spawn('sleep', ['30'], { stdio: 'ignore' });
          c.on('error', () => {});
          if (c.pid === undefined) break;
          kids.push(c);
        }
        for (const k of kids) k.kill('SIGKILL');
        return { started: kids.length };
      }`;
      await h.request('/init', { value: { name: 'bomb', main: 'main', code, binary: false } });
      const r = await h.request('/run', { value: {} });
      expect(r.status, r.text).toBe(200);
      expect(r.body.started).toBeGreaterThan(10);
      expect(r.body.started).toBeLessThan(512);
    } finally {
      await h.stop();
    }
  });
});

/** A nodejs action in an isolated sandbox that tries TCP connections and reports which ones succeeded. */
const CONNECT_PROBE = `function main(p) {
  const net = require('net');
  const attempt = (t) => new Promise((resolve) => {
    const s = net.connect({ host: t.host, port: t.port, timeout: 1500 });
    s.on('connect', () => { s.destroy(); resolve('open'); });
    s.on('timeout', () => { s.destroy(); resolve('timeout'); });
    s.on('error', (e) => resolve(e.code));
  });
  return Promise.all(p.targets.map(attempt)).then((r) => ({ results: r, api: process.env.__OW_API_HOST,
    routes: require('fs').readFileSync('/proc/net/route', 'utf8').split('\\n').length - 2 }));
}`;

describe('process sandbox network (Linux, root, nftables)', () => {
  const servers: import('node:net').Server[] = [];
  afterAll(() => servers.forEach((s) => s.close()));
  const listen = async (host: string) => {
    const net = await import('node:net');
    const server = net.createServer((c) => c.end('hello'));
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, host, r));
    return (server.address() as import('node:net').AddressInfo).port;
  };
  const hostAddress = async () => {
    const { networkInterfaces } = await import('node:os');
    return Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  };

  async function connectFrom(
    targets: { host: string; port: number }[],
    env: Record<string, string>,
    network?: 'api-only',
  ) {
    const h = sandboxHandle(
      await isolated.create({
        id: `n${randomUUID().slice(0, 8)}`,
        family: 'nodejs',
        memoryMB: 128,
        concurrency: 1,
        env,
        ...(network ? { network } : {}),
      }),
    );
    try {
      await h.request('/init', {
        value: { name: 'probe', main: 'main', code: CONNECT_PROBE, binary: false },
      });
      return (await h.request('/run', { value: { targets } })).body as {
        results: string[];
        api: string;
        routes: number;
      };
    } finally {
      await h.stop();
    }
  }

  it.runIf(process.getuid?.() === 0)('has its own network', () => {
    expect(isolated.isolation.network).toBe(true);
  });

  it.runIf(process.getuid?.() === 0)(
    'reaches the Whirl API through its gateway, but no other service of the host',
    async () => {
      const apiPort = await listen('127.0.0.1');
      const loopbackService = await listen('127.0.0.1');
      const anyService = await listen('0.0.0.0');
      const r = await connectFrom([], { __OW_API_HOST: `http://127.0.0.1:${apiPort}` });
      const api = new URL(r.api);
      expect(api.hostname).toMatch(/^10\.233\.\d+\.1$/);
      const external = await hostAddress();
      const probe = await connectFrom(
        [
          { host: api.hostname, port: Number(api.port) },
          { host: api.hostname, port: anyService },
          { host: '127.0.0.1', port: loopbackService },
          { host: '127.0.0.1', port: 5432 },
          ...(external === undefined ? [] : [{ host: external, port: anyService }]),
        ],
        { __OW_API_HOST: `http://127.0.0.1:${apiPort}` },
      );
      expect(probe.results[0]).toBe('open');
      expect(probe.results.slice(1).every((x) => x !== 'open')).toBe(true);
    },
  );

  it.runIf(process.getuid?.() === 0)('cannot reach a service of another sandbox', async () => {
    const serverCode = `const net = require('net'); const srv = net.createServer((c) => c.end('x')); srv.listen(7777, '0.0.0.0');
      function main() { const ips = Object.values(require('os').networkInterfaces()).flat().filter((i) => !i.internal && i.family === 'IPv4');
      return { ip: ips[0] && ips[0].address }; }`;
    const a = sandboxHandle(
      await isolated.create({
        id: `a${randomUUID().slice(0, 8)}`,
        family: 'nodejs',
        memoryMB: 128,
        concurrency: 1,
        env: {},
      }),
    );
    try {
      await a.request('/init', { value: { name: 'srv', main: 'main', code: serverCode, binary: false } });
      const ip = ((await a.request('/run', { value: {} })).body as { ip: string }).ip;
      expect(ip).toMatch(/^10\.233\./);
      const probe = await connectFrom([{ host: ip, port: 7777 }], {});
      expect(probe.results[0]).not.toBe('open');
    } finally {
      await a.stop();
    }
  });

  it.runIf(process.getuid?.() === 0)('has a default route unless it is API-only', async () => {
    expect((await connectFrom([], {})).routes).toBe(2);
    expect((await connectFrom([], {}, 'api-only')).routes).toBe(1);
  });
});
