/**
 * End to end: `whirl action invoke` and `whirl activation ...` against a real standalone Whirl.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Activation } from '../../src/cli/types.js';
import { startWhirl, type Whirl } from '../helpers/standalone.js';
import { cli, startCli } from './run-cli.js';

let w: Whirl;
let dir: string;
const run = (...args: string[]) => cli(w.env, args);
const ID = /[0-9a-f]{32}/;

function file(name: string, content: string): string {
  const f = join(dir, name);
  writeFileSync(f, content);
  return f;
}

function jsonAfterOk<T = Activation>(stdout: string): T {
  const [first, ...rest] = stdout.split('\n');
  expect(first).toMatch(/^ok: /);
  return JSON.parse(rest.join('\n')) as T;
}

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The id in `ok: invoked /_/NAME with id ID`. */
function invokedId(stdout: string, name: string): string {
  const m = new RegExp(`^ok: invoked /_/${name} with id ([0-9a-f]{32})$`, 'm').exec(stdout);
  expect(m, stdout).not.toBeNull();
  return m![1]!;
}

beforeAll(async () => {
  w = await startWhirl();
  dir = mkdtempSync(join(tmpdir(), 'whirl-cli-invoke-'));
  const actions: Record<string, string> = {
    'echo.js': 'function main(p) { console.log("got " + p.name); return p; }',
    'fail.js': 'function main() { return { error: "nope" }; }',
    'crash.js': 'function main() { throw new Error("kaboom"); }',
    'slow.js': 'function main() { return new Promise((r) => setTimeout(() => r({ done: true }), 2500)); }',
  };
  for (const [f, code] of Object.entries(actions)) {
    const r = await run('action', 'create', f.replace('.js', ''), file(f, code));
    expect(r.code, r.stderr).toBe(0);
  }
});
afterAll(async () => {
  await w?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let blockingId = '';

describe('whirl action invoke', () => {
  it('non-blocking prints the activation id', async () => {
    const r = await run('action', 'invoke', 'echo', '-p', 'name', 'Nb');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok: invoked \/_\/echo with id [0-9a-f]{32}\n$/);
  });

  it('blocking prints the id and the activation; -p values are JSON when they parse, -P reads a file', async () => {
    const pfile = file('params.json', JSON.stringify({ from: 'file', name: 'File' }));
    const r = await run(
      'action',
      'invoke',
      'echo',
      '-b',
      '-P',
      pfile,
      '-p',
      'name',
      'Ann',
      '-p',
      'n',
      '5',
      '-p',
      'o',
      '{"x":[1]}',
    );
    expect(r.code, r.stderr).toBe(0);
    blockingId = invokedId(r.stdout, 'echo');
    const activation = jsonAfterOk(r.stdout);
    expect(activation.activationId).toBe(blockingId);
    expect(activation.response).toMatchObject({ status: 'success', success: true });
    expect(activation.response.result).toEqual({ from: 'file', name: 'Ann', n: 5, o: { x: [1] } });
  });

  it('-r prints only the result', async () => {
    const r = await run('action', 'invoke', 'echo', '-r', '-p', 'name', 'Res', '-p', 's', '"5"');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${JSON.stringify({ name: 'Res', s: '5' }, null, 4)}\n`);
  });

  it('a failing action exits 4, with the activation on stdout and the reason on stderr', async () => {
    const b = await run('action', 'invoke', 'fail', '-b');
    expect(b.code).toBe(4);
    expect(JSON.parse(b.stdout).response).toMatchObject({
      status: 'application error',
      result: { error: 'nope' },
    });
    expect(b.stderr).toMatch(
      /^error: \/_\/fail failed \(application error\) in activation [0-9a-f]{32}: nope\n/,
    );
    expect(b.stderr).toMatch(/whirl activation logs [0-9a-f]{32}/);

    const r = await run('action', 'invoke', 'fail', '-r');
    expect(r.code).toBe(4);
    expect(JSON.parse(r.stdout)).toEqual({ error: 'nope' });
    expect(r.stderr).toMatch(
      /^error: \/_\/fail failed \(application error\) in activation [0-9a-f]{32}: nope\n/,
    );

    // -r labels the failure with the record's own status: a throw is the developer's error, not the app's.
    const crashResult = await run('action', 'invoke', 'crash', '-r');
    expect(crashResult.code).toBe(4);
    expect(JSON.parse(crashResult.stdout)).toHaveProperty('error');
    expect(crashResult.stderr).toMatch(/^error: \/_\/crash failed \(action developer error\) in activation /);

    const crash = await run('action', 'invoke', 'crash', '-b');
    expect(crash.code).toBe(4);
    expect(JSON.parse(crash.stdout).response.status).toBe('action developer error');
  });

  it('exits 5 when the blocking wait ends first, and says how to get the result', async () => {
    const r = await run('action', 'invoke', 'slow', '-b', '--wait', '300');
    expect(r.code).toBe(5);
    const id = invokedId(r.stdout, 'slow');
    expect(r.stderr).toContain('still running');
    expect(r.stderr).toContain(`whirl activation result ${id}`);
  });

  it('explains a missing action (exit 1)', async () => {
    const r = await run('action', 'invoke', 'nosuch', '-b');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: Unable to invoke action 'nosuch': The requested resource does not exist\./,
    );
  });
});

describe('whirl activation', () => {
  it('lists activations as a table, filtered by name, or in full', async () => {
    const r = await run('activation', 'list');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Datetime\s+Activation ID\s+Kind\s+Start\s+Duration\s+Status\s+Entity$/);
    const row = lines.find((l) => l.includes(blockingId));
    expect(row).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [0-9a-f]{32} nodejs:20 +(cold|warm) +\d+ms +success +guest\/echo:0\.0\.1$/,
    );
    expect(lines.some((l) => / application error +guest\/fail:/.test(l))).toBe(true);

    const onlyFail = await run('activation', 'list', 'fail', '-l', '1');
    const failRows = onlyFail.stdout.trimEnd().split('\n').slice(1);
    expect(failRows).toHaveLength(1);
    expect(failRows[0]).toContain('guest/fail');

    const full = await run('activation', 'list', 'echo', '--full', '--since', String(Date.now() - 600_000));
    const records = JSON.parse(full.stdout) as Activation[];
    expect(records.find((a) => a.activationId === blockingId)!.logs.join('\n')).toContain('got Ann');

    const none = await run('activation', 'list', '--upto', '1');
    expect(none.stdout.trimEnd().split('\n')).toHaveLength(1);
  });

  it('gets an activation, one field of it, or the last one', async () => {
    const r = await run('activation', 'get', blockingId);
    expect(r.stdout.split('\n')[0]).toBe(`ok: got activation ${blockingId}`);
    expect(jsonAfterOk(r.stdout).name).toBe('echo');

    const field = await run('activation', 'get', blockingId, 'response.result.name');
    expect(field.stdout).toBe(
      `ok: got activation ${blockingId}, displaying field response.result.name\n"Ann"\n`,
    );

    const lastId = invokedId(
      (await run('action', 'invoke', 'echo', '-b', '-p', 'name', 'Last')).stdout,
      'echo',
    );
    const last = await run('activation', 'get', '--last');
    expect(last.stdout.split('\n')[0]).toBe(`ok: got activation ${lastId}`);
    const lastName = await run('activation', 'get', '-l', 'response');
    expect(jsonAfterOk<{ result: { name: string } }>(lastName.stdout).result.name).toBe('Last');
  });

  it('get --summary prints the status line and the result; --logs only the logs', async () => {
    const summary = await run('activation', 'get', blockingId, '--summary');
    expect(summary.code, summary.stderr).toBe(0);
    const [first, ...rest] = summary.stdout.split('\n');
    expect(first).toMatch(
      /^activation result for '\/guest\/echo' \(success at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d, \d+ms\)$/,
    );
    expect(JSON.parse(rest.join('\n'))).toMatchObject({ name: 'Ann', n: 5 });

    const logs = await run('activation', 'get', blockingId, '--logs');
    expect(logs.stdout).toBe('got Ann\n');
    const lastLogs = await run('activation', 'get', '--last', '-g');
    expect(lastLogs.code).toBe(0);
    expect(lastLogs.stdout).toMatch(/^got \w+\n$/);
    const both = await run('activation', 'get', blockingId, '--summary', 'response');
    expect(both.code).toBe(2);
  });

  it('prints logs (optionally stripped) and results', async () => {
    const logs = await run('activation', 'logs', blockingId);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/^\S+\s+stdout: got Ann\n$/);
    const stripped = await run('activation', 'logs', blockingId, '--strip');
    expect(stripped.stdout).toBe('got Ann\n');
    const lastLogs = await run('activation', 'logs', '--last', '-r');
    expect(lastLogs.stdout).toBe('got Last\n');

    const result = await run('activation', 'result', blockingId);
    expect(JSON.parse(result.stdout)).toMatchObject({ name: 'Ann', n: 5 });
    const lastResult = await run('activation', 'result', '--last');
    expect(JSON.parse(lastResult.stdout)).toEqual({ name: 'Last' });
  });

  it('explains unknown ids and bad combinations', async () => {
    const missing = await run('activation', 'get', '0'.repeat(32));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /^error: Unable to get activation '0{32}': The requested resource does not exist\./,
    );
    expect(missing.stderr).toContain('whirl activation list');
    const both = await run('activation', 'logs', blockingId, '--last');
    expect(both.code).toBe(2);
    const none = await run('activation', 'result');
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/ACTIVATION_ID, or --last/);
  });

  it('polls: prints the logs of new activations as they arrive, exits after -e seconds', async () => {
    const poll = startCli(w.env, ['activation', 'poll', 'echo', '-e', '6']);
    await until(() => poll.stdout().includes('Polling for activation logs'));
    const inv = await run('action', 'invoke', 'echo', '-p', 'name', 'Polly');
    const id = invokedId(inv.stdout, 'echo');
    await run('action', 'invoke', 'fail');
    const done = await poll.done;
    expect(done.code).toBe(0);
    expect(done.stdout).toContain(`Activation: 'echo' (${id}) success`);
    expect(done.stdout).toMatch(/\n {2}\S+\s+stdout: got Polly\n/);
    expect(done.stdout).not.toContain("'fail'");
    expect(done.stdout).not.toContain(blockingId);
  });

  it('poll --since-minutes replays recent activations', async () => {
    const r = await run('activation', 'poll', 'fail', '--since-minutes', '10', '-e', '1');
    expect(r.code).toBe(0);
    expect(
      r.stdout.match(/Activation: 'fail' \([0-9a-f]{32}\) application error/g)?.length,
    ).toBeGreaterThanOrEqual(2);
    expect(ID.test(r.stdout)).toBe(true);
  });
});
