/**
 * End to end: `whirl property`, `namespace`, `list`, help, global flags, and the friendly errors
 * (bad key, unreachable host, missing settings, usage mistakes), against a real standalone Whirl.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import openwhisk from 'openwhisk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWhirl, type Whirl } from '../helpers/standalone.js';
import { cli, isolatedEnv } from './run-cli.js';

let w: Whirl;
let dir: string;
const run = (...args: string[]) => cli(w.env, args);

beforeAll(async () => {
  w = await startWhirl();
  dir = mkdtempSync(join(tmpdir(), 'whirl-cli-misc-'));
  const js = join(dir, 'hi.js');
  writeFileSync(js, 'function main() { return { key: process.env.__OW_API_KEY }; }');
  const r = await run('action', 'create', 'hi', js, '-a', 'provide-api-key', 'true');
  expect(r.code, r.stderr).toBe(0);
});
afterAll(async () => {
  await w?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A port nothing listens on. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('whirl property', () => {
  it('sets, gets and unsets properties in WSK_CONFIG_FILE', async () => {
    const props = join(dir, 'wskprops');
    const env = isolatedEnv(w.env, props);
    const host = w.url.replace('http://', '');

    const set = await cli(env, [
      'property',
      'set',
      '--apihost',
      host,
      '--auth',
      w.guestKey,
      '--namespace',
      'guest',
    ]);
    expect(set.code).toBe(0);
    expect(set.stdout).toBe(
      "ok: whisk auth set. Run 'whirl property get --auth' to see the new value.\n" +
        `ok: whisk API host set to ${host}\n` +
        'ok: whisk namespace set to guest\n',
    );
    expect(readFileSync(props, 'utf8')).toBe(`AUTH=${w.guestKey}\nAPIHOST=${host}\nNAMESPACE=guest\n`);

    expect((await cli(env, ['property', 'get', '--auth'])).stdout).toBe(`whisk auth\t\t${w.guestKey}\n`);
    // A loopback host without a scheme means http://.
    expect((await cli(env, ['property', 'get', '--apihost'])).stdout).toBe(`whisk API host\t\t${w.url}\n`);
    const all = await cli(env, ['property', 'get']);
    expect(all.stdout).toBe(
      [
        `whisk auth\t\t${w.guestKey}`,
        `whisk API host\t\t${w.url}`,
        'whisk API version\tv1',
        'whisk namespace\t\tguest',
        'whisk CLI version\t0.1.0',
        'whisk API build\t\t0.1.0',
        'whisk API build number\t0.1.0',
        '',
      ].join('\n'),
    );

    // The file alone is enough to work.
    const list = await cli(env, ['action', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('/guest/hi');

    const unset = await cli(env, ['property', 'unset', '--namespace', '--auth']);
    expect(unset.stdout).toBe(
      'ok: whisk auth unset.\nok: whisk namespace unset. The default value _ will be used.\n',
    );
    expect(readFileSync(props, 'utf8')).toBe(`APIHOST=${host}\n`);
    expect((await cli(env, ['property', 'get', '--namespace'])).stdout).toBe('whisk namespace\t\t_\n');
  });

  it('lets the environment and flags override the file', async () => {
    const props = join(dir, 'wskprops2');
    writeFileSync(props, 'APIHOST=http://127.0.0.1:1\nAUTH=file:key\n');
    const env = { ...isolatedEnv(w.env, props), WHISK_APIHOST: w.url };
    expect((await cli(env, ['property', 'get', '--apihost'])).stdout).toBe(`whisk API host\t\t${w.url}\n`);
    const withFlag = await cli(env, ['namespace', 'list', '--auth', w.guestKey]);
    expect(withFlag).toMatchObject({ code: 0, stdout: 'namespaces\nguest\n' });
    const set = await cli(env, ['property', 'set', '--apihost', 'example.com']);
    expect(set.stderr).toContain('WHISK_APIHOST is set in the environment');
  });

  it('says what is missing when nothing is configured (exit 3)', async () => {
    const env = isolatedEnv(w.env, join(dir, 'none'));
    const noHost = await cli(env, ['action', 'list']);
    expect(noHost.code).toBe(3);
    expect(noHost.stderr).toMatch(/^error: No API host is set\.\nSet it with 'whirl property set --apihost/);
    const noAuth = await cli(env, ['action', 'list', '--apihost', w.url]);
    expect(noAuth.code).toBe(3);
    expect(noAuth.stderr).toMatch(
      /^error: No authorization key is set\.\nSet it with 'whirl property set --auth UUID:KEY'/,
    );
    const get = await cli(env, ['property', 'get', '--all']);
    expect(get.code).toBe(0);
    expect(get.stdout).toContain('whisk API build\t\tUnknown');
    expect(existsSync(join(dir, 'none'))).toBe(false);
  });
});

describe('whirl namespace and list', () => {
  it('lists namespaces and the entities of one', async () => {
    expect(await run('namespace', 'list')).toMatchObject({ code: 0, stdout: 'namespaces\nguest\n' });
    const get = await run('namespace', 'get');
    expect(get.code).toBe(0);
    const row = `${'/guest/hi'.padEnd(70)} private nodejs:20`;
    expect(get.stdout).toBe(`Entities in namespace: guest\npackages\nactions\n${row}\ntriggers\nrules\n`);
    const list = await run('list', '-n');
    expect(list.stdout).toBe(get.stdout);
    expect((await run('list', '/guest')).stdout).toBe(get.stdout);
  });

  it('matches what the openwhisk npm client sees', async () => {
    const ow = openwhisk({ apihost: w.url, api_key: w.guestKey });
    const actions = await ow.actions.list();
    expect(actions.map((a) => a.name)).toContain('hi');
  });
});

describe('help and global flags', () => {
  it('prints help and the version', async () => {
    const help = await cli(w.env, ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: whirl <command>/);
    expect(help.stdout).toMatch(/Exit codes:\n {2}0 {2}success/);
    expect((await cli(w.env, ['--version'])).stdout).toBe('whirl 0.1.0\n');
    const noun = await cli(w.env, ['action', '--help']);
    expect(noun.stdout).toMatch(/Commands:\n {2}create/);
    const verb = await cli(w.env, ['action', 'create', '--help']);
    expect(verb.stdout).toMatch(/Usage: whirl action create NAME \[ARTIFACT\] \[flags\]/);
    expect(verb.stdout).toContain('-p, --param KEY VALUE');
    expect((await cli(w.env, ['help', 'activation'])).stdout).toMatch(/Usage: whirl activation <command>/);
  });

  it('accepts global flags before the command', async () => {
    const r = await run('-v', 'namespace', 'list');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('namespaces\nguest\n');
    expect(r.stderr).toContain(`> GET ${w.url}/api/v1/namespaces`);
    const host = await cli(isolatedEnv(w.env, join(dir, 'none')), [
      '--apihost',
      w.url,
      '-u',
      w.guestKey,
      'list',
    ]);
    expect(host.code).toBe(0);
  });

  it('-v traces requests and responses but never shows the key', async () => {
    const r = await run('action', 'invoke', 'hi', '-r', '-v');
    expect(r.code).toBe(0);
    // The action returns the key (provide-api-key): stdout is the result, the trace masks it.
    expect(JSON.parse(r.stdout)).toEqual({ key: w.guestKey });
    const secret = w.guestKey.split(':')[1]!;
    expect(r.stderr).toContain('> POST');
    expect(r.stderr).toContain('< 200');
    expect(r.stderr).toContain('authorization: Basic [masked]');
    expect(r.stderr).not.toContain(secret);
    expect(r.stderr).not.toContain(Buffer.from(w.guestKey).toString('base64'));

    const d = await run('action', 'get', 'hi', '-d');
    expect(d.stderr).toContain('[debug] API host:');
    expect(d.stderr).not.toContain(secret);
  });
});

describe('friendly errors', () => {
  it('bad key: exit 1 and how to fix the key', async () => {
    const r = await run('action', 'list', '-u', '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:wrong');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: Unable to list actions: The supplied authentication is invalid \(code \w+\)\n/,
    );
    expect(r.stderr).toContain("'whirl property get --auth'");
    expect(r.stderr).toContain("'whirl property set --auth UUID:KEY'");
    expect(r.stderr).not.toContain('wrong');
  });

  it('unreachable host: exit 3 and how to start Whirl', async () => {
    const host = `http://127.0.0.1:${await freePort()}`;
    const r = await run('action', 'list', '--apihost', host);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      new RegExp(`^error: Unable to list actions: cannot reach ${host}: .*ECONNREFUSED`),
    );
    expect(r.stderr).toContain(
      `Is Whirl running at ${host}? Start it with 'npm start' or 'whirl standalone'`,
    );
  });

  it('usage mistakes: exit 2', async () => {
    const verb = await run('action', 'crate', 'x');
    expect(verb.code).toBe(2);
    expect(verb.stderr).toMatch(/unknown command 'crate' for 'whirl action'/);
    const flag = await run('action', 'invoke', 'hi', '--parm', 'a', 'b');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/unknown flag --parm \(did you mean --param\?\)/);
    const missing = await run('action', 'create');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/needs NAME/);
    const top = await cli(w.env, ['nonsense']);
    expect(top.code).toBe(2);
  });
});
