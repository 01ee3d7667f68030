/**
 * End to end: `whirl action ...` against a real standalone Whirl, driving the compiled CLI.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Action, ActionLimits, CodeExec, KeyValue } from '../../src/cli/types.js';
import { makeZip } from '../helpers/archive-writer.js';
import { startWhirl, type Whirl } from '../helpers/standalone.js';
import { cli } from './run-cli.js';

let w: Whirl;
let dir: string;
const run = (...args: string[]) => cli(w.env, args);
const runIn = (cwd: string, ...args: string[]) => cli(w.env, args, { cwd });

function file(name: string, content: string | Buffer, mode = 0o644): string {
  const f = join(dir, name);
  writeFileSync(f, content);
  chmodSync(f, mode);
  return f;
}

/** The JSON printed after an `ok: ...` line. */
function jsonAfterOk<T = Record<string, unknown>>(stdout: string): T {
  const [first, ...rest] = stdout.split('\n');
  expect(first).toMatch(/^ok: /);
  return JSON.parse(rest.join('\n')) as T;
}

type ActionJson = Action & {
  exec: CodeExec;
  limits: ActionLimits;
  annotations: KeyValue[];
  parameters: KeyValue[];
};

async function getAction(name: string): Promise<ActionJson> {
  const r = await run('action', 'get', name);
  expect(r.code).toBe(0);
  return jsonAfterOk<ActionJson>(r.stdout);
}

const annotations = (a: ActionJson) => Object.fromEntries(a.annotations.map((kv) => [kv.key, kv.value]));
const params = (a: ActionJson) => Object.fromEntries(a.parameters.map((kv) => [kv.key, kv.value]));

beforeAll(async () => {
  w = await startWhirl();
  dir = mkdtempSync(join(tmpdir(), 'whirl-cli-action-'));
});
afterAll(async () => {
  await w?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('whirl action create', () => {
  it('creates a JavaScript action and refuses a duplicate with a hint', async () => {
    const js = file('hello.js', 'function main(p) { return { msg: "hello " + (p.name || "world") }; }\n');
    const r = await run('action', 'create', 'hello', js);
    expect(r).toMatchObject({ code: 0, stdout: 'ok: created action hello\n' });
    expect((await getAction('hello')).exec).toMatchObject({ kind: 'nodejs:20', binary: false });

    const again = await run('action', 'create', 'hello', js);
    expect(again.code).toBe(1);
    expect(again.stdout).toBe('');
    expect(again.stderr).toMatch(
      /^error: Unable to create action 'hello': resource already exists \(code [0-9a-f]+\)\n/,
    );
    expect(again.stderr).toContain("Use 'whirl action update' to change it.");
  });

  it('creates and runs a Python action', async () => {
    const py = file('greet.py', 'def main(args):\n    return {"py": args.get("n", 0) + 1}\n');
    expect((await run('action', 'create', 'greet', py)).code).toBe(0);
    expect((await getAction('greet')).exec.kind).toMatch(/^python:/);
    const r = await run('action', 'invoke', 'greet', '-r', '-p', 'n', '41');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ py: 42 });
  });

  it('needs --kind for a zip, then sends it base64-encoded', async () => {
    const zip = file(
      'calc.zip',
      makeZip([{ name: 'index.js', data: 'exports.main = (p) => ({ sum: p.a + p.b });' }]),
    );
    const bare = await run('action', 'create', 'calc', zip);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/error: a \.zip action needs --kind/);
    expect(bare.stderr).toContain("Run 'whirl action create --help' for usage.");

    expect((await run('action', 'create', 'calc', zip, '--kind', 'nodejs:default')).code).toBe(0);
    expect((await getAction('calc')).exec).toMatchObject({ kind: 'nodejs:20', binary: true });
    const r = await run('action', 'invoke', 'calc', '-r', '-p', 'a', '2', '-p', 'b', '3');
    expect(JSON.parse(r.stdout)).toEqual({ sum: 5 });
  });

  it('makes an executable script a native action, and --native does the same', async () => {
    const sh = file('tool', '#!/bin/sh\necho "native log"\necho \'{"native": true}\'\n', 0o755);
    expect((await run('action', 'create', 'tool', sh)).code).toBe(0);
    expect((await getAction('tool')).exec).toMatchObject({
      kind: 'blackbox',
      image: 'openwhisk/dockerskeleton',
    });
    const r = await run('action', 'invoke', 'tool', '-r');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ native: true });

    const plain = file('tool2.sh', '#!/bin/sh\necho \'{"n": 2}\'\n');
    const unknown = await run('action', 'create', 'tool2', plain);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--kind KIND.*--native/s);
    expect((await run('action', 'create', 'tool2', plain, '--native')).code).toBe(0);
    expect((await getAction('tool2')).exec.kind).toBe('blackbox');
  });

  it('copies an action with --copy', async () => {
    const r = await run('action', 'create', 'hello-copy', 'hello', '--copy', '-p', 'name', 'copy');
    expect(r).toMatchObject({ code: 0, stdout: 'ok: created action hello-copy\n' });
    const [orig, copy] = [await getAction('hello'), await getAction('hello-copy')];
    expect(copy.exec.code).toBe(orig.exec.code);
    expect(params(copy)).toEqual({ name: 'copy' });
  });

  it('sends a sequence with fully qualified components', async () => {
    const r = await run('action', 'create', 'seq', '--sequence', 'hello, calc', '-v');
    expect(r.stderr).toContain('"exec":{"kind":"sequence","components":["/_/hello","/_/calc"]}');
    // Sequences are served by a later module; either outcome is a clean answer.
    expect([0, 1]).toContain(r.code);
  });
});

