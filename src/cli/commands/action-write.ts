/**
 * `whirl action create|update`: builds the PUT body from the artifact and flags. `update` sends only
 * what was given (`?overwrite=true`) and the server keeps the rest; what is given replaces the old value
 * as a whole, as in OpenWhisk: `-p` replaces the parameters, `-a` the annotations, and limits merge field
 * by field (spec §1.5, §1.6.1). `--web`/`--web-secure` without `-a` keep the other annotations, because
 * the CLI sends the current ones with the web flags changed, as `wsk` does.
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
import { annotation, type ActionLimits, type ActionPut, type KeyValue } from '../types.js';
import { WhirlApiError, WhirlConnectionError } from '../client.js';
import { AttemptError } from '../errors.js';
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

/** `-a`/`-A` as key/values; undefined when neither was given. */
function givenAnnotations(ctx: Context): KeyValue[] | undefined {
  if (!ctx.args.has('annotation') && !ctx.args.has('annotation-file')) return undefined;
  return collectKeyValues(
    ctx.args.pairs('annotation'),
    ctx.args.list('annotation-file'),
    '--annotation-file',
  );
}

/** The annotations that make an action a web action, and its secret. */
const WEB_KEYS = ['web-export', 'raw-http', 'final', 'require-whisk-auth'];

export interface AnnotationFlags {
  /** `-a`/`-A`. */
  given?: KeyValue[] | undefined;
  web?: string | undefined;
  secure?: string | undefined;
  /** On update: the action's current annotations (undefined when it does not exist yet). */
  existing?: KeyValue[] | undefined;
}

/**
 * The annotations to send, `wsk`'s way. `-a`/`-A` alone: exactly those (an update replaces the old set).
 * With `--web`/`--web-secure` on an update, the current annotations are the starting point when no `-a`
 * is given, and the current web ones are kept under the given ones when it is; then the flags apply.
 * Undefined: send no annotations (an update keeps the old ones).
 */
export function annotationsFor(f: AnnotationFlags, update: boolean): KeyValue[] | undefined {
  if (f.web === undefined && f.secure === undefined) return f.given;
  const existing = update ? (f.existing ?? []) : [];
  let out =
    f.given === undefined
      ? existing
      : mergeKeyValues(
          existing.filter((a) => WEB_KEYS.includes(a.key)),
          f.given,
        );
  if (f.web !== undefined) out = mergeKeyValues(out, webAnnotations(f.web));
  if (f.secure !== undefined) {
    const webOn =
      f.web !== undefined ? webEnabled(f.web) : annotation({ annotations: out }, 'web-export') === true;
    if (!webOn && !(f.web === undefined && f.secure.toLowerCase() === 'false')) {
      throw new UsageError('--web-secure applies to web actions: add --web true (or --web raw)');
    }
    out = mergeKeyValues(out, [webSecureAnnotation(f.secure)]);
  }
  return out;
}

function parametersFrom(ctx: Context): KeyValue[] | undefined {
  if (!ctx.args.has('param') && !ctx.args.has('param-file')) return undefined;
  return collectKeyValues(ctx.args.pairs('param'), ctx.args.list('param-file'), '--param-file');
}

/** The PUT body for create/update (without the `--copy` source merged in), annotations aside. */
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
  const annotations = annotationsFor(annotationFlags(ctx), false);
  if (annotations !== undefined) body.annotations = annotations;
  await ctx.attempt(`create action '${name}'`, () => client.actions.put(name, body));
  ctx.ok(`created action ${name}`);
}

/** `--copy`: the flags other than the code (the second positional is the source, not an artifact). */
function actionBodyWithoutArtifact(ctx: Context): ActionPut {
  const body: ActionPut = {};
  const parameters = parametersFrom(ctx);
  if (parameters !== undefined) body.parameters = parameters;
  const annotations = annotationsFor(annotationFlags(ctx), false);
  if (annotations !== undefined) body.annotations = annotations;
  const limits = limitsFrom(ctx);
  if (limits !== undefined) body.limits = limits;
  return body;
}

function annotationFlags(ctx: Context): AnnotationFlags {
  return { given: givenAnnotations(ctx), web: ctx.args.string('web'), secure: ctx.args.string('web-secure') };
}

export async function updateAction(ctx: Context): Promise<void> {
  const name = ctx.args.positionals[0]!;
  parseEntityName(name, ctx.namespace);
  const body = actionBody(ctx, true);
  const client = ctx.client();
  const flags = annotationFlags(ctx);
  if (flags.web !== undefined || flags.secure !== undefined) {
    // The web flags change some annotations and keep the others, so the CLI needs the current ones.
    flags.existing = await currentAnnotations(ctx, name);
  }
  const annotations = annotationsFor(flags, true);
  if (annotations !== undefined) body.annotations = annotations;
  await ctx.attempt(`update action '${name}'`, () => client.actions.put(name, body, { overwrite: true }));
  ctx.ok(`updated action ${name}`);
}

/** The action's annotations; undefined when it does not exist (update then creates it). */
async function currentAnnotations(ctx: Context, name: string): Promise<KeyValue[] | undefined> {
  const client = ctx.client();
  try {
    return (await client.actions.get(name, { code: false })).annotations ?? [];
  } catch (err) {
    if (err instanceof WhirlApiError && err.status === 404) return undefined;
    if (err instanceof WhirlApiError || err instanceof WhirlConnectionError)
      throw new AttemptError(`get action '${name}'`, err);
    throw err;
  }
}
