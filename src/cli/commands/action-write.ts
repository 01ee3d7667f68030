/**
 * `whirl action create|update`: builds the PUT body from the artifact and flags. `update` sends only
 * what was given (`?overwrite=true`): the server keeps the rest (parameters given replace the old set,
 * annotations merge, limits merge field by field — spec §1.5, §1.6.1).
 */
import type { FlagDef } from '../args.js';
import { UsageError } from '../args.js';
import type { Context } from '../command.js';
import { buildExec, readArtifact } from '../exec.js';
import {
  collectKeyValues,
  mergeKeyValues,
  webAnnotations,
  webEnabled,
  webSecureAnnotation,
} from '../keyvalues.js';
import { parseEntityName, qualifyComponent } from '../names.js';
import type { ActionLimits, ActionPut, KeyValue } from '../types.js';
import { ANNOTATION_FLAGS, PARAM_FLAGS } from './common.js';

export { PARAM_FLAGS };

const COMMON_WRITE_FLAGS: FlagDef[] = [
  {
    long: 'kind',
    kind: 'string',
    arg: 'KIND',
    help: 'runtime, e.g. nodejs:20, python:3, nodejs:default (default: from the extension)',
  },
  { long: 'main', kind: 'string', arg: 'NAME', help: 'entry function (default main)' },
  { long: 'docker', kind: 'string', arg: 'IMAGE', help: 'blackbox action using this docker image' },
  {
    long: 'native',
    kind: 'boolean',
    help: `native (blackbox) action: an executable or a zip with an 'exec' file`,
  },
  { long: 'sequence', kind: 'string', arg: 'A,B,C', help: 'a sequence of these actions (comma separated)' },
  ...PARAM_FLAGS,
  ...ANNOTATION_FLAGS,
  {
    long: 'timeout',
    short: 't',
    kind: 'number',
    arg: 'MS',
    help: 'time limit in milliseconds (default 60000)',
  },
  { long: 'memory', short: 'm', kind: 'number', arg: 'MB', help: 'memory limit in MB (default 256)' },
  { long: 'logsize', short: 'l', kind: 'number', arg: 'MB', help: 'log size limit in MB (default 10)' },
  {
    long: 'concurrency',
    short: 'c',
    kind: 'number',
    arg: 'N',
    help: 'activations one container may run at once (default 1)',
  },
  {
    long: 'web',
    kind: 'string',
    arg: 'true|false|raw',
    help: 'make it a web action (raw: unparsed HTTP request)',
  },
  {
    long: 'web-secure',
    kind: 'string',
    arg: 'SECRET|true|false',
    help: 'require this secret (true: a random one) on web requests',
  },
];

export const CREATE_FLAGS: FlagDef[] = [
  ...COMMON_WRITE_FLAGS,
  { long: 'copy', kind: 'boolean', help: 'copy: create NAME SOURCE_ACTION' },
];

export const UPDATE_FLAGS: FlagDef[] = [
  ...COMMON_WRITE_FLAGS,
  { long: 'del-annotation', kind: 'list', arg: 'KEY', help: 'remove this annotation (repeatable)' },
];

export const WRITE_DETAILS = `Examples:
  whirl action create hello hello.js -p name World
  whirl action create calc calc.zip --kind nodejs:default --main app.main
  whirl action create tool ./tool.sh                 (executable: a native action)
  whirl action create flow --sequence hello,/whisk.system/utils/echo
  whirl action create hello2 --copy hello
  whirl action update hello --web true -m 512`;

function limitsFrom(ctx: Context): ActionLimits | undefined {
  const limits: ActionLimits = {};
  const t = ctx.args.number('timeout');
  const m = ctx.args.number('memory');
  const l = ctx.args.number('logsize');
  const c = ctx.args.number('concurrency');
  if (t !== undefined) limits.timeout = t;
  if (m !== undefined) limits.memory = m;
  if (l !== undefined) limits.logs = l;
  if (c !== undefined) limits.concurrency = c;
  return Object.keys(limits).length === 0 ? undefined : limits;
}

/** Annotations given by `-a`, `-A`, `--web`, `--web-secure`; undefined when none. */
function annotationsFrom(ctx: Context, update: boolean): KeyValue[] | undefined {
  const lists: KeyValue[][] = [];
  if (ctx.args.has('annotation') || ctx.args.has('annotation-file')) {
    lists.push(
      collectKeyValues(ctx.args.pairs('annotation'), ctx.args.list('annotation-file'), '--annotation-file'),
    );
  }
  const web = ctx.args.string('web');
  if (web !== undefined) lists.push(webAnnotations(web));
  const secure = ctx.args.string('web-secure');
  if (secure !== undefined) {
    const offWeb = web !== undefined && !webEnabled(web);
    if (offWeb || (!update && web === undefined && secure.toLowerCase() !== 'false')) {
      throw new UsageError('--web-secure applies to web actions: add --web true (or --web raw)');
    }
    lists.push([webSecureAnnotation(secure)]);
  }
  return lists.length === 0 ? undefined : mergeKeyValues(...lists);
}