describe('whirl action update', () => {
  it('changes only what is given; parameters and annotations given replace the old sets (as wsk)', async () => {
    const js = file('upd.js', 'function main() { return { v: 1 }; }\n');
    const created = await run(
      'action',
      'create',
      'upd',
      js,
      '-p',
      'a',
      '1',
      '-p',
      'b',
      '"two"',
      '-a',
      'note',
      'keep',
      '-m',
      '256',
    );
    expect(created.code).toBe(0);

    expect((await run('action', 'update', 'upd', '-m', '512')).stdout).toBe('ok: updated action upd\n');
    let a = await getAction('upd');
    expect(a.limits.memory).toBe(512);
    expect(params(a)).toEqual({ a: 1, b: 'two' });
    expect(annotations(a).note).toBe('keep');
    expect(a.exec.code).toContain('v: 1');

    const pfile = file('p.json', JSON.stringify({ c: { deep: true } }));
    // `wsk action update -a` sends only the given annotations and OpenWhisk replaces the set: `note` goes.
    // The server keeps `exec` and `provide-api-key`, which it maintains itself.
    expect(
      (await run('action', 'update', 'upd', '-P', pfile, '-a', 'extra', '5', '-a', 'note2', 'n')).code,
    ).toBe(0);
    a = await getAction('upd');
    expect(params(a)).toEqual({ c: { deep: true } });
    expect(annotations(a)).toEqual({ extra: 5, note2: 'n', exec: 'nodejs:20', 'provide-api-key': false });

    const js2 = file('upd2.js', 'function main() { return { v: 2 }; }\n');
    expect((await run('action', 'update', 'upd', js2, '--del-annotation', 'note2')).code).toBe(0);
    a = await getAction('upd');
    expect(a.exec.code).toContain('v: 2');
    expect(params(a)).toEqual({ c: { deep: true } });
    expect(annotations(a)).toMatchObject({ extra: 5 });
    expect(annotations(a).note2).toBeUndefined();
    expect(a.version).toBe('0.0.4');
  });

  it('sets the web annotations and keeps the others', async () => {
    expect((await run('action', 'update', 'hello', '-a', 'description', 'says hello')).code).toBe(0);
    expect((await run('action', 'update', 'hello', '--web', 'true')).code).toBe(0);
    expect(annotations(await getAction('hello')).description).toBe('says hello');
    expect(annotations(await getAction('hello'))).toMatchObject({
      'web-export': true,
      'raw-http': false,
      final: true,
    });
    expect((await run('action', 'update', 'hello', '--web', 'raw', '--web-secure', 'shh')).code).toBe(0);
    expect(annotations(await getAction('hello'))).toMatchObject({
      'web-export': true,
      'raw-http': true,
      'require-whisk-auth': 'shh',
    });
    expect((await run('action', 'update', 'hello', '--web-secure', 'other')).code).toBe(0);
    expect(annotations(await getAction('hello'))).toMatchObject({
      description: 'says hello',
      'raw-http': true,
      'require-whisk-auth': 'other',
    });
    expect((await run('action', 'update', 'hello', '--web', 'no')).code).toBe(0);
    expect(annotations(await getAction('hello'))).toMatchObject({
      'web-export': false,
      final: false,
      description: 'says hello',
    });
    const notWeb = await run('action', 'update', 'hello', '--web-secure', 'x');
    expect(notWeb.code).toBe(2);
    const bad = await run('action', 'update', 'hello', '--web', 'maybe');
    expect(bad.code).toBe(2);
  });

  it('refuses --kind/--main without the code', async () => {
    const r = await run('action', 'update', 'hello', '--main', 'other');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/give the ARTIFACT too/);
  });
});

