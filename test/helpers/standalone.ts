/**
 * Starts a real `whirl standalone` process (the compiled CLI, as a user would) on a free port with a
 * throwaway data directory, and waits for its ready line. For end-to-end tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NamespaceLimits } from '../../src/core/limits.js';
import { GENEROUS_LIMITS, seedLimits } from './limits.js';

export const WHIRL_BIN = fileURLToPath(new URL('../../bin/whirl.js', import.meta.url));

export interface Whirl {
  url: string;
  /** `uuid:key` of guest. */
  guestKey: string;
  systemKey: string;
  dataDir: string;
  /** Environment for CLI runs against this server (its own WSK_CONFIG_FILE). */
  env: Record<string, string>;
  process: ChildProcess;
  output(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
  /** Stops, then removes the data directory. */
  cleanup(): Promise<void>;
}

export const GUEST_KEY =
  '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP';
export const SYSTEM_KEY =
  '789c46b1-71f6-4ed5-8c54-816aa4f8c502:abczO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP';

export interface StartOptions {
  dataDir?: string;
  args?: string[];
  env?: Record<string, string>;
  /** Namespace limits to seed before start (default: throttles out of the way for guest). */
  limits?: Record<string, NamespaceLimits>;
}

export async function startWhirl(o: StartOptions = {}): Promise<Whirl> {
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'whirl-e2e-'));
  await seedLimits(dataDir, o.limits ?? { guest: GENEROUS_LIMITS });
  const props = join(dataDir, 'wskprops');
  const env = { ...process.env, WSK_CONFIG_FILE: props, ...o.env } as Record<string, string>;
  const child = spawn(
    process.execPath,
    [
      WHIRL_BIN,
      'standalone',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--guest-key',
      GUEST_KEY,
      '--system-key',
      SYSTEM_KEY,
      ...(o.args ?? []),
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`whirl did not become ready:\n${out}`)), 30_000);
    const check = () => {
      const m = /ready on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`whirl exited with ${code} before it was ready:\n${out}`));
    });
  });
  const w: Whirl = {
    url,
    guestKey: GUEST_KEY,
    systemKey: SYSTEM_KEY,
    dataDir,
    env: { ...env, WHISK_APIHOST: url, WHISK_AUTH: GUEST_KEY },
    process: child,
    output: () => out,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    cleanup: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return w;
}
