import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActivationMessages } from '../../core/activation.js';
import { Container } from '../../invoker/container.js';
import { ContainerPool } from '../../invoker/pool.js';
import { ActivationLogs } from '../../invoker/logs.js';
import { defineSandboxContract, sandboxHandle } from '../sandbox.contract.js';
import type { Sandbox, SandboxSpec } from '../sandbox.js';
import { DockerEngine } from './engine.js';
import { DockerSandboxFactory } from './docker-sandbox.js';
import { probeDocker } from './testing/docker-available.js';
import { buildProtocolImage } from './testing/protocol-image.js';

const docker = await probeDocker();
if (!docker.ok) console.warn(`docker sandbox tests skipped: ${docker.reason}`);
const INSTANCE = 'vitest-docker';

let factory: DockerSandboxFactory;
let engine: DockerEngine;
let protocolImage: string;

const spec = (o: Partial<SandboxSpec> = {}): SandboxSpec => ({
  id: `t${randomUUID().slice(0, 8)}`,
  family: 'nodejs',
  memoryMB: 128,
  concurrency: 1,
  env: {},
  ...o,
});

interface ContainerInfo {
  State: { Paused: boolean; Running: boolean };
  Config: { Labels: Record<string, string>; User: string };
  HostConfig: Record<string, unknown>;
}

function inspect(s: Sandbox): Promise<ContainerInfo> {
  return engine.json<ContainerInfo>(
    'GET',
    `/containers/${(s as unknown as { containerId: string }).containerId}/json`,
  );
}

async function initRun(s: Sandbox, code: string, args: unknown = {}) {
  const h = sandboxHandle(s);
  const init = await h.request('/init', { value: { name: 'probe', main: 'main', code, binary: false } });
  expect(init.status, init.text).toBe(200);
  return { h, run: await h.request('/run', { value: args }) };
}

/** A nodejs action that tries TCP connections and says which succeeded. */
const CONNECT_PROBE = `function main(p) {
  const net = require('net');
  const attempt = (t) => new Promise((resolve) => {
    const s = net.connect({ host: t.host, port: t.port, timeout: 2000 });
    s.on('connect', () => { s.destroy(); resolve('open'); });
    s.on('timeout', () => { s.destroy(); resolve('timeout'); });
    s.on('error', (e) => resolve(e.code));
  });
  const lookup = p.lookup ? require('dns').promises.lookup(p.lookup).then((a) => a.address, (e) => e.code) : undefined;
  const api = process.env.__OW_API_HOST;
  const fetched = p.fetchApi ? fetch(api + '/hello').then((r) => r.text(), (e) => String(e)) : undefined;
  return Promise.all([Promise.all(p.targets.map(attempt)), lookup, fetched])
    .then(([results, address, body]) => ({ results, address, body, api }));
}`;

