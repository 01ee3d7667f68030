// The harness shared by the runtime protocol cases: the handle a launcher returns, and helpers that
// speak /init and /run through it and check the logs the way OpenWhisk's own runtime tests do.
/* eslint-disable @typescript-eslint/no-explicit-any --
   test code (run by vitest like *.test.ts, which has the same relaxations): responses are loose JSON. */
import { Agent, request } from 'node:http';
import { expect } from 'vitest';
import type { ProxyKind } from './protocol.fixtures.js';

export interface ProxyHandle {
  request(
    path: string,
    body: unknown,
    opts?: { raw?: string },
  ): Promise<{ status: number; body: any; text: string }>;
  /** Everything the proxy printed so far. */
  output(): { stdout: string; stderr: string };
  /** Resolves once both streams hold at least `count` sentinels. */
  waitForSentinels(count: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export type ProxyLauncher = (kind: ProxyKind, env?: Record<string, string>) => Promise<ProxyHandle>;

export const SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX';
const SENTINEL_LINE = new RegExp(`^(\\[\\[whirl:[^\\]]*\\]\\] )?${SENTINEL}$`);

export type Response = Awaited<ReturnType<ProxyHandle['request']>>;

export interface InitOptions {
  main?: string;
  binary?: boolean;
  env?: Record<string, unknown>;
}

export function init(h: ProxyHandle, code: string, opts: InitOptions = {}): Promise<Response> {
  const { main = 'main', binary = false, env = {} } = opts;
  return h.request('/init', { value: { name: 'action', main, code, binary, env } });
}

export async function initOk(h: ProxyHandle, code: string, opts: InitOptions = {}): Promise<void> {
  const res = await init(h, code, opts);
  expect(res.status, res.text).toBe(200);
}

export function run(h: ProxyHandle, value: unknown, extra: Record<string, unknown> = {}): Promise<Response> {
  return h.request('/run', { value, ...extra });
}

export function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

/**
 * Waits for `sentinels` markers, then checks there are exactly that many on each stream, each on a
 * line of its own; returns the streams without them, trimmed (OpenWhisk's checkStreams).
 */
export async function streams(h: ProxyHandle, sentinels: number): Promise<{ out: string; err: string }> {
  if (sentinels > 0) await h.waitForSentinels(sentinels);
  const { stdout, stderr } = h.output();
  for (const [name, text] of [
    ['stdout', stdout],
    ['stderr', stderr],
  ] as const) {
    expect(count(text, SENTINEL), `${name} sentinels in:\n${text}`).toBe(sentinels);
    // Each marker ends a line of its own (a log tag may precede it when tagging is on).
    for (const line of text.split('\n').filter((l) => l.includes(SENTINEL))) {
      expect(line).toMatch(SENTINEL_LINE);
    }
  }
  const strip = (text: string): string =>
    text
      .split('\n')
      .filter((line) => !line.endsWith(SENTINEL))
      .join('\n')
      .trim();
  return { out: strip(stdout), err: strip(stderr) };
}

/** Polls the logs until `text` shows up on stdout or stderr. */
export async function waitForLog(h: ProxyHandle, text: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { stdout, stderr } = h.output();
    if (stdout.includes(text) || stderr.includes(text)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`"${text}" did not appear in the logs`);
}

export type Start = (kind: ProxyKind, env?: Record<string, string>) => Promise<ProxyHandle>;

/** Registers one case with its own proxies (started through `start`, always stopped afterwards). */
export type ProxyCase = (title: string, body: (start: Start) => Promise<void>, timeout?: number) => void;
/** describe, or describe.concurrent. */
export type Group = (title: string, body: () => void) => void;

/** Where a proxy answers: a Unix socket or a TCP port. */
export type ProxyTarget = { socketPath: string } | { host: string; port: number };

/** Captured output of a proxy, and a way to hear when more arrives. */
export interface CapturedOutput {
  out: { stdout: string; stderr: string };
  listeners: Set<() => void>;
}

function post(
  target: ProxyTarget,
  agent: Agent,
  path: string,
  payload: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        ...target,
        agent,
        path,
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** A ProxyHandle speaking HTTP to `target`, reading `captured` output; `stop` ends the proxy. */
export function httpProxyHandle(
  target: ProxyTarget,
  captured: CapturedOutput,
  stop: () => Promise<void>,
): ProxyHandle {
  const agent = new Agent({ keepAlive: true });
  const { out, listeners } = captured;
  return {
    async request(path, body, opts) {
      const { status, text } = await post(target, agent, path, opts?.raw ?? JSON.stringify(body));
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { status, body: parsed, text };
    },
    output: () => ({ ...out }),
    waitForSentinels(n, timeoutMs = 10_000) {
      const enough = (): boolean =>
        out.stdout.split(SENTINEL).length > n && out.stderr.split(SENTINEL).length > n;
      if (enough()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const listener = (): void => {
          if (!enough()) return;
          listeners.delete(listener);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`expected ${n} sentinels per stream; got:\n${out.stdout}\n---\n${out.stderr}`));
        }, timeoutMs);
        listeners.add(listener);
      });
    },
    async stop() {
      agent.destroy();
      await stop();
    },
  };
}
