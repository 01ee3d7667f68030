/**
 * `whirl standalone --sandbox docker` end to end, as a user runs it: the compiled CLI, real containers,
 * results and logs compared with the process backend's for the same actions, blackbox images, the API
 * reachable from actions and the host's other services not, and a clean stop.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerEngine } from '../../src/sandbox/docker/engine.js';
import { probeDocker } from '../../src/sandbox/docker/testing/docker-available.js';
import { buildProtocolImage } from '../../src/sandbox/docker/testing/protocol-image.js';
import { cli } from '../cli/run-cli.js';
import { GUEST_KEY, startWhirl, type Whirl } from '../helpers/standalone.js';

const docker = await probeDocker();
if (!docker.ok) console.warn(`docker sandbox tests skipped: ${docker.reason}`);

const auth = {
  authorization: `Basic ${Buffer.from(GUEST_KEY).toString('base64')}`,
  'content-type': 'application/json',
};

/** Log lines without their timestamps, stdout's first: the order within each stream is kept. */
function byStream(logs: string[]): string[] {
  const lines = logs.map((l) => l.replace(/^\S+\s+/, ''));
  return [...lines.filter((l) => l.startsWith('stdout:')), ...lines.filter((l) => !l.startsWith('stdout:'))];
}

async function api(w: Whirl, method: string, path: string, body?: unknown) {
  const r = await fetch(`${w.url}/api/v1/namespaces/_${path}`, {
    method,
    headers: auth,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- loose JSON, as in the other e2e tests
  return { status: r.status, body: (await r.json()) as Record<string, any> };
}

/**
 * The parts of an activation that must not depend on the backend: status, result, log text. Lines keep
 * their order within a stream; between stdout and stderr no backend can promise one (two pipes, or
 * Docker's two copiers), so each stream is compared on its own.
 */
function comparable(activation: Record<string, unknown>) {
  const response = activation.response as Record<string, unknown> | undefined;
  return {
    status: response?.status,
    success: response?.success,
    result: response?.result,
    logs: byStream(activation.logs as string[])
      // The process backend's launcher (util-linux unshare) complains when the kernel kills the sandbox.
      .filter((l) => !l.startsWith('stderr: unshare:')),
  };
}

/** Actions exercising each runtime and each way an activation can end. */
const ACTIONS: Record<
  string,
  { exec: Record<string, unknown>; limits?: Record<string, number>; args?: unknown }
> = {
  node: {
    exec: {
      kind: 'nodejs:20',
      code: 'function main(p) { console.log("out", p.n); console.error("err", p.n); return { twice: p.n * 2 } }',
    },
    args: { n: 21 },
  },
  nodeAsync: {
    exec: {
      kind: 'nodejs:20',
      code: 'async function main(p) { await new Promise((r) => setTimeout(r, 20)); return { got: p } }',
    },
    args: { a: [1, 'two'] },
  },
  python: {
    exec: {
      kind: 'python:3',
      code: 'def main(a):\n    print("py says", a["w"])\n    return {"upper": a["w"].upper()}\n',
    },
    args: { w: 'hello ❄' },
  },
  native: {
    exec: {
      kind: 'blackbox',
      image: 'openwhisk/dockerskeleton',
      code: '#!/bin/sh\necho "native log"\necho "{\\"args\\": $1}"\n',
    },
    args: { k: 'v' },
  },
  appError: { exec: { kind: 'nodejs:20', code: 'function main() { return { error: "nope" } }' } },
  devError: { exec: { kind: 'python:3', code: 'def main(a):\n    return 42\n' } },
  timeout: {
    exec: { kind: 'nodejs:20', code: 'function main() { return new Promise((r) => setTimeout(r, 5000)) }' },
    limits: { timeout: 500 },
  },
  oom: {
    exec: { kind: 'nodejs:20', code: 'function main(){const a=[];for(;;)a.push(Buffer.alloc(1<<20,1))}' },
    limits: { memory: 128 },
  },
};

describe.skipIf(!docker.ok)(
  `whirl standalone --sandbox docker${docker.ok ? '' : ` (skipped: ${docker.reason})`}`,
  () => {
    let dw: Whirl;
    let pw: Whirl;
    let engine: DockerEngine;
    let image: string;

    beforeAll(async () => {
      engine = new DockerEngine();
      await engine.connect();
      image = await buildProtocolImage(engine);
      [dw, pw] = await Promise.all([startWhirl({ args: ['--sandbox', 'docker'] }), startWhirl()]);
    }, 180_000);
    afterAll(async () => {
      await Promise.all([dw?.cleanup(), pw?.cleanup()]);
      engine?.close();
    });

    const instance = () =>
      `sa-${createHash('sha256').update(resolve(dw.dataDir)).digest('hex').slice(0, 10)}`;
    const containers = () =>
      engine.json<{ Labels: Record<string, string>; Image: string }[]>('GET', '/containers/json', {
        query: { all: true, filters: JSON.stringify({ label: [`whirl.instance=${instance()}`] }) },
      });

    it('says it runs docker sandboxes, isolated, and prewarms labelled stem cells', async () => {
      const info = (await (await fetch(`${dw.url}/api/v1`)).json()) as Record<string, unknown>;
      expect(JSON.stringify(info)).toContain('docker');
      expect(dw.output()).toContain('sandbox isolated');
      const stems = await containers();
      expect(stems.filter((c) => c.Image.startsWith('whirl/nodejs20')).length).toBeGreaterThanOrEqual(2);
      expect(stems.filter((c) => c.Image.startsWith('whirl/python3')).length).toBeGreaterThanOrEqual(1);
    });

    it('gives the same results and logs as the process backend, for every runtime and outcome', async () => {
      for (const w of [dw, pw]) {
        for (const [name, a] of Object.entries(ACTIONS)) {
          const r = await api(w, 'PUT', `/actions/${name}?overwrite=true`, {
            exec: a.exec,
            ...(a.limits ? { limits: a.limits } : {}),
          });
          expect(r.status, JSON.stringify(r.body)).toBe(200);
        }
      }
      const invokeAll = (w: Whirl) =>
        Promise.all(
          Object.entries(ACTIONS).map(async ([name, a]) => {
            const r = await api(w, 'POST', `/actions/${name}?blocking=true`, a.args ?? {});
            return [name, comparable(r.body)] as const;
          }),
        );
      const [onDocker, onProcess] = await Promise.all([invokeAll(dw), invokeAll(pw)]);
      expect(Object.fromEntries(onDocker)).toEqual(Object.fromEntries(onProcess));
      // And they are what they should be, not merely equal.
      const d = Object.fromEntries(onDocker);
      expect(d.node).toMatchObject({
        status: 'success',
        result: { twice: 42 },
        logs: ['stdout: out 21', 'stderr: err 21'],
      });
      expect(d.python).toMatchObject({
        status: 'success',
        result: { upper: 'HELLO ❄' },
        logs: ['stdout: py says hello ❄'],
      });
      expect(d.native).toMatchObject({
        status: 'success',
        result: { args: { k: 'v' } },
        logs: ['stdout: native log'],
      });
      expect(d.appError).toMatchObject({ status: 'application error', result: { error: 'nope' } });
      expect(d.devError!.status).toBe('action developer error');
      expect(d.timeout!.result).toEqual({
        error: 'The action exceeded its time limits of 500 milliseconds.',
      });
      expect(d.oom!.result).toEqual({ error: 'The action exhausted its memory and was aborted.' });
      // Warm again: the same container answers.
      const again = await api(dw, 'POST', '/actions/node?blocking=true', { n: 1 });
      expect(again.body.response.result).toEqual({ twice: 2 });
    }, 120_000);

    it('runs an image that serves the action protocol its own way (whirl action create --docker)', async () => {
      const created = await cli(dw.env, ['action', 'create', 'echo', '--docker', image]);
      expect(created.code, created.stderr).toBe(0);
      const r = await api(dw, 'POST', '/actions/echo?blocking=true', { hello: 'image' });
      expect(r.body.response).toMatchObject({
        status: 'success',
        result: { served_by: 'echo-protocol', args: { hello: 'image' }, root: 'read-only' },
      });
      expect(byStream(r.body.logs)).toEqual(['stdout: echo-protocol ran', 'stderr: a line on stderr']);
      // Images that cannot be had fail the activation with OpenWhisk's message.
      expect(
        (await cli(dw.env, ['action', 'create', 'nope', '--docker', 'whirl-test/no-such-image:1'])).code,
      ).toBe(0);
      const failed = await api(dw, 'POST', '/actions/nope?blocking=true', {});
      expect(failed.body.response.status).toBe('whisk internal error');
      expect(failed.body.response.result.error).toMatch(
        /^Failed to pull container image 'whirl-test\/no-such-image:1'\./,
      );
    }, 60_000);

    it('lets actions call the Whirl API, and reach no other service of the host', async () => {
      const code = `async function main() {
      const net = require('net');
      const api = new URL(process.env.__OW_API_HOST);
      const attempt = (host, port) => new Promise((resolve) => {
        const s = net.connect({ host, port, timeout: 2000 });
        s.on('connect', () => { s.destroy(); resolve('open'); });
        s.on('timeout', () => { s.destroy(); resolve('timeout'); });
        s.on('error', (e) => resolve(e.code));
      });
      const r = await fetch(process.env.__OW_API_HOST + '/api/v1/namespaces/_/actions?limit=100', {
        headers: { authorization: 'Basic ' + Buffer.from(process.env.__OW_API_KEY).toString('base64') } });
      const names = (await r.json()).map((a) => a.name);
      return { names, postgres: await attempt(api.hostname, 5432), loopback: await attempt('127.0.0.1', 5432) };
    }`;
      const file = `${dw.dataDir}/caller.js`;
      writeFileSync(file, code);
      const created = await cli(dw.env, [
        'action',
        'create',
        'caller',
        file,
        '-a',
        'provide-api-key',
        'true',
      ]);
      expect(created.code, created.stderr).toBe(0);
      const r = await api(dw, 'POST', '/actions/caller?blocking=true&result=true', {});
      expect(r.body.names).toContain('caller');
      expect(r.body.postgres).not.toBe('open');
      expect(r.body.loopback).not.toBe('open');
    }, 60_000);

    it('leaves no container running for long when it is killed with SIGKILL', async () => {
      const killed = await startWhirl({ args: ['--sandbox', 'docker'] });
      const mine = () =>
        engine.json<unknown[]>('GET', '/containers/json', {
          query: {
            all: true,
            filters: JSON.stringify({ label: [`whirl.pid=${killed.process.pid}`] }),
          },
        });
      try {
        const r = await fetch(`${killed.url}/api/v1/namespaces/_/actions/left?overwrite=true`, {
          method: 'PUT',
          headers: auth,
          body: JSON.stringify({ exec: { kind: 'nodejs:20', code: 'function main() { return {} }' } }),
        });
        expect(r.status).toBe(200);
        const run = await fetch(`${killed.url}/api/v1/namespaces/_/actions/left?blocking=true`, {
          method: 'POST',
          headers: auth,
        });
        expect(run.status).toBe(200);
        expect((await mine()).length).toBeGreaterThan(0);
        await killed.kill();
        // Its watchdog notices within half a second and removes them.
        const end = Date.now() + 15_000;
        while ((await mine()).length > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
        expect(await mine()).toEqual([]);
      } finally {
        await killed.cleanup();
      }
    }, 90_000);

    it('removes every container and its network when it stops', async () => {
      expect((await containers()).length).toBeGreaterThan(0);
      const networks = async () =>
        (await engine.json<{ Name: string }[]>('GET', '/networks')).filter((n) =>
          n.Name.startsWith(`whirl-${instance()}`),
        );
      expect((await networks()).length).toBe(1);
      expect(await dw.stop()).toBe(0);
      expect(await containers()).toEqual([]);
      expect(await networks()).toEqual([]);
    }, 60_000);
  },
);
