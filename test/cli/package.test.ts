/**
 * End to end: `whirl package ...`, and `action create --sequence/--copy` over packages, against a real
 * standalone Whirl driven through the compiled CLI.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Action, KeyValue, Package } from '../../src/cli/types.js';
import { startWhirl, type Whirl } from '../helpers/standalone.js';
import { cli, jsonAfterOk } from './run-cli.js';

let w: Whirl;
let dir: string;
const run = (...args: string[]) => cli(w.env, args);
/** As whisk.system, the owner of the catalog. */
const runAsSystem = (...args: string[]) => cli({ ...w.env, WHISK_AUTH: w.systemKey }, args);

function file(name: string, content: string): string {
  const f = join(dir, name);
  writeFileSync(f, content);
  return f;
}

async function ok(...args: string[]): Promise<string> {
  const r = await run(...args);
  expect(r.code, `${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

const kv = (list: KeyValue[] | undefined) => Object.fromEntries((list ?? []).map((p) => [p.key, p.value]));
const rows = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.replace(/\s+/g, ' '));

/** Returns its parameters, so precedence shows in the result. */
const SHOW = `function main(p) { return { region: p.region, tier: p.tier, who: p.who, x: p.x }; }`;

beforeAll(async () => {
  w = await startWhirl();
  dir = mkdtempSync(join(tmpdir(), 'whirl-cli-package-'));
});
afterAll(async () => {
  await w?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('whirl package', () => {
  it('creates a shared package with parameters, holding actions; get shows them', async () => {
    expect(
      await ok('package', 'create', 'tools', '-p', 'region', 'eu', '-p', 'tier', '1', '--shared', 'yes'),
    ).toBe('ok: created package tools\n');
    await ok('action', 'create', 'tools/show', file('show.js', SHOW), '-p', 'who', 'action');
    const pkg = jsonAfterOk<Package>(await ok('package', 'get', 'tools'));
    expect(pkg).toMatchObject({ namespace: 'guest', name: 'tools', publish: true });
    expect(kv(pkg.parameters)).toEqual({ region: 'eu', tier: 1 });
    expect(pkg.actions?.map((a) => a.name)).toEqual(['show']);
    expect(await ok('package', 'get', 'tools', 'publish')).toBe(
      'ok: got package tools, displaying field publish\ntrue\n',
    );
    const summary = await ok('package', 'get', 'tools', '--summary');
    expect(summary).toBe(
      'package /guest/tools\n   (parameters: *region, *tier)\n action /guest/tools/show\n    (parameters: none defined)\n',
    );

    const dup = await run('package', 'create', 'tools');
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain("Use 'whirl package update' to change it.");
    const reserved = await run('package', 'create', 'default');
    expect(reserved.code).toBe(1);
    expect(reserved.stderr).toContain("Package name 'default' is reserved.");
  });

  it('updates only what is given', async () => {
    expect(await ok('package', 'update', 'tools', '--shared', 'no')).toBe('ok: updated package tools\n');
    const pkg = jsonAfterOk<Package>(await ok('package', 'get', 'tools'));
    expect(pkg.publish).toBe(false);
    expect(kv(pkg.parameters)).toEqual({ region: 'eu', tier: 1 });
    const bad = await run('package', 'update', 'tools', '--shared', 'maybe');
    expect(bad.code).toBe(2);
  });

  it('binds with parameters: package < binding < action < invocation', async () => {
    expect(
      await ok('package', 'bind', 'tools', 'mytools', '-p', 'region', 'us', '-p', 'who', 'binding'),
    ).toBe('ok: created binding mytools\n');
    const r = JSON.parse(await ok('action', 'invoke', 'mytools/show', '-r', '-p', 'x', 'call')) as object;
    expect(r).toEqual({ region: 'us', tier: 1, who: 'action', x: 'call' });
    const got = jsonAfterOk<Package>(await ok('package', 'get', 'mytools'));
    expect(got.binding).toEqual({ namespace: 'guest', name: 'tools' });
    expect(rows(await ok('package', 'list', '-n'))).toEqual([
      '/guest/mytools private binding:/guest/tools',
      '/guest/tools private',
    ]);
    // Binding onto a taken name is refused, as with wsk (no overwrite): the binding stays as it was.
    const again = await run('package', 'bind', '/whisk.system/samples', 'mytools');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(
      /^error: Unable to create binding 'mytools': the name is taken by a binding of \/guest\/tools \(bind does not replace it\)\n/,
    );
    expect(again.stderr).toContain("'whirl package delete mytools'");
    const onPackage = await run('package', 'bind', 'tools', 'tools');
    expect(onPackage.stderr).toContain('the name is taken by a package');
    expect(jsonAfterOk<Package>(await ok('package', 'get', 'mytools')).binding).toEqual({
      namespace: 'guest',
      name: 'tools',
    });
    const missing = await run('package', 'bind', 'nosuch', 'b2');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Binding references a package that does not exist.');
  });

  it("binds a whisk.system package; lists another namespace's shared packages", async () => {
    await ok('package', 'bind', '/whisk.system/samples', 'mysamples', '-p', 'name', 'Ann');
    const r = JSON.parse(await ok('action', 'invoke', 'mysamples/greeting', '-r')) as { payload: string };
    expect(r.payload).toContain('Ann');
    const system = rows(await ok('package', 'list', '/whisk.system', '-n'));
    expect(system).toEqual(
      expect.arrayContaining([
        '/whisk.system/alarms shared',
        '/whisk.system/samples shared',
        '/whisk.system/utils shared',
      ]),
    );
    const alarms = await ok('package', 'get', '/whisk.system/alarms', '--summary');
    expect(alarms).toMatch(/^ feed \/whisk.system\/alarms\/interval: .*\n {4}\(parameters: minutes/m);
  });

  it('refresh checks the bindings of whisk.system packages and finds broken ones', async () => {
    const fine = await ok('package', 'refresh');
    expect(fine).toMatch(
      /^ok: checked 1 binding of whisk.system packages in namespace guest: 1 up to date\n/,
    );
    expect(fine).toMatch(/^\/guest\/mysamples\s+-> \/whisk.system\/samples\s+up to date$/m);

    // A system package that goes away leaves a broken binding behind.
    const made = await runAsSystem('package', 'create', 'temp', '--shared', 'yes');
    expect(made.code, made.stderr).toBe(0);
    await ok('package', 'bind', '/whisk.system/temp', 'mytemp');
    expect((await runAsSystem('package', 'delete', 'temp')).code).toBe(0);
    const r = await run('package', 'refresh', '/_');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^ok: checked 2 bindings of whisk.system packages in namespace guest: 1 up to date\n/,
    );
    expect(r.stdout).toMatch(/^\/guest\/mytemp\s+-> \/whisk.system\/temp\s+broken: /m);
    expect(r.stderr).toContain('whirl package delete mytemp');
    await ok('package', 'delete', 'mytemp');

    const other = await run('package', 'refresh', '/whisk.system');
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('bindings are private to their namespace');
  });

  it('refuses to delete a package with actions unless --force', async () => {
    await ok('package', 'delete', 'mytools');
    const r = await run('package', 'delete', 'tools');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: Unable to delete package 'tools': Package not empty/);
    expect(r.stderr).toContain('--force');
    expect(await ok('package', 'delete', 'tools', '--force')).toBe('ok: deleted package tools\n');
    expect((await run('action', 'get', 'tools/show')).code).toBe(1);
  });
});

describe('action create --sequence and --copy, over packages', () => {
  it('runs a sequence of a package action and a catalog action, and copies it', async () => {
    await ok('package', 'create', 'seqpkg', '-p', 'region', 'pkg');
    await ok('action', 'create', 'seqpkg/show', file('show2.js', SHOW));
    await ok('action', 'create', 'flow', '--sequence', 'seqpkg/show,/whisk.system/utils/echo');
    const flow = jsonAfterOk<Action>(await ok('action', 'get', 'flow'));
    expect(flow.exec).toEqual({
      kind: 'sequence',
      components: ['/guest/seqpkg/show', '/whisk.system/utils/echo'],
    });
    expect(JSON.parse(await ok('action', 'invoke', 'flow', '-r', '-p', 'x', '1'))).toEqual({
      region: 'pkg',
      x: 1,
    });

    expect(await ok('action', 'create', 'flow2', '--copy', 'flow')).toBe('ok: created action flow2\n');
    const copy = jsonAfterOk<Action>(await ok('action', 'get', 'flow2'));
    expect(copy.exec).toEqual(flow.exec);
    expect(kv(copy.parameters)).toEqual({ _actions: ['/guest/seqpkg/show', '/whisk.system/utils/echo'] });
    expect(JSON.parse(await ok('action', 'invoke', 'flow2', '-r', '-p', 'x', '2'))).toEqual({
      region: 'pkg',
      x: 2,
    });
  });

  it('copies an action out of a package (with its own parameters and extra ones)', async () => {
    await ok('action', 'update', 'seqpkg/show', '-p', 'who', 'orig');
    await ok('action', 'create', 'show3', '--copy', 'seqpkg/show', '-p', 'tier', '3');
    const r = JSON.parse(await ok('action', 'invoke', 'show3', '-r')) as object;
    // The copy keeps the parameters the action had in its package (GET shows them merged, as in OpenWhisk).
    expect(r).toEqual({ region: 'pkg', who: 'orig', tier: 3 });
    const gone = await run('action', 'create', 'x', '--sequence', 'nosuch,flow');
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('Sequence component does not exist.');
  });
});
