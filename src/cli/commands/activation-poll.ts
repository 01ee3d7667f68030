/**
 * `whirl activation poll [NAME]`: every second, lists the activations started since the poll began (or
 * since `--since-*` ago) and prints the logs of each new one once its record exists. Records are written
 * when an activation ends, so the window reaches back far enough to catch the longest-running action.
 */
import type { FlagDef } from '../args.js';
import { WhirlApiError, WhirlConnectionError } from '../client.js';
import type { Context } from '../command.js';
import { activationScope } from '../names.js';
import { statusWord } from '../output.js';
import type { ActivationSummary } from '../types.js';

export const POLL_FLAGS: FlagDef[] = [
  { long: 'exit', short: 'e', kind: 'number', arg: 'SECONDS', help: 'stop polling after this many seconds' },
  { long: 'since-seconds', kind: 'number', arg: 'N', help: 'start from activations N seconds ago' },
  { long: 'since-minutes', kind: 'number', arg: 'N', help: 'start from activations N minutes ago' },
  { long: 'since-hours', kind: 'number', arg: 'N', help: 'start from activations N hours ago' },
  { long: 'since-days', kind: 'number', arg: 'N', help: 'start from activations N days ago' },
];

export const POLL_INTERVAL_MS = 1000;
/** How far back each poll looks (longer than the longest action time limit, 5 minutes). */
const LOOKBACK_MS = 6 * 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function pollActivations(ctx: Context): Promise<void> {
  const scope = activationScope(ctx.args.positionals[0], ctx.namespace);
  const back =
    (ctx.args.number('since-seconds') ?? 0) * 1000 +
    (ctx.args.number('since-minutes') ?? 0) * 60_000 +
    (ctx.args.number('since-hours') ?? 0) * 3_600_000 +
    (ctx.args.number('since-days') ?? 0) * 86_400_000;
  const exit = ctx.args.number('exit');
  const startedAt = Date.now();
  const from = startedAt - back;
  const deadline = exit === undefined ? undefined : startedAt + exit * 1000;
  const client = ctx.client();
  // First contact: fail fast on configuration problems.
  await ctx.attempt('list activations', () => client.activations.list({ ...scope, limit: 1 }));
  ctx.line('Enter Ctrl-C to exit.');
  ctx.line(`Polling for activation logs${scope.name === undefined ? '' : ` of '${scope.name}'`}`);

  const seen = new Map<string, number>();
  let warned = false;
  for (;;) {
    const windowStart = Math.max(from, Date.now() - LOOKBACK_MS);
    try {
      const list = await client.activations.list({ ...scope, since: windowStart, limit: 200 });
      warned = false;
      const fresh = list.filter((a) => !seen.has(a.activationId)).sort((a, b) => a.start - b.start);
      for (const a of fresh) {
        seen.set(a.activationId, a.start);
        await printActivation(ctx, a, () => client.activations.logs(a.activationId, scope.namespace));
      }
      for (const [id, start] of seen) if (start < windowStart - 60_000) seen.delete(id);
    } catch (err) {
      if (!(err instanceof WhirlApiError || err instanceof WhirlConnectionError)) throw err;
      if (!warned) ctx.warn(`polling failed (${err.message}); retrying`);
      warned = true;
    }
    const now = Date.now();
    if (deadline !== undefined && now >= deadline) return;
    await sleep(deadline === undefined ? POLL_INTERVAL_MS : Math.min(POLL_INTERVAL_MS, deadline - now));
  }
}

async function printActivation(
  ctx: Context,
  a: ActivationSummary,
  logs: () => Promise<string[]>,
): Promise<void> {
  const duration = a.duration === undefined ? '' : ` ${a.duration}ms`;
  ctx.line('');
  ctx.line(`Activation: '${a.name}' (${a.activationId}) ${statusWord(a.statusCode)}${duration}`);
  let lines: string[];
  try {
    lines = await logs();
  } catch (err) {
    ctx.warn(`cannot get the logs of ${a.activationId}: ${(err as Error).message}`);
    return;
  }
  for (const line of lines) ctx.line(`  ${line}`);
}
