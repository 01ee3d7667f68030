import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GUEST_KEY, WHIRL_BIN, startWhirl, type Whirl } from '../helpers/standalone.js';

const auth = {
  authorization: `Basic ${Buffer.from(GUEST_KEY).toString('base64')}`,
  'content-type': 'application/json',
};

async function api(w: Whirl, method: string, path: string, body?: unknown) {
  const r = await fetch(`${w.url}/api/v1/namespaces/_${path}`, {
    method,
    headers: auth,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

/** Every process below `pid` (children, grandchildren...), from /proc. */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, ppid] of parent) {
      if (ppid !== p) continue;
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}

/** Alive and not a zombie (a zombie holds nothing but its pid until its parent reaps it). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitUntil(cond: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  return cond();
}

describe('whirl standalone as a process', () => {
  const started: Whirl[] = [];
  afterEach(async () => {
    for (const w of started.splice(0)) await w.cleanup();
  });

  it('prints where it listens and writes the CLI properties only when there are none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'whirl-first-'));
    const props = join(dir, 'props');
    // No keys given: a fresh guest key is generated, printed and written to the properties file.
    const child = spawn(
      process.execPath,
      [WHIRL_BIN, 'standalone', '--port', '0', '--data-dir', join(dir, 'data')],
      {
        env: { ...process.env, WSK_CONFIG_FILE: props },
      },
    );
    let out = '';
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    expect(await waitUntil(() => /ready on http/.test(out), 20_000)).toBe(true);
    const key = /guest key: (\S+)/.exec(out)?.[1];
    const host = /API host:\s+(\S+)/.exec(out)?.[1];
    expect(key).toMatch(/^[0-9a-f-]{36}:[A-Za-z0-9]{64}$/);
    expect(readFileSync(props, 'utf8')).toBe(`APIHOST=${host}\nAUTH=${key}\n`);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    // A second start keeps the user's file as it is.
    writeFileSync(props, 'APIHOST=elsewhere\n');
    const again = await startWhirl({ dataDir: join(dir, 'data'), env: { WSK_CONFIG_FILE: props } });
    started.push(again);
    expect(readFileSync(props, 'utf8')).toBe('APIHOST=elsewhere\n');
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps its state across a restart', async () => {
    const w = await startWhirl();
    await api(w, 'PUT', '/actions/kept', {
      exec: { kind: 'nodejs:20', code: 'function main() { return { kept: true } }' },
    });
    const first = await api(w, 'POST', '/actions/kept?blocking=true');
    expect(await w.stop()).toBe(0);
    const w2 = await startWhirl({ dataDir: w.dataDir });
    started.push(w2);
    const again = await api(w2, 'POST', '/actions/kept?blocking=true&result=true');
    expect(again.body).toEqual({ kept: true });
    const old = await api(w2, 'GET', `/activations/${first.body.activationId as string}`);
    expect(old.status).toBe(200);
  });

  it('on SIGTERM finishes in-flight activations, answers their callers and stops every sandbox', async () => {
    const w = await startWhirl();
    started.push(w);
    await api(w, 'PUT', '/actions/slow', {
      exec: {
        kind: 'nodejs:20',
        code: 'function main() { return new Promise(r => setTimeout(() => r({ finished: true }), 1500)) }',
      },
    });
    const pending = api(w, 'POST', '/actions/slow?blocking=true&result=true');
    await new Promise((r) => setTimeout(r, 500));
    const sandboxes = descendants(w.process.pid!);
    expect(sandboxes.length).toBeGreaterThan(0);
    const exit = w.stop();
    const answer = await pending;
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ finished: true });
    expect(await exit).toBe(0);
    expect(await waitUntil(() => sandboxes.every((p) => !running(p)))).toBe(true);
  });

  it('leaves no sandbox process behind when killed with SIGKILL', async () => {
    const w = await startWhirl();
    started.push(w);
    await api(w, 'PUT', '/actions/spawner', {
      exec: {
        kind: 'nodejs:20',
        // The action starts a detached grandchild that would happily outlive everything.
        code: `function main() { require('child_process').spawn('sleep', ['600'], { detached: true, stdio: 'ignore' }).unref(); return {} }`,
      },
    });
    await api(w, 'POST', '/actions/spawner?blocking=true');
    const before = descendants(w.process.pid!);
    expect(before.length).toBeGreaterThan(2);
    await w.kill();
    expect(await waitUntil(() => before.every((p) => !running(p)))).toBe(true);
  });

  it('leaves no paused sandbox behind when killed with SIGKILL', async () => {
    const w = await startWhirl({ args: ['--pause-grace', '1', '--no-prewarm'] });
    started.push(w);
    await api(w, 'PUT', '/actions/idle', {
      exec: { kind: 'nodejs:20', code: 'function main() { return {} }' },
    });
    await api(w, 'POST', '/actions/idle?blocking=true');
    const before = descendants(w.process.pid!);
    // Wait until the idle container is paused (its processes stopped: state T).
    const stopped = () =>
      before.some((p) => {
        try {
          const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
          return stat.slice(stat.lastIndexOf(')') + 2)[0] === 'T';
        } catch {
          return false;
        }
      });
    expect(await waitUntil(stopped, 10_000)).toBe(true);
    await w.kill();
    expect(await waitUntil(() => before.every((p) => !running(p)))).toBe(true);
  });

  it('refuses to start on a bad flag or key, with a clear message', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const c = spawn(process.execPath, [WHIRL_BIN, 'standalone', ...args]);
        let err = '';
        c.stderr.on('data', (d: Buffer) => (err += d.toString()));
        c.on('exit', (code) => resolve({ code, err }));
      });
    const bad = await run(['--bogus']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/unknown option --bogus/);
    // One Whirl per data directory.
    const first = await startWhirl();
    started.push(first);
    const second = await run(['--port', '0', '--data-dir', first.dataDir]);
    expect(second.code).not.toBe(0);
    expect(second.err).toMatch(/another Whirl \(pid \d+\) is using the data directory/);
    const dir = mkdtempSync(join(tmpdir(), 'whirl-badkey-'));
    const key = await run(['--port', '0', '--data-dir', dir, '--guest-key', 'nope']);
    expect(key.code).not.toBe(0);
    expect(key.err).toMatch(/--guest-key must be UUID:KEY/);
    expect(existsSync(dir)).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });
});
