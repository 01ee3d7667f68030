/**
 * `whirl action create|update|invoke|get|delete|list`, with `wsk`'s flags and output.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError, type FlagDef } from '../args.js';
import { runNoun, type Context, type Noun } from '../command.js';
import { CommandError } from '../errors.js';
import { codeExtension } from '../exec.js';
import { ExitCode } from '../exit-codes.js';
import { listScope, parseEntityName } from '../names.js';
import { actionKind, entityRow, fieldOf, sortByName } from '../output.js';
import { annotation, type Action, type CodeExec } from '../types.js';
import { INVOKE_FLAGS, invokeAction } from './action-invoke.js';
import { CREATE_FLAGS, UPDATE_FLAGS, WRITE_DETAILS, createAction, updateAction } from './action-write.js';

/** `<apihost>/api/v1/web/<ns>/<pkg|default>/<name>` of an action (from its `namespace`, `ns` or `ns/pkg`). */
export function webUrl(apihost: string, action: Pick<Action, 'namespace' | 'name'>): string {
  const [ns, pkg] = action.namespace.split('/');
  return `${apihost}/api/v1/web/${[ns!, pkg ?? 'default', action.name].map(encodeURIComponent).join('/')}`;
}

/** `--summary`: name, description and parameters (bound ones marked `*`). */
export function actionSummaryText(action: Action): string {
  const description = annotation(action, 'description');
  const lines = [
    `action /${action.namespace}/${action.name}${typeof description === 'string' ? `: ${description}` : ''}`,
  ];
  const bound = (action.parameters ?? []).filter((p) => p.key !== '_actions').map((p) => p.key);
  const declared = annotation(action, 'parameters');
  const names = new Set(bound.map((k) => `*${k}`));
  if (Array.isArray(declared)) {
    for (const d of declared as { name?: unknown }[]) {
      if (typeof d.name === 'string' && !bound.includes(d.name)) names.add(d.name);
    }
  }
  lines.push(`   (parameters: ${names.size === 0 ? 'none defined' : [...names].join(', ')})`);
  return lines.join('\n');
}

const GET_FLAGS: FlagDef[] = [
  { long: 'summary', short: 's', kind: 'boolean', help: 'print a summary: description and parameters' },
  { long: 'url', short: 'r', kind: 'boolean', help: 'print the web URL of the action' },
  { long: 'save', kind: 'boolean', help: 'save the code to a file named after the action' },
  { long: 'save-as', kind: 'string', arg: 'FILE', help: 'save the code to FILE' },
];

async function getAction(ctx: Context): Promise<void> {
  const [name, field] = ctx.args.positionals as [string, string | undefined];
  parseEntityName(name, ctx.namespace);
  const summary = ctx.args.bool('summary');
  const url = ctx.args.bool('url');
  const saveAs = ctx.args.string('save-as');
  const save = ctx.args.bool('save') || saveAs !== undefined;
  if ([summary, url, save, field !== undefined].filter(Boolean).length > 1) {
    throw new UsageError('use only one of FIELD, --summary, --url, --save/--save-as');
  }
  const client = ctx.client();
  const withCode = save || (!summary && !url);
  const action = await ctx.attempt(`get action '${name}'`, () =>
    client.actions.get(name, withCode ? undefined : { code: false }),
  );
  if (summary) {
    ctx.line(actionSummaryText(action));
    return;
  }
  if (url) {
    ctx.ok(`got action ${name}`);
    ctx.line(webUrl(client.apihost, action));
    // The URL answers 404 until the action is exported: say so rather than let the user find out.
    if (annotation(action, 'web-export') !== true) {
      ctx.warn(
        `'${name}' is not a web action, so this URL answers 404; make it one with 'whirl action update ${name} --web true'.`,
      );
    }
    return;
  }
  if (save) {
    const exec = action.exec as CodeExec;
    if (exec.kind === 'sequence' || typeof exec.code !== 'string') {
      throw new CommandError(
        `action '${name}' has no code to save (kind ${exec.kind ?? 'unknown'})`,
        ExitCode.Usage,
      );
    }
    const binary = exec.binary === true;
    const content = binary ? Buffer.from(exec.code, 'base64') : Buffer.from(exec.code, 'utf8');
    const file = resolve(saveAs ?? `${action.name}${codeExtension(exec.kind, content, binary)}`);
    if (existsSync(file)) {
      throw new CommandError(`the file '${file}' already exists`, ExitCode.Usage, [
        'Remove it, or pick another name with --save-as FILE.',
      ]);
    }
    const executable = exec.kind === 'blackbox' || exec.kind === 'native';
    writeFileSync(file, content, { mode: executable ? 0o755 : 0o644 });
    ctx.ok(`saved action code to ${file}`);
    return;
  }
  if (field !== undefined) {
    const value = fieldOf(action, field);
    if (value === undefined) {
      throw new UsageError(`the action has no field '${field}' (fields: ${Object.keys(action).join(', ')})`);
    }
    ctx.ok(`got action ${name}, displaying field ${field}`);
    ctx.json(value);
    return;
  }
  ctx.ok(`got action ${name}`);
  ctx.json(action);
}

