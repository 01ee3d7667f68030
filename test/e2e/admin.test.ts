import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WHIRL_BIN, startWhirl, type Whirl } from '../helpers/standalone.js';

const admin = (w: Whirl, ...args: string[]) =>
  spawnSync(process.execPath, [WHIRL_BIN, 'admin', ...args, '--data-dir', w.dataDir]);

describe('whirl admin against a running standalone', () => {
  let w: Whirl;
  beforeAll(async () => {
    w = await startWhirl();
  });
  afterAll(async () => w.cleanup());

  const api = async (key: string, path: string, init: RequestInit = {}) =>
    fetch(`${w.url}/api/v1${path}`, {
      ...init,
      headers: {
        authorization: `Basic ${Buffer.from(key).toString('base64')}`,
        'content-type': 'application/json',
      },
    });

  it('creates users with their own namespace or a shared one, and shows each key once', async () => {
    const r = admin(w, 'user', 'create', 'carol');
    expect(r.status).toBe(0);
    const key = r.stdout.toString().trim();
    expect(key).toMatch(/^[0-9a-f-]{36}:[A-Za-z0-9]{64}$/);
    expect(await (await api(key, '/namespaces')).json()).toEqual(['carol']);
    const team = admin(w, 'user', 'create', 'dave1', '-ns', 'team-x').stdout.toString().trim();
    expect(await (await api(team, '/namespaces')).json()).toEqual(['team-x']);
    expect(admin(w, 'user', 'list', 'team-x').stdout.toString()).toMatch(/^dave1\t[0-9a-f-]{36}\n$/);
    expect(admin(w, 'user', 'get', 'carol').stdout.toString()).toMatch(/^carol\t/);
    expect(admin(w, 'user', 'whois', key).stdout.toString()).toBe('subject: carol\nnamespace: carol\n');
    const dup = admin(w, 'user', 'create', 'carol');
    expect(dup.status).toBe(1);
    expect(admin(w, 'user', 'create', 'abc').status).toBe(2);
  });

  it('blocks, unblocks and deletes users; the server follows within seconds', async () => {
    const key = admin(w, 'user', 'create', 'erin5').stdout.toString().trim();
    const status = async () => (await api(key, '/namespaces')).status;
    const until = async (want: number) => {
      for (let i = 0; i < 40 && (await status()) !== want; i++) await new Promise((r) => setTimeout(r, 100));
      return status();
    };
    expect(await status()).toBe(200);
    admin(w, 'user', 'block', 'erin5');
    expect(await until(401)).toBe(401);
    admin(w, 'user', 'unblock', 'erin5');
    expect(await until(200)).toBe(200);
    expect(admin(w, 'user', 'delete', 'erin5').status).toBe(0);
    expect(await until(401)).toBe(401);
  });

  it('never writes keys or secret parameters to its own output', async () => {
    const key = execFileSync(process.execPath, [
      WHIRL_BIN,
      'admin',
      'user',
      'create',
      'frank',
      '--data-dir',
      w.dataDir,
    ])
      .toString()
      .trim();
    const secret = 'pa55-canary-9981';
    await api(key, '/namespaces/_/actions/s', {
      method: 'PUT',
      body: JSON.stringify({
        exec: { kind: 'nodejs:20', code: 'function main(p) { throw new Error("boom") }' },
        parameters: [{ key: 'password', value: secret }],
        annotations: [{ key: 'provide-api-key', value: true }],
      }),
    });
    await api(key, '/namespaces/_/actions/s?blocking=true', {
      method: 'POST',
      body: JSON.stringify({ token: secret }),
    });
    await api(`${key.split(':')[0]}:wrong`, '/namespaces');
    const out = w.output();
    expect(out).not.toContain(key.split(':')[1]);
    expect(out).not.toContain(secret);
    // The guest key appears once: the first-start banner that tells the operator what it is.
    const lines = out.split('\n').filter((l) => l.includes(w.guestKey.split(':')[1]!));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/whirl: guest key: /);
  });
});