describe('whirl action get/list/delete', () => {
  it('gets one field, a summary and the web URL', async () => {
    const field = await run('action', 'get', 'upd', 'limits');
    expect(field.stdout.split('\n')[0]).toBe('ok: got action upd, displaying field limits');
    expect(jsonAfterOk(field.stdout)).toMatchObject({ memory: 512 });

    const summary = await run('action', 'get', 'upd', '--summary');
    expect(summary.stdout).toBe('action /guest/upd\n   (parameters: *c)\n');

    const url = await run('action', 'get', 'hello', '--url');
    expect(url.stdout).toBe(`ok: got action hello\n${w.url}/api/v1/web/guest/default/hello\n`);
  });

  it('saves the code with --save and --save-as, never overwriting', async () => {
    const cwd = mkdtempSync(join(dir, 'save-'));
    const r = await runIn(cwd, 'action', 'get', 'hello', '--save');
    expect(r.code).toBe(0);
    const saved = join(cwd, 'hello.js');
    expect(r.stdout).toBe(`ok: saved action code to ${saved}\n`);
    expect(readFileSync(saved, 'utf8')).toBe(readFileSync(join(dir, 'hello.js'), 'utf8'));

    const again = await runIn(cwd, 'action', 'get', 'hello', '--save');
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);

    const zipOut = join(cwd, 'calc-copy.zip');
    expect((await runIn(cwd, 'action', 'get', 'calc', '--save-as', zipOut)).code).toBe(0);
    expect(readFileSync(zipOut).equals(readFileSync(join(dir, 'calc.zip')))).toBe(true);
    expect(existsSync(join(cwd, 'calc.zip'))).toBe(false);
  });

  it('lists actions as a table, by name with -n, limited with -l', async () => {
    const r = await run('action', 'list', '-n');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('actions');
    expect(lines).toContain(`${'/guest/hello'.padEnd(70)} private nodejs:20`);
    const names = lines.slice(1).map((l) => l.split(/\s+/)[0]);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(
      expect.arrayContaining(['/guest/calc', '/guest/greet', '/guest/tool', '/guest/upd']),
    );
    const limited = await run('action', 'list', '--limit', '2');
    expect(limited.stdout.trimEnd().split('\n')).toHaveLength(3);
  });

  it('deletes, then explains that the action is gone', async () => {
    expect(await run('action', 'delete', 'hello-copy')).toMatchObject({
      code: 0,
      stdout: 'ok: deleted action hello-copy\n',
    });
    const gone = await run('action', 'get', 'hello-copy');
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(
      /^error: Unable to get action 'hello-copy': The requested resource does not exist\. \(code \w+\)/,
    );
    expect(gone.stderr).toContain("Run 'whirl action list'");
    expect((await run('action', 'delete', 'hello-copy')).code).toBe(1);
  });
});
