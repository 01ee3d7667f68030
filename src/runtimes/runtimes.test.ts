// Runs the runtime protocol cases against the compiled proxies (dist/runtimes, so `npm run build`
// first) started as plain processes, exactly as the launch contract says: __WHIRL_LISTEN on a Unix
// socket, a pipe as fd 3 for __WHIRL_READY_FD, __WHIRL_TMP as scratch space. Also checks the parts of
// the launch contract that only a process launcher can see (silent start-up, SIGTERM, TCP mode).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defineProtocolCases, type ProxyHandle, type ProxyKind } from './testing/protocol.cases.js';
import { httpProxyHandle, type ProxyTarget } from './testing/protocol.harness.js';

/** The compiled runtimes; WHIRL_RUNTIMES_DIR points elsewhere (e.g. a private build). */
const RUNTIMES = resolve(
  process.env.WHIRL_RUNTIMES_DIR ?? fileURLToPath(new URL('../../dist/runtimes', import.meta.url)),
);
/** The proxy targets the host's system Python (WHIRL_TEST_PYTHON tries another); else python3 on PATH. */
const PYTHON =
  process.env.WHIRL_TEST_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

function command(kind: ProxyKind): [string, string[]] {
  if (kind === 'python') return [PYTHON, ['-u', join(RUNTIMES, 'python', 'proxy.py')]];
  return [process.execPath, [join(RUNTIMES, kind, 'main.js')]];
}

interface Started {
  child: ChildProcess;
  dir: string;
  out: { stdout: string; stderr: string };
  onOutput: Set<() => void>;
}

/** Spawns a proxy and resolves once it said "ready" on fd 3. */
async function spawnProxy(
  kind: ProxyKind,
  listen: (dir: string) => string,
  env: Record<string, string> = {},
): Promise<Started> {
  const dir = await mkdtemp(join(tmpdir(), `whirl-${kind}-`));
  const [cmd, args] = command(kind);
  const child = spawn(cmd, args, {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      __WHIRL_LISTEN: listen(dir),
      __WHIRL_READY_FD: '3',
      __WHIRL_TMP: dir,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  const started: Started = { child, dir, out: { stdout: '', stderr: '' }, onOutput: new Set() };
  const notify = (): void => started.onOutput.forEach((listener) => listener());
  child.stdout!.setEncoding('utf8').on('data', (text: string) => ((started.out.stdout += text), notify()));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => ((started.out.stderr += text), notify()));
  const readyPipe = child.stdio[3] as NodeJS.ReadableStream;
  await new Promise<void>((resolvePromise, reject) => {
    let said = '';
    const timer = setTimeout(() => fail(new Error('timed out')), 15_000);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${kind} proxy did not become ready: ${err.message}\n${started.out.stderr}`));
    };
    readyPipe.setEncoding('utf8');
    readyPipe.on('data', (text: string) => {
      said += text;
      if (said.includes('ready\n')) {
        clearTimeout(timer);
        resolvePromise();
      }
    });
    child.once('exit', (code) => fail(new Error(`exited with code ${code}`)));
    child.once('error', fail);
  });
  return started;
}

async function stopProxy(started: Started): Promise<void> {
  const { child } = started;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolvePromise) => child.once('exit', resolvePromise));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
  await rm(started.dir, { recursive: true, force: true });
}

function handleFor(started: Started, target: ProxyTarget): ProxyHandle {
  return httpProxyHandle(target, { out: started.out, listeners: started.onOutput }, () => stopProxy(started));
}

async function launch(kind: ProxyKind, env?: Record<string, string>): Promise<ProxyHandle> {
  const started = await spawnProxy(kind, (dir) => join(dir, 'proxy.sock'), env);
  return handleFor(started, { socketPath: join(started.dir, 'proxy.sock') });
}

defineProtocolCases('plain process', launch);

function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolvePromise(address.port) : reject(new Error('no port')),
      );
    });
  });
}

describe('runtime launch contract (plain process)', () => {
  for (const kind of ['nodejs', 'python', 'native'] as const) {
    it(`${kind}: starts silently, replaces a stale socket and exits promptly on SIGTERM`, async () => {
      const started = await spawnProxy(kind, (dir) => {
        const socket = join(dir, 'proxy.sock');
        writeFileSync(socket, 'stale'); // left behind by a previous proxy
        return socket;
      });
      const handle = handleFor(started, { socketPath: join(started.dir, 'proxy.sock') });
      try {
        expect((await handle.request('/run', { value: {} })).status).not.toBe(200);
        const quiet = await spawnProxy(kind, (dir) => join(dir, 'quiet.sock'));
        await new Promise((r) => setTimeout(r, 100));
        expect(quiet.out).toEqual({ stdout: '', stderr: '' });
        const begin = Date.now();
        const exited = new Promise((r) => quiet.child.once('exit', r));
        quiet.child.kill('SIGTERM');
        await exited;
        expect(Date.now() - begin).toBeLessThan(2_000);
        await stopProxy(quiet);
      } finally {
        await handle.stop();
      }
    });

    it(`${kind}: listens on a TCP port when __WHIRL_LISTEN is a number`, async () => {
      const port = await freePort();
      const started = await spawnProxy(kind, () => String(port));
      const handle = handleFor(started, { host: '127.0.0.1', port });
      try {
        const res = await handle.request('/nowhere', {});
        expect(res).toMatchObject({ status: 500, body: { error: 'Bad request.' } });
      } finally {
        await handle.stop();
      }
    });
  }
});
