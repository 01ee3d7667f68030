/**
 * What every sandbox backend must do: run each runtime proxy so that OpenWhisk's action protocol works
 * through it (the runtime protocol cases), deliver its output, and stop it for good on destroy.
 * Backends call defineSandboxContract from their own test file.
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  defineProtocolCases,
  SENTINEL,
  type ProxyHandle,
  type ProtocolCaseOptions,
  type ProxyKind,
} from '../runtimes/protocol.cases.js';
import type { Sandbox, SandboxFactory } from './sandbox.js';

function post(
  sandbox: Sandbox,
  agent: http.Agent,
  path: string,
  payload: string,
): Promise<{ status: number; text: string }> {
  const e = sandbox.endpoint;
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        ...('socketPath' in e ? { socketPath: e.socketPath } : { host: e.host, port: e.port }),
        agent,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** A ProxyHandle over a sandbox, for the shared runtime protocol cases. */
export function sandboxHandle(sandbox: Sandbox): ProxyHandle {
  const agent = new http.Agent({ keepAlive: true });
  const out = { stdout: '', stderr: '' };
  const listeners = new Set<() => void>();
  sandbox.onOutput((stream, chunk) => {
    out[stream] += chunk.toString('utf8');
    listeners.forEach((l) => l());
  });
  return {
    async request(path, body, opts) {
      const { status, text } = await post(sandbox, agent, path, opts?.raw ?? JSON.stringify(body));
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { status, body: parsed, text };
    },
    output: () => ({ ...out }),
    waitForSentinels(count, timeoutMs = 10_000) {
      const enough = () =>
        out.stdout.split(SENTINEL).length > count && out.stderr.split(SENTINEL).length > count;
      if (enough()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const l = () => {
          if (!enough()) return;
          listeners.delete(l);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          listeners.delete(l);
          reject(new Error(`expected ${count} sentinels:\n${out.stdout}\n---\n${out.stderr}`));
        }, timeoutMs);
        listeners.add(l);
      });
    },
    async stop() {
      agent.destroy();
      await sandbox.destroy();
    },
  };
}

export function defineSandboxContract(
  name: string,
  factory: () => SandboxFactory,
  /** Passed to the protocol cases, e.g. `{ concurrent: true }` for backends with slow starts. */
  options: ProtocolCaseOptions = {},
): void {
  const launch = async (kind: ProxyKind, env: Record<string, string> = {}) =>
    sandboxHandle(
      // 512 MB: one case sends a 64 MB /init (a 48 MB zip in base64), which a proxy holds a few times over.
      await factory().create({
        id: `c${randomUUID().slice(0, 8)}`,
        family: kind,
        memoryMB: 512,
        concurrency: 1,
        env,
      }),
    );

  defineProtocolCases(`${name} sandbox`, launch, options);

  describe(`Sandbox contract: ${name}`, () => {
    it('reports its exit, and destroy is idempotent and final', async () => {
      const s = await factory().create({
        id: `d${randomUUID().slice(0, 8)}`,
        family: 'nodejs',
        memoryMB: 128,
        concurrency: 1,
        env: {},
      });
      await Promise.all([s.destroy(), s.destroy()]);
      const exit = await s.exited;
      expect(exit.oomKilled).toBe(false);
      await expect(post(s, new http.Agent(), '/run', '{}')).rejects.toThrow();
    });

    it('passes the environment it is given to the runtime', async () => {
      const h = await launch('nodejs', { GREETING: 'hello from the invoker' });
      try {
        await h.request('/init', {
          value: {
            name: 'e',
            main: 'main',
            code: 'function main(){return {h: process.env.GREETING}}',
            binary: false,
          },
        });
        const r = await h.request('/run', { value: {} });
        expect(r.body).toEqual({ h: 'hello from the invoker' });
      } finally {
        await h.stop();
      }
    });
  });
}
