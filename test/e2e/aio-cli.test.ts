/**
 * `aio runtime deploy|deploy sync|deploy report|deploy undeploy|api list` — the commands of
 * `@adobe/aio-cli-plugin-runtime` — against a real standalone Whirl, with Runtime auth (`USE_RUNTIME_AUTH`:
 * the namespace's key instead of an Adobe login). The plugin's command classes run in a child process as
 * the `aio` CLI would run them, from a project folder holding a wskdeploy manifest.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WhirlClient } from '../../src/cli/client.js';
import { startWhirl, type Whirl } from '../helpers/standalone.js';

const require = createRequire(import.meta.url);
const COMMANDS = join(
  require.resolve('@adobe/aio-cli-plugin-runtime/package.json'),
  '..',
  'src',
  'commands',
  'runtime',
);

/** Runs a command as `aio runtime …` runs it; never waits for an Adobe login (that would be a bug). */
const RUNNER = `
const [file, ...argv] = process.argv.slice(1);
require(file).run(argv).then(
  () => process.exit(0),
  (e) => { console.error(e.message); process.exit(1); },
);`;

const MANIFEST = (withBye: boolean) => `project:
  name: aioproj
  packages:
    aiopkg:
      actions:
        hi:
          function: src/hi.js
          runtime: nodejs:20
          web: yes
          inputs:
            name: Ann
${
  withBye
    ? `        bye:
          function: src/bye.js
          runtime: nodejs:20
`
    : ''
}      apis:
        greet:
          hello:
            hi:
              hi:
                method: GET
                response: json
`;

let w: Whirl;
let client: WhirlClient;
let dir: string;

function aio(command: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const flags = ['--apihost', w.url, '--auth', w.guestKey];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-e', RUNNER, join(COMMANDS, `${command}.js`), ...args, ...flags],
      {
        cwd: dir,
        // A HOME of its own: no aio configuration of the machine's user leaks in.
        env: { ...process.env, HOME: dir, USE_RUNTIME_AUTH: 'true', AIO_CLI_ENV: 'prod' },
        timeout: 60_000,
      },
      (err, stdout, stderr) =>
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  w = await startWhirl();
  client = new WhirlClient({ apihost: w.url, auth: w.guestKey });
  dir = mkdtempSync(join(tmpdir(), 'whirl-aio-'));
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'hi.js'), 'function main(p) { return { hi: p.name }; }\n');
  writeFileSync(join(dir, 'src', 'bye.js'), 'function main() { return { bye: true }; }\n');
  writeFileSync(join(dir, 'manifest.yml'), MANIFEST(true));
});
afterAll(async () => {
  client?.close();
  await w?.cleanup();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('aio runtime (@adobe/aio-cli-plugin-runtime) against Whirl', () => {
  it('deploys a manifest, and the action, web action and API route work', async () => {
    const r = await aio('deploy/index', '-m', 'manifest.yml');
    // (Outside the aio CLI, oclif warns on stderr that aio's own plugins are missing.)
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Deployment completed successfully');
    expect((await client.actions.invoke('aiopkg/hi', {}, { result: true })).body).toEqual({ hi: 'Ann' });
    const routed = await fetch(`${w.url}/api/gw/guest/hello/hi`);
    expect(await routed.json()).toEqual({ hi: 'Ann' });
  });

  it('syncs: entities carry whisk-managed with the project name', async () => {
    const r = await aio('deploy/sync', '-m', 'manifest.yml');
    expect(r.code, r.stderr).toBe(0);
    for (const name of ['aiopkg/hi', 'aiopkg/bye']) {
      const managed = (await client.actions.get(name)).annotations?.find((a) => a.key === 'whisk-managed');
      expect(managed?.value).toMatchObject({ projectName: 'aioproj', file: 'manifest.yml' });
    }
  });

  it('reports the deployed entities', async () => {
    const r = await aio('deploy/report', '-m', 'manifest.yml');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('"name": "hi"');
    expect(r.stdout).toContain('"name": "Ann"');
  });

  it('lists the API with its URL', async () => {
    const r = await aio('api/list');
    expect(r.code, r.stderr).toBe(0);
    // Action, verb, API name, URL (gwApiUrl + path).
    expect(r.stdout).toMatch(/get\s+greet\s+\S+\/api\/gw\/guest\/hello\/hi/);
  });

  it('undeploys what the manifest lists, route included', async () => {
    writeFileSync(join(dir, 'manifest.yml'), MANIFEST(true));
    const r = await aio('deploy/undeploy', '-m', 'manifest.yml');
    expect(r.code, r.stderr).toBe(0);
    expect(await client.actions.list({})).toEqual([]);
    expect(await client.packages.list()).toEqual([]);
    expect((await fetch(`${w.url}/api/gw/guest/hello/hi`)).status).toBe(404);
    const listed = await aio('api/list');
    expect(listed.stdout).not.toContain('/hello/hi');
  });
});
