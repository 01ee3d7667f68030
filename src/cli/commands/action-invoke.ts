/**
 * `whirl action invoke NAME [-b|-r] [-p K V] [-P FILE]`.
 *
 * Non-blocking: `ok: invoked /_/NAME with id ID`. Blocking: that line and the activation JSON (or only
 * the result with `-r`). A failed activation still prints its JSON on stdout, explains itself on stderr
 * and exits 4 (1 for a whisk internal error); a blocking wait that ends first exits 5 (see exit-codes.ts).
 */
import { UsageError, type FlagDef } from '../args.js';
import type { Context } from '../command.js';
import { activationExitCode, ExitCode } from '../exit-codes.js';
import { collectKeyValues, toObject } from '../keyvalues.js';
import { parseEntityName, qualifiedName } from '../names.js';
import type { Activation } from '../types.js';
import { PARAM_FLAGS } from './action-write.js';

export const INVOKE_FLAGS: FlagDef[] = [
  { long: 'blocking', short: 'b', kind: 'boolean', help: 'wait for the result (up to 60 s)' },
  { long: 'result', short: 'r', kind: 'boolean', help: 'print only the result (implies --blocking)' },
  {
    long: 'wait',
    kind: 'number',
    arg: 'MS',
    help: 'with -b/-r: wait at most this long for the result (1..60000; a Whirl extension)',
  },
  ...PARAM_FLAGS,
];

function statusOf(httpStatus: number, body: unknown): string | number {
  const response = (body as Activation | undefined)?.response;
  if (typeof response?.status === 'string') return response.status;
  if (typeof response?.statusCode === 'number') return response.statusCode;
  return httpStatus === 200 ? 0 : httpStatus === 502 ? 1 : 3;
}

/** The activation's status in words, as the record has it ('action developer error', ...). */
export function statusLabel(status: string | number): string {
  if (typeof status === 'string') return status;
  return (
    ['success', 'application error', 'action developer error', 'whisk internal error'][status] ?? 'unknown'
  );
}

/** The result inside a blocking answer (an array result comes back bare, without a record around it). */
function resultOf(body: unknown): unknown {
  const response = (body as Activation | undefined)?.response;
  return response === undefined || Array.isArray(body) ? body : (response.result ?? {});
}

function errorText(value: unknown): string {
  const error = (value as { error?: unknown } | null)?.error;
  const v = error === undefined ? value : error;
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}

export async function invokeAction(ctx: Context): Promise<number> {
  const name = ctx.args.positionals[0]!;
  const entity = parseEntityName(name, ctx.namespace);
  const display = qualifiedName(entity);
  const resultOnly = ctx.args.bool('result');
  const blocking = resultOnly || ctx.args.bool('blocking');
  if (ctx.args.positionals.length > 1)
    throw new UsageError(`give parameters with -p KEY VALUE, not as arguments`);
  const payload = toObject(
    collectKeyValues(ctx.args.pairs('param'), ctx.args.list('param-file'), '--param-file'),
  );
  const client = ctx.client();
  // `-r` still asks for the whole activation (not `result=true`): the answer to `result=true` is the bare
  // result with 502 for both application and developer errors, and only the record says which it was.
  const outcome = await ctx.attempt(`invoke action '${name}'`, () =>
    client.actions.invoke(entity, payload, { blocking, timeout: ctx.args.number('wait') }),
  );
  const id = outcome.activationId ?? '(unknown)';
  if (!blocking) {
    ctx.ok(`invoked ${display} with id ${id}`);
    return ExitCode.Ok;
  }
  if (outcome.pending) {
    ctx.ok(`invoked ${display} with id ${id}`);
    ctx.io.err(
      `error: ${display} is still running: the blocking wait ended before the activation did.\n` +
        `Get its result later with 'whirl activation result ${id}' (or 'whirl activation get ${id}').\n`,
    );
    return ExitCode.StillRunning;
  }
  const status = statusOf(outcome.status, outcome.body);
  const code = activationExitCode(status);
  const result = resultOf(outcome.body);
  if (code === ExitCode.Ok) {
    if (!resultOnly) ctx.ok(`invoked ${display} with id ${id}`);
    ctx.json(resultOnly ? result : outcome.body);
    return code;
  }
  ctx.json(resultOnly ? result : outcome.body);
  ctx.io.err(
    `error: ${display} failed (${statusLabel(status)}) in activation ${id}: ${errorText(result)}\n` +
      `Run 'whirl activation logs ${id}' to see its logs.\n`,
  );
  return code;
}
