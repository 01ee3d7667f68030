/**
 * What every sandbox backend must do: run each runtime proxy so that OpenWhisk's action protocol works
 * through it (the runtime protocol cases), deliver its output, and stop it for good on destroy.
 * Backends call defineSandboxContract from their own test file.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  defineProtocolCases,
  type ProxyHandle,
  type ProtocolCaseOptions,
  type ProxyKind,
} from '../runtimes/testing/protocol.cases.js';
import { httpProxyHandle, type CapturedOutput } from '../runtimes/testing/protocol.harness.js';
import type { Sandbox, SandboxFactory } from './sandbox.js';

/** A ProxyHandle over a sandbox, for the shared runtime protocol cases. */
export function sandboxHandle(sandbox: Sandbox): ProxyHandle {
  const captured: CapturedOutput = { out: { stdout: '', stderr: '' }, listeners: new Set() };
  sandbox.onOutput((stream, chunk) => {
    captured.out[stream] += chunk.toString('utf8');
    captured.listeners.forEach((l) => l());
  });
  return httpProxyHandle(sandbox.endpoint, captured, () => sandbox.destroy());
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
      const h = sandboxHandle(s);
      await Promise.all([s.destroy(), s.destroy()]);
      const exit = await s.exited;
      expect(exit.oomKilled).toBe(false);
      await expect(h.request('/run', {})).rejects.toThrow();
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
