/**
 * Runs the compiled `whirl` CLI as a child process, as a user would, for the CLI end-to-end tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { WHIRL_BIN } from '../helpers/standalone.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  timeoutMs?: number;
}

export interface RunningCli {
  child: ChildProcess;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  done: Promise<CliResult>;
}

export function startCli(env: Record<string, string>, args: string[], o: CliOptions = {}): RunningCli {
  const child = spawn(process.execPath, [WHIRL_BIN, ...args], {
    env,
    cwd: o.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`whirl ${args.join(' ')} did not finish:\n${stdout}\n${stderr}`));
    }, o.timeoutMs ?? 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, stdout: () => stdout, stderr: () => stderr, done };
}

export function cli(env: Record<string, string>, args: string[], o: CliOptions = {}): Promise<CliResult> {
  return startCli(env, args, o).done;
}

/** Env for a CLI run with no WHISK_* overrides and its own properties file. */
export function isolatedEnv(base: Record<string, string>, propsFile: string): Record<string, string> {
  const env: Record<string, string> = { ...base, WSK_CONFIG_FILE: propsFile };
  delete env.WHISK_AUTH;
  delete env.WHISK_APIHOST;
  delete env.WHISK_APIVERSION;
  return env;
}

/** The JSON printed after an `ok: ...` line (the first line). */
export function jsonAfterOk<T = Record<string, unknown>>(stdout: string): T {
  const [first, ...rest] = stdout.split('\n');
  if (!/^ok: /.test(first ?? '')) throw new Error(`expected an 'ok:' line first:\n${stdout}`);
  return JSON.parse(rest.join('\n')) as T;
}

/** Polls `check` until it holds (or fails after `ms`). */
export async function until(
  check: () => boolean | Promise<boolean>,
  ms = 10_000,
  every = 100,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, every));
  }
}