async function deleteAction(ctx: Context): Promise<void> {
  const name = ctx.args.positionals[0]!;
  parseEntityName(name, ctx.namespace);
  const client = ctx.client();
  await ctx.attempt(`delete action '${name}'`, () => client.actions.delete(name));
  ctx.ok(`deleted action ${name}`);
}

export const LIST_FLAGS: FlagDef[] = [
  { long: 'skip', short: 's', kind: 'number', arg: 'N', help: 'skip this many entities from the start' },
  {
    long: 'limit',
    short: 'l',
    kind: 'number',
    arg: 'N',
    help: 'list at most N entities (default 30, max 200)',
  },
  {
    long: 'name-sort',
    short: 'n',
    kind: 'boolean',
    help: 'sort by name (default: most recently updated first)',
  },
];

async function listActions(ctx: Context): Promise<void> {
  const scope = listScope(ctx.args.positionals[0], ctx.namespace);
  const client = ctx.client();
  const what = scope.pkg === undefined ? 'list actions' : `list the actions of package '${scope.pkg}'`;
  let actions = await ctx.attempt(what, () =>
    client.actions.list({ ...scope, limit: ctx.args.number('limit'), skip: ctx.args.number('skip') }),
  );
  if (ctx.args.bool('name-sort')) actions = sortByName(actions);
  ctx.line('actions');
  for (const a of actions) ctx.line(entityRow(a, actionKind(a)));
}

export const actionNoun: Noun = {
  name: 'action',
  summary: 'Work with actions.',
  verbs: [
    {
      name: 'create',
      args: 'NAME [ARTIFACT]',
      summary: 'create a new action',
      flags: CREATE_FLAGS,
      min: 1,
      max: 2,
      details: WRITE_DETAILS,
      run: createAction,
    },
    {
      name: 'update',
      args: 'NAME [ARTIFACT]',
      summary: 'update an action (or create it); only what is given changes',
      flags: UPDATE_FLAGS,
      min: 1,
      max: 2,
      details: WRITE_DETAILS,
      run: updateAction,
    },
    {
      name: 'invoke',
      args: 'NAME',
      summary: 'invoke an action',
      flags: INVOKE_FLAGS,
      min: 1,
      details: `Exit codes with -b/-r: 0 success, 4 the action failed, 5 still running after the wait, 1 whisk error.`,
      run: invokeAction,
    },
    {
      name: 'get',
      args: 'NAME [FIELD]',
      summary: 'get an action (or one FIELD of it, e.g. exec or limits.memory)',
      flags: GET_FLAGS,
      min: 1,
      max: 2,
      run: getAction,
    },
    { name: 'delete', args: 'NAME', summary: 'delete an action', min: 1, max: 1, run: deleteAction },
    {
      name: 'list',
      args: '[/NAMESPACE | PACKAGE]',
      summary: 'list actions',
      flags: LIST_FLAGS,
      max: 1,
      run: listActions,
    },
  ],
};

export const actionCommand = (argv: string[]): Promise<number> => runNoun(actionNoun, argv);
