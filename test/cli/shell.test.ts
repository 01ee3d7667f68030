/**
 * End to end: `whirl` as a shell command — installed and run from another directory, usage mistakes
 * answered with suggestions, output cut short by a pipe reader that stops early, shell completion.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WHIRL_BIN } from '../helpers/standalone.js';
import { cli, type CliResult } from './run-cli.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;
let env: Record<string, string>;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'whirl-cli-shell-'));
  const props = join(dir, 'wskprops');
  writeFileSync(props, 'APIHOST=http://127.0.0.1:1\nAUTH=a:b\n');
  env = { ...(process.env as Record<string, string>), WSK_CONFIG_FILE: props };
  delete env.WHISK_APIHOST;
  delete env.WHISK_AUTH;
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs whirl with its stdout read end closed before anything is written, as `| head -0` would. */
function runIntoClosedPipe(args: string[]): Promise<CliResult> {
  const child = spawn(process.execPath, [WHIRL_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout: '', stderr })));
}

describe('usage mistakes', () => {
  it('an unknown command or verb exits 2 and suggests the closest name', async () => {
    const noun = await cli(env, ['acton', 'list']);
    expect(noun.code).toBe(2);
    expect(noun.stderr).toMatch(/^error: unknown command 'acton' \(did you mean 'action'\?\)\n/);
    const verb = await cli(env, ['trigger', 'fier', 't']);
    expect(verb.code).toBe(2);
    expect(verb.stderr).toMatch(
      /^error: unknown command 'fier' for 'whirl trigger' \(did you mean 'fire'\?\)/,
    );
    const afterFlag = await cli(env, ['-v', 'rulle', 'list']);
    expect(afterFlag.code).toBe(2);
    expect(afterFlag.stderr).toContain("unknown command 'rulle' (did you mean 'rule'?)");
    const help = await cli(env, ['help', 'pakage']);
    expect(help.code).toBe(2);
    expect(help.stderr).toContain("(did you mean 'package'?)");
    const far = await cli(env, ['qqqqqqq']);
    expect(far.code).toBe(2);
    expect(far.stderr).not.toContain('did you mean');
  });
});

describe('property get -o raw (for scripts)', () => {
  it('prints only the values, in the order of the properties', async () => {
    const one = await cli(env, ['property', 'get', '--apihost', '-o', 'raw']);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toBe('http://127.0.0.1:1\n');
    const two = await cli(env, ['property', 'get', '--auth', '--apihost', '--output', 'raw']);
    expect(two.stdout).toBe('a:b\nhttp://127.0.0.1:1\n');
    const std = await cli(env, ['property', 'get', '--apihost', '-o', 'std']);
    expect(std.stdout).toBe('whisk API host\t\thttp://127.0.0.1:1\n');
  });

  it('refuses raw for everything at once, and unknown formats (exit 2)', async () => {
    const all = await cli(env, ['property', 'get', '-o', 'raw']);
    expect(all.code).toBe(2);
    expect(all.stderr).toContain('name the properties');
    const bad = await cli(env, ['property', 'get', '--auth', '-o', 'json']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--output is std or raw, not 'json'");
  });
});

describe('a pipe reader that stops early', () => {
  it.each([[['--help']], [['completion', 'bash']], [['action', 'create', '--help']]])(
    'whirl %s ends quietly (exit 0, no EPIPE trace)',
    async (args) => {
      const r = await runIntoClosedPipe(args);
      expect(r.stderr).not.toMatch(/EPIPE|Error|at /);
      expect(r.code).toBe(0);
    },
  );

  it('leaves the output alone when the reader takes it all', () => {
    const out = execFileSync('bash', ['-c', `"${process.execPath}" "${WHIRL_BIN}" --help | head -1`], {
      env,
      encoding: 'utf8',
    });
    expect(out).toMatch(/^Whirl \S+: an OpenWhisk-compatible serverless platform/);
  });
});

describe('installed with npm install -g', () => {
  it('runs from any directory', { timeout: 180_000 }, async () => {
    // `npm install -g .` of a folder links it into the prefix (lib/node_modules/whirl and bin/whirl): no
    // network, no copy. --ignore-scripts: the build already ran (bin/whirl.js needs dist/).
    const prefix = join(dir, 'prefix');
    execFileSync(
      'npm',
      ['install', '-g', '--prefix', prefix, '--offline', '--ignore-scripts', '--no-audit', '--no-fund', ROOT],
      { env, stdio: 'pipe', timeout: 170_000 },
    );
    const bin = join(prefix, 'bin', 'whirl');
    expect(existsSync(bin)).toBe(true);
    const elsewhere = { cwd: tmpdir() };
    const version = execFileSync(bin, ['--version'], { env, encoding: 'utf8', ...elsewhere });
    expect(version).toMatch(/^whirl \d+\.\d+\.\d+\n$/);
    const props = execFileSync(bin, ['property', 'get', '--apihost'], {
      env,
      encoding: 'utf8',
      ...elsewhere,
    });
    expect(props).toBe('whisk API host\t\thttp://127.0.0.1:1\n');
  });
});