function parametersFrom(ctx: Context): KeyValue[] | undefined {
  if (!ctx.args.has('param') && !ctx.args.has('param-file')) return undefined;
  return collectKeyValues(ctx.args.pairs('param'), ctx.args.list('param-file'), '--param-file');
}

/** The PUT body for create/update (without the `--copy` source merged in). */
export function actionBody(ctx: Context, update: boolean): ActionPut {
  const [, artifactPath] = ctx.args.positionals;
  const body: ActionPut = {};
  const sequence = ctx.args.string('sequence');
  const docker = ctx.args.string('docker');
  const native = ctx.args.bool('native');
  const kind = ctx.args.string('kind');
  const main = ctx.args.string('main');
  if (sequence !== undefined) {
    if (artifactPath !== undefined) throw new UsageError('--sequence takes the components, not an ARTIFACT');
    if (docker !== undefined || native || kind !== undefined)
      throw new UsageError('--sequence cannot be combined with --kind, --docker or --native');
    const components = sequence
      .split(',')
      .map((c) => c.trim())
      .filter((c) => c !== '');
    if (components.length === 0) throw new UsageError('--sequence needs at least one action name');
    body.exec = { kind: 'sequence', components: components.map((c) => qualifyComponent(c, ctx.namespace)) };
  } else if (artifactPath !== undefined || docker !== undefined) {
    if (docker !== undefined && native)
      throw new UsageError('use either --docker IMAGE or --native, not both');
    body.exec = buildExec(artifactPath === undefined ? undefined : readArtifact(artifactPath), {
      kind,
      main,
      docker,
      native,
    });
  } else if (!update) {
    throw new UsageError(`'whirl action create' needs NAME and ARTIFACT (or --sequence, --docker, --copy)`);
  } else if (kind !== undefined || main !== undefined || native) {
    throw new UsageError('--kind, --main and --native change the code: give the ARTIFACT too');
  }
  const parameters = parametersFrom(ctx);
  if (parameters !== undefined) body.parameters = parameters;
  const annotations = annotationsFrom(ctx, update);
  if (annotations !== undefined) body.annotations = annotations;
  const limits = limitsFrom(ctx);
  if (limits !== undefined) body.limits = limits;
  const del = ctx.args.list('del-annotation');
  if (del.length > 0) body.delAnnotations = del;
  return body;
}

export async function createAction(ctx: Context): Promise<void> {
  const [name, second] = ctx.args.positionals as [string, string | undefined];
  parseEntityName(name, ctx.namespace);
  const client = ctx.client();
  if (ctx.args.bool('copy')) {
    if (second === undefined)
      throw new UsageError(`--copy needs the action to copy: whirl action create NAME SOURCE --copy`);
    for (const f of ['sequence', 'docker', 'native', 'kind', 'main']) {
      if (ctx.args.has(f)) throw new UsageError(`--copy cannot be combined with --${f}`);
    }
    const source = await ctx.attempt(`get action '${second}'`, () => client.actions.get(second));
    const own: ActionPut = actionBodyWithoutArtifact(ctx);
    const body: ActionPut = {
      exec: source.exec as ActionPut['exec'],
      // A sequence's stored `_actions` parameter mirrors its components; the server writes it again.
      parameters: mergeKeyValues(
        (source.parameters ?? []).filter((p) => p.key !== '_actions'),
        own.parameters ?? [],
      ),
      annotations: mergeKeyValues(source.annotations ?? [], own.annotations ?? []),
      limits: { ...source.limits, ...own.limits },
    };
    await ctx.attempt(`create action '${name}'`, () => client.actions.put(name, body));
    ctx.ok(`created action ${name}`);
    return;
  }
  const body = actionBody(ctx, false);
  await ctx.attempt(`create action '${name}'`, () => client.actions.put(name, body));
  ctx.ok(`created action ${name}`);
}

/** `--copy`: the flags other than the code (the second positional is the source, not an artifact). */
function actionBodyWithoutArtifact(ctx: Context): ActionPut {
  const body: ActionPut = {};
  const parameters = parametersFrom(ctx);
  if (parameters !== undefined) body.parameters = parameters;
  const annotations = annotationsFrom(ctx, false);
  if (annotations !== undefined) body.annotations = annotations;
  const limits = limitsFrom(ctx);
  if (limits !== undefined) body.limits = limits;
  return body;
}

export async function updateAction(ctx: Context): Promise<void> {
  const name = ctx.args.positionals[0]!;
  parseEntityName(name, ctx.namespace);
  const body = actionBody(ctx, true);
  const client = ctx.client();
  await ctx.attempt(`update action '${name}'`, () => client.actions.put(name, body, { overwrite: true }));
  ctx.ok(`updated action ${name}`);
}
