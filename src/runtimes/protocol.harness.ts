// The harness shared by the runtime protocol cases: the handle a launcher returns, and helpers that
// speak /init and /run through it and check the logs the way OpenWhisk's own runtime tests do.
/* eslint-disable @typescript-eslint/no-explicit-any --
   test code (run by vitest like *.test.ts, which has the same relaxations): responses are loose JSON. */
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
