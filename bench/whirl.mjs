// Starting Whirl for the benchmarks: the compiled CLI as a user runs it, a throwaway data directory, and
// throttles out of the way (they are not what is measured).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const whirlBin = join(root, 'bin', 'whirl.js');
export const KEY =
  '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP';
export const headers = (key = KEY) => ({
  authorization: `Basic ${Buffer.from(key).toString('base64')}`,
  'content-type': 'application/json',
});
export const LIMITS = {
  invocationsPerMinute: 100_000_000,
  concurrentInvocations: 100_000,
  firesPerMinute: 100_000,
};

/** Spawns `node <args>` and resolves once its output matches `ready`. */
export function startProcess(args, ready, env = {}) {
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (c) => {
      out += c.toString();
      const m = ready.exec(out);
      if (m) resolve({ child, match: m, output: () => out });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}:\n${out}`)));
  });
}

/** SIGTERM, and wait for the exit. */
export function stopProcess(p) {
  return new Promise((resolve) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
    p.child.once('exit', resolve);
    p.child.kill('SIGTERM');
  });
}

/** Seeds namespace limits into a data directory before Whirl starts on it. */
export async function seedLimits(dataDir, limits) {
  const { SqliteStore } = await import('../dist/store/sqlite/sqlite-store.js');
  const store = new SqliteStore(join(dataDir, 'whirl.db'));
  for (const [ns, l] of Object.entries(limits)) await store.setLimits(ns, l);
  await store.close();
}

/** `whirl standalone` on a free port with throttles lifted (guest's by default); `stop()` removes its data. */
export async function startStandalone(extraArgs = [], limits = { guest: LIMITS }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'whirl-bench-'));
  await seedLimits(dataDir, limits);
  const p = await startProcess(
    [
      whirlBin,
      'standalone',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--guest-key',
      KEY,
      '--no-wskprops',
      ...extraArgs,
    ],
    /ready on (http:\/\/\S+)/,
  );
  return {
    ...p,
    url: p.match[1],
    dataDir,
    stop: async () => {
      await stopProcess(p);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
