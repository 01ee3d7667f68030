/**
 * `whirl activation list|get|logs|result|poll`.
 */
import { UsageError, type FlagDef } from '../args.js';
import { runNoun, type Context, type Noun } from '../command.js';
import { CommandError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { activationScope } from '../names.js';
import { ACTIVATION_HEADER, activationRow, fieldOf, formatTime, json, stripLogLine } from '../output.js';
import { annotation, type Activation } from '../types.js';
import { pollActivations, POLL_FLAGS } from './activation-poll.js';

const LIST_FLAGS: FlagDef[] = [
  { long: 'skip', short: 's', kind: 'number', arg: 'N', help: 'skip this many activations from the start' },
  {
    long: 'limit',
    short: 'l',
    kind: 'number',
    arg: 'N',
    help: 'list at most N activations (default 30, max 200)',
  },
  { long: 'full', short: 'f', kind: 'boolean', help: 'print the full records as JSON' },
  {
    long: 'since',
    kind: 'number',
    arg: 'EPOCH_MS',
    help: 'only activations started at or after this time (ms)',
  },
  {
    long: 'upto',
    kind: 'number',
    arg: 'EPOCH_MS',
    help: 'only activations started at or before this time (ms)',
  },
];

async function listActivations(ctx: Context): Promise<void> {
  const scope = activationScope(ctx.args.positionals[0], ctx.namespace);
  const client = ctx.client();
  const o = {
    ...scope,
    limit: ctx.args.number('limit'),
    skip: ctx.args.number('skip'),
    since: ctx.args.number('since'),
    upto: ctx.args.number('upto'),
  };
  if (ctx.args.bool('full')) {
    const records = await ctx.attempt('list activations', () => client.activations.listFull(o));
    ctx.json(records);
    return;
  }
  const list = await ctx.attempt('list activations', () => client.activations.list(o));
  ctx.line(ACTIVATION_HEADER);
  for (const a of list) ctx.line(activationRow(a));
}

const LAST_FLAG: FlagDef = {
  long: 'last',
  short: 'l',
  kind: 'boolean',
  help: 'use the most recent activation',
};

/** The activation id: the first positional, or the newest activation with `--last`. */
async function activationId(
  ctx: Context,
  rest: 'field' | 'none',
): Promise<{ id: string; field?: string | undefined }> {
  const [first, second] = ctx.args.positionals;
  if (ctx.args.bool('last')) {
    if (rest === 'none' && first !== undefined)
      throw new UsageError(`give either an ACTIVATION_ID or --last, not both`);
    if (second !== undefined) throw new UsageError(`too many arguments: ${second}`);
    const client = ctx.client();
    const [newest] = await ctx.attempt('list activations', () => client.activations.list({ limit: 1 }));
    if (newest === undefined) {
      throw new CommandError('there are no activations yet', ExitCode.RequestFailed, [
        `Invoke an action first: 'whirl action invoke NAME'.`,
      ]);
    }
    return { id: newest.activationId, field: first };
  }
  if (first === undefined) throw new UsageError('give an ACTIVATION_ID, or --last for the most recent one');
  if (rest === 'none' && second !== undefined) throw new UsageError(`too many arguments: ${second}`);
  return { id: first, field: second };
}

const GET_FLAGS: FlagDef[] = [
  LAST_FLAG,
  {
    long: 'summary',
    short: 's',
    kind: 'boolean',
    help: 'print a summary: what ran, its status, end time and duration, then the result',
  },
  { long: 'logs', short: 'g', kind: 'boolean', help: 'print only the logs, without timestamps and streams' },
];

/**
 * `activation get --summary`, in `wsk`'s layout with the duration added:
 *   activation result for '/guest/hello' (success at 2026-12-03 18:30:00, 12ms)
 * and the result as JSON. The entity is the `path` annotation (it names the package) when there is one.
 */
export function activationSummaryText(a: Activation): string {
  const path = annotation(a, 'path');
  const entity = typeof path === 'string' ? `/${path}` : `/${a.namespace}/${a.name}`;
  const status = a.response?.status ?? 'unknown';
  const end = a.end === undefined ? 'still running' : formatTime(a.end);
  const duration = a.duration === undefined ? '' : `, ${a.duration}ms`;
  return `activation result for '${entity}' (${status} at ${end}${duration})\n${json(a.response?.result ?? {})}`;
}

async function getActivation(ctx: Context): Promise<void> {
  const { id, field } = await activationId(ctx, 'field');
  const summary = ctx.args.bool('summary');
  const logsOnly = ctx.args.bool('logs');
  if (summary && logsOnly) throw new UsageError('give either --summary or --logs, not both');
  if ((summary || logsOnly) && field !== undefined)
    throw new UsageError(`--${summary ? 'summary' : 'logs'} prints no FIELD: leave out '${field}'`);
  const client = ctx.client();
  const record = await ctx.attempt(`get activation '${id}'`, () => client.activations.get(id));
  if (summary) {
    ctx.line(activationSummaryText(record));
    return;
  }
  if (logsOnly) {
    for (const line of record.logs ?? []) ctx.line(stripLogLine(line));
    return;
  }
  if (field !== undefined) {
    const value = fieldOf(record, field);
    if (value === undefined) {
      throw new UsageError(
        `the activation has no field '${field}' (fields: ${Object.keys(record).join(', ')})`,
      );
    }
    ctx.ok(`got activation ${id}, displaying field ${field}`);
    ctx.json(value);
    return;
  }
  ctx.ok(`got activation ${id}`);
  ctx.json(record);
}

async function activationLogs(ctx: Context): Promise<void> {
  const { id } = await activationId(ctx, 'none');
  const client = ctx.client();
  const logs = await ctx.attempt(`get the logs of activation '${id}'`, () => client.activations.logs(id));
  const strip = ctx.args.bool('strip');
  for (const line of logs) ctx.line(strip ? stripLogLine(line) : line);
}

async function activationResult(ctx: Context): Promise<void> {
  const { id } = await activationId(ctx, 'none');
  const client = ctx.client();
  const response = await ctx.attempt(`get the result of activation '${id}'`, () =>
    client.activations.result(id),
  );
  ctx.json(response.result ?? {});
}

export const activationNoun: Noun = {
  name: 'activation',
  summary: 'Work with activations (the records of action runs).',
  verbs: [
    {
      name: 'list',
      args: '[NAME | /NAMESPACE]',
      summary: 'list activations, newest first (optionally of one action)',
      flags: LIST_FLAGS,
      max: 1,
      run: listActivations,
    },
    {
      name: 'get',
      args: '(ACTIVATION_ID | --last) [FIELD]',
      summary: 'get an activation (or one FIELD of it, e.g. response.result; --summary; --logs)',
      flags: GET_FLAGS,
      max: 2,
      run: getActivation,
    },
    {
      name: 'logs',
      args: '(ACTIVATION_ID | --last)',
      summary: 'print the logs of an activation',
      flags: [
        LAST_FLAG,
        { long: 'strip', short: 'r', kind: 'boolean', help: 'leave out the timestamp and stream' },
      ],
      max: 1,
      run: activationLogs,
    },
    {
      name: 'result',
      args: '(ACTIVATION_ID | --last)',
      summary: 'print the result of an activation',
      flags: [LAST_FLAG],
      max: 1,
      run: activationResult,
    },
    {
      name: 'poll',
      args: '[NAME | /NAMESPACE]',
      summary: 'print the logs of new activations as they arrive (Ctrl-C to stop)',
      flags: POLL_FLAGS,
      max: 1,
      run: pollActivations,
    },
  ],
};

export const activationCommand = (argv: string[]): Promise<number> => runNoun(activationNoun, argv);