describe.skipIf(!docker.ok)(
  `docker sandbox backend${docker.ok ? '' : ` (skipped: ${docker.reason})`}`,
  () => {
    beforeAll(async () => {
      factory = await DockerSandboxFactory.open({ instance: INSTANCE });
      engine = new DockerEngine();
      await engine.connect();
      protocolImage = await buildProtocolImage(engine);
    }, 180_000);
    afterAll(async () => {
      await factory?.close();
      engine?.close();
    });

    defineSandboxContract('docker', () => factory, { concurrent: true });

    describe('containers', () => {
      it('reports itself isolated, with limits and its own network', () => {
        expect(factory.isolation).toMatchObject({
          isolated: true,
          namespaces: true,
          cgroups: true,
          network: true,
        });
      });

      it('applies the action limits, a read-only root and labels naming the instance', async () => {
        const s = await factory.create(spec({ family: 'native', memoryMB: 192 }));
        try {
          const info = await inspect(s);
          const mb = 192 * 1024 * 1024;
          expect(info.HostConfig).toMatchObject({
            Memory: mb,
            MemorySwap: mb,
            CpuShares: 768,
            PidsLimit: 512,
            Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 1024 }],
            ReadonlyRootfs: true,
            CapDrop: ['ALL'],
            SecurityOpt: ['no-new-privileges'],
            Init: true,
            NetworkMode: `whirl-${INSTANCE}`,
            LogConfig: { Type: 'none' },
          });
          expect((info.HostConfig.Tmpfs as Record<string, string>)['/tmp']).toContain('size=192m');
          expect(info.Config.Labels).toMatchObject({ 'whirl.instance': INSTANCE, 'whirl.family': 'native' });
          // And as the action sees it.
          const { h, run } = await initRun(
            s,
            `#!/bin/sh
          ro=$(touch /usr/x 2>/dev/null && echo writable || echo read-only)
          tmp=$(echo hi > /tmp/f && cat /tmp/f)
          mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)
          echo "{\\"uid\\":\\"$(id -u)\\",\\"root\\":\\"$ro\\",\\"tmp\\":\\"$tmp\\",\\"nofile\\":\\"$(ulimit -n)\\",\\"mem\\":\\"$mem\\"}"`,
          );
          expect(run.body).toEqual({
            uid: '65534',
            root: 'read-only',
            tmp: 'hi',
            nofile: '1024',
            mem: String(mb),
          });
          await h.stop();
        } finally {
          await s.destroy();
        }
      });

      it('reports a memory hog as out of memory, as the invoker words it', async () => {
        const s = await factory.create(spec({ memoryMB: 128 }));
        const c = new Container(s, 'nodejs', 128, 1);
        try {
          const logs = new ActivationLogs(1024 * 1024);
          const init = await c.init(
            {
              name: 'hog',
              main: 'main',
              code: 'function main(){const a=[];for(;;)a.push(Buffer.alloc(1<<20,1))}',
              binary: false,
              env: {},
            },
            10_000,
            logs,
          );
          expect(init).toBeUndefined();
          const run = {
            value: {},
            namespace: 'guest',
            action_name: '/guest/hog',
            action_version: '0.0.1',
            activation_id: 'a1',
            transaction_id: 't1',
            deadline: String(Date.now() + 30_000),
          };
          const out = await c.run(run, 30_000, logs, 1024 * 1024);
          expect(out.response).toEqual({
            statusCode: 2,
            result: { error: ActivationMessages.memoryExhausted },
          });
          expect((await s.exited).oomKilled).toBe(true);
        } finally {
          await c.destroy();
        }
      });

      it('contains a fork bomb with the pids limit', async () => {
        const s = await factory.create(spec({ memoryMB: 256 }));
        try {
          const { run } = await initRun(
            s,
            `function main() {
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
          }`,
          );
          expect(run.status, run.text).toBe(200);
          expect(run.body.started).toBeGreaterThan(10);
          expect(run.body.started).toBeLessThan(512);
        } finally {
          await s.destroy();
        }
      });

      it('pauses and resumes: a request sent while paused is served after resume', async () => {
        const s = await factory.create(spec());
        try {
          const { h } = await initRun(s, 'function main(p){return p}');
          await s.pause();
          expect((await inspect(s)).State.Paused).toBe(true);
          let answered = false;
          const pending = h.request('/run', { value: { late: true } }).then((r) => {
            answered = true;
            return r;
          });
          await new Promise((r) => setTimeout(r, 300));
          expect(answered).toBe(false);
          await s.resume();
          expect((await pending).body).toEqual({ late: true });
          expect((await inspect(s)).State.Paused).toBe(false);
          // Resuming a running container, or pausing a paused one, is harmless.
          await s.resume();
          await s.pause();
          await s.pause();
          // And a paused container can be removed (the pool removes idle ones, often paused).
          await s.destroy();
          expect((await s.exited).signal).toBe('SIGKILL');
        } finally {
          await s.destroy();
        }
      });

      it('is paused by the pool when idle past the grace, and resumed when reused', async () => {
        const pool = new ContainerPool(factory, {
          memoryMB: 512,
          prewarm: [],
          idleTimeoutMs: 60_000,
          pauseGraceMs: 200,
          maxQueue: 10,
          env: {},
        });
        try {
          const req = {
            actionKey: 'guest|/guest/idle',
            rev: 1,
            kind: 'nodejs:20',
            family: 'nodejs' as const,
            memoryMB: 128,
            concurrency: 1,
          };
          const first = await pool.acquire(req);
          const h = sandboxHandle(first.container.sandbox);
          await h.request('/init', {
            value: { name: 'idle', main: 'main', code: 'function main(p){return p}' },
          });
          first.container.initialized = true;
          pool.release(first.container, false);
          // The pool's housekeeping runs every second.
          const until = Date.now() + 5000;
          while (!(await inspect(first.container.sandbox)).State.Paused && Date.now() < until) {
            await new Promise((r) => setTimeout(r, 100));
          }
          expect((await inspect(first.container.sandbox)).State.Paused).toBe(true);
          const again = await pool.acquire(req);
          expect(again).toMatchObject({ start: 'warm', container: first.container });
          expect((await inspect(again.container.sandbox)).State.Paused).toBe(false);
          expect((await h.request('/run', { value: { back: true } })).body).toEqual({ back: true });
          pool.release(again.container, false);
        } finally {
          await pool.close();
        }
      });

      it('reaps what an action left running, keeping the runtime', async () => {
        const s = await factory.create(spec());
        try {
          const { h, run } = await initRun(
            s,
            `function main(p) {
            if (p.check) { try { process.kill(p.check, 0); return { alive: true } } catch (e) { return { alive: false } } }
            const c = require('child_process').spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
            c.unref();
            return { pid: c.pid };
          }`,
          );
          const pid = run.body.pid as number;
          expect((await h.request('/run', { value: { check: pid } })).body).toEqual({ alive: true });
          await s.reap(() => false); // an activation arrived meanwhile: nothing is touched
          expect((await h.request('/run', { value: { check: pid } })).body).toEqual({ alive: true });
          await s.reap(() => true);
          await new Promise((r) => setTimeout(r, 200));
          expect((await h.request('/run', { value: { check: pid } })).body).toEqual({ alive: false });
        } finally {
          await s.destroy();
        }
      });

      it('removes leftovers of an earlier run of the same instance at start-up, and nothing else', async () => {
        const other = await factory.create(spec());
        const crashed = await DockerSandboxFactory.open({ instance: `${INSTANCE}-sweep` });
        const left = await crashed.create(spec());
        const leftId = (left as unknown as { containerId: string }).containerId;
        // The "crashed" factory is never closed: a new one with the same instance finds its container.
        const fresh = await DockerSandboxFactory.open({ instance: `${INSTANCE}-sweep` });
        try {
          await expect(engine.json('GET', `/containers/${leftId}/json`)).rejects.toMatchObject({
            status: 404,
          });
          expect((await left.exited).code).not.toBe(0);
          expect((await inspect(other)).State.Running).toBe(true);
        } finally {
          await fresh.close();
          await crashed.close();
          await other.destroy();
        }
      });
    });

    it('removes what a killed Whirl with another instance name left, when it starts', async () => {
      // A Whirl process (the compiled one) opens its own instance, starts a container and is killed -9.
      const script = `
      const { DockerSandboxFactory } = await import(${JSON.stringify(new URL('../../../dist/sandbox/docker/docker-sandbox.js', import.meta.url).href)});
      const f = await DockerSandboxFactory.open({ instance: 'vitest-orphan-' + process.pid });
      const s = await f.create({ id: 'o1', family: 'native', memoryMB: 128, concurrency: 1, env: {} });
      console.log('ready ' + s.containerId);
      setInterval(() => {}, 1000);`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const id = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /ready (\w+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`the orphan maker exited with ${code}`)));
      });
      const network = `whirl-vitest-orphan-${child.pid}`;
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      expect(
        (await engine.json<{ State: { Running: boolean } }>('GET', `/containers/${id}/json`)).State.Running,
      ).toBe(true);
      const next = await DockerSandboxFactory.open({ instance: `${INSTANCE}-next` });
      try {
        await expect(engine.json('GET', `/containers/${id}/json`)).rejects.toMatchObject({ status: 404 });
        await expect(engine.json('GET', `/networks/${network}`)).rejects.toMatchObject({ status: 404 });
        // Our own live instance is untouched.
        expect(factory.isolation.isolated).toBe(true);
        const s = await factory.create(spec());
        await s.destroy();
      } finally {
        await next.close();
      }
    });

    describe('network', () => {
      const servers: net.Server[] = [];
      afterAll(() => servers.forEach((s) => s.close()));
      const listen = async (host: string, handler?: http.RequestListener) => {
        const server = handler ? http.createServer(handler) : net.createServer((c) => c.end('hello'));
        servers.push(server);
        await new Promise<void>((r) => server.listen(0, host, r));
        return (server.address() as net.AddressInfo).port;
      };
      const external = Object.values(networkInterfaces())
        .flat()
        .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

      async function probe(p: Record<string, unknown>, o: Partial<SandboxSpec> = {}) {
        const s = await factory.create(spec(o));
        try {
          const { run } = await initRun(s, CONNECT_PROBE, { targets: [], ...p });
          expect(run.status, run.text).toBe(200);
          return run.body as { results: string[]; address?: string; body?: string; api: string };
        } finally {
          await s.destroy();
        }
      }

      it('reaches the Whirl API through a relay, but no other service of the host', async () => {
        const apiPort = await listen('127.0.0.1', (_req, res) => res.end('api says hello'));
        const anywhere = await listen('0.0.0.0');
        const env = { __OW_API_HOST: `http://127.0.0.1:${apiPort}` };
        const first = await probe({ fetchApi: true }, { env });
        const api = new URL(first.api);
        expect(first.body).toBe('api says hello');
        const r = await probe(
          {
            targets: [
              { host: api.hostname, port: Number(api.port) }, // the relay
              { host: api.hostname, port: anywhere }, // a host service on all addresses, via the gateway
              { host: api.hostname, port: 5432 }, // PostgreSQL's port on the gateway
              { host: '127.0.0.1', port: 5432 }, // the container's own loopback
              ...(external === undefined ? [] : [{ host: external, port: anywhere }]),
            ],
          },
          { env },
        );
        expect(r.results[0]).toBe('open');
        for (const x of r.results.slice(1)) expect(x).not.toBe('open');
      });

      it('cannot reach another container', async () => {
        const a = await factory.create(spec());
        try {
          const { run } = await initRun(
            a,
            `const srv = require('net').createServer((c) => c.end('x')); srv.listen(7777, '0.0.0.0');
           function main() { return {} }`,
          );
          expect(run.status).toBe(200);
          const r = await probe({ targets: [{ host: (a.endpoint as { host: string }).host, port: 7777 }] });
          expect(r.results[0]).not.toBe('open');
        } finally {
          await a.destroy();
        }
      });

      it('reaches the outside by default; an API-only sandbox does not', async () => {
        // The outside, as this machine knows it: the Debian mirror CI installs packages from.
        const host = 'deb.debian.org';
        const hostCan = await new Promise<string | undefined>((resolve) => {
          const s = net.connect({ host, port: 80, timeout: 3000 });
          s.on('connect', () => {
            resolve(s.remoteAddress);
            s.destroy();
          });
          s.on('timeout', () => (s.destroy(), resolve(undefined)));
          s.on('error', () => resolve(undefined));
        });
        const apiPort = await listen('127.0.0.1', (_req, res) => res.end('api'));
        const env = { __OW_API_HOST: `http://127.0.0.1:${apiPort}` };
        const target = hostCan === undefined ? [] : [{ host: hostCan, port: 80 }];
        const outbound = await probe({ targets: target, lookup: host, fetchApi: true }, { env });
        const apiOnly = await probe({ targets: target, fetchApi: true }, { env, network: 'api-only' });
        expect(outbound.body).toBe('api');
        expect(apiOnly.body).toBe('api');
        if (hostCan !== undefined) {
          expect(outbound.results).toEqual(['open']);
          expect(outbound.address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
          expect(apiOnly.results[0]).not.toBe('open');
        }
      });
    });

    describe('blackbox images', () => {
      it('runs an image that serves the action protocol its own way', async () => {
        const s = await factory.create(
          spec({ family: 'native', image: protocolImage, env: { __OW_API_HOST: 'http://127.0.0.1:1' } }),
        );
        try {
          const h = sandboxHandle(s);
          expect((await h.request('/init', { value: { code: 'some code' } })).status).toBe(200);
          const r = await h.request('/run', { value: { x: 1 } });
          expect(r.body).toMatchObject({
            served_by: 'echo-protocol',
            args: { x: 1 },
            code: 'some code', // written to its working directory, which is writable
            cwd: '/action',
            root: 'read-only',
          });
          expect(r.body.api_host).toMatch(/^http:\/\/\d+\.\d+\.\d+\.\d+:\d+$/);
          await h.waitForSentinels(1);
          expect(h.output().stdout).toContain('echo-protocol ran');
          expect(h.output().stderr).toContain('a line on stderr');
          const info = await inspect(s);
          expect(info.Config.Labels['whirl.blackbox']).toBe('true');
          expect(info.HostConfig.ReadonlyRootfs).toBe(true);
        } finally {
          await s.destroy();
        }
      });

      it('says clearly when an image cannot be had', async () => {
        await expect(
          factory.create(spec({ family: 'native', image: 'whirl-test/no-such-image:1' })),
        ).rejects.toThrow(/cannot pull the image 'whirl-test\/no-such-image:1'/);
      });
    });
  },
);
