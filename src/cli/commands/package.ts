/**
 * `whirl package create|update|bind|get|delete|list|refresh`, with `wsk`'s flags and output. A package
 * groups actions and feeds, with parameters they share; `--shared yes` publishes it to every namespace;
 * a binding is a package of yours that points at another one and adds its own parameters.
 */
import { UsageError, type FlagDef } from '../args.js';
import { WhirlApiError } from '../client.js';
import { runNoun, type Context, type Noun } from '../command.js';
import { AttemptError, CommandError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { isNamespaceOnly, type EntityName } from '../names.js';
import { entityRow, sortByName } from '../output.js';
import type { BindingRef, Package, PackagePut } from '../types.js';
import { LIST_FLAGS } from './action.js';
import {
  ANNOTATION_FLAGS,
  optionalKeyValues,
  PARAM_FLAGS,
  printGot,
  SHARED_FLAG,
  sharedFlag,
  SUMMARY_FLAG,
  summaryLines,
} from './common.js';

/** The system namespace whose packages `refresh` looks after. */
export const SYSTEM_NAMESPACE = 'whisk.system';

/**
 * A package name: `pkg`, `/ns/pkg`, or `ns/pkg` (for a package, two segments can only mean a namespace
 * and a package, since packages do not nest).
 */
export function packageName(text: string, dflt: string): EntityName {
  const parts = (text.startsWith('/') ? text.slice(1) : text).split('/');
  if (text === '' || parts.some((p) => p === ''))
    throw new UsageError(`'${text}' is not a valid package name`);
  if (parts.length === 1 && !text.startsWith('/')) return { namespace: dflt, name: parts[0]! };
  if (parts.length === 2) return { namespace: parts[0]!, name: parts[1]! };
  throw new UsageError(
    `'${text}' is not a package name: use PACKAGE or /NAMESPACE/PACKAGE (packages do not nest)`,
  );
}

/** The package a binding points to; undefined for a package that is not a binding. */
export function bindingOf(p: Pick<Package, 'binding'>): BindingRef | undefined {
  const b = p.binding;
  if (b === undefined || b === false || typeof b !== 'object') return undefined;
  const { namespace, name } = b as Partial<BindingRef>;
  return typeof namespace === 'string' && typeof name === 'string' ? { namespace, name } : undefined;
}

/** Extra list column: where a binding points. */
export function packageColumns(p: Package): string[] {
  const b = bindingOf(p);
  return b === undefined ? [] : [`binding:/${b.namespace}/${b.name}`];
}

function writeBody(ctx: Context): PackagePut {
  const body: PackagePut = {};
  const parameters = optionalKeyValues(ctx, 'param');
  const annotations = optionalKeyValues(ctx, 'annotation');
  const shared = sharedFlag(ctx);
  if (parameters !== undefined) body.parameters = parameters;
  if (annotations !== undefined) body.annotations = annotations;
  if (shared !== undefined) body.publish = shared;
  return body;
}

async function writePackage(ctx: Context, update: boolean): Promise<void> {
  const name = ctx.args.positionals[0]!;
  const entity = packageName(name, ctx.namespace);
  const body = writeBody(ctx);
  const client = ctx.client();
  const verb = update ? 'update' : 'create';
  await ctx.attempt(`${verb} package '${name}'`, () =>
    client.packages.put(entity, body, { overwrite: update }),
  );
  ctx.ok(`${verb}d package ${name}`);
}

async function bindPackage(ctx: Context): Promise<void> {
  const [target, binding] = ctx.args.positionals as [string, string];
  const pkg = packageName(target, ctx.namespace);
  const entity = packageName(binding, ctx.namespace);
  const client = ctx.client();
  try {
    // Never `overwrite`: like `wsk package bind`, binding onto a name that is taken is refused (409).
    await ctx.attempt(`create binding '${binding}'`, () =>
      client.packages.bind(entity, pkg, {
        parameters: optionalKeyValues(ctx, 'param'),
        annotations: optionalKeyValues(ctx, 'annotation'),
      }),
    );
  } catch (err) {
    const cause = err instanceof AttemptError ? err.cause : undefined;
    if (
      cause instanceof WhirlApiError &&
      cause.status === 409 &&
      /already exists|not in this collection/i.test(cause.error)
    )
      throw await nameTaken(ctx, binding, entity);
    throw err;
  }
  ctx.ok(`created binding ${binding}`);
}

/** The 409 of `bind`, saying what holds the name and the two ways on. */
async function nameTaken(ctx: Context, binding: string, entity: EntityName): Promise<CommandError> {
  let holder = 'a package';
  try {
    const existing = await ctx.client().packages.get(entity);
    const b = existing.binding;
    if (b !== undefined && b !== false && 'name' in b) holder = `a binding of /${b.namespace}/${b.name}`;
  } catch {
    // The name may be held by another kind of entity, or be gone again: say only that it is taken.
    holder = 'an entity';
  }
  return new CommandError(
    `Unable to create binding '${binding}': the name is taken by ${holder} (bind does not replace it)`,
    ExitCode.RequestFailed,
    [
      `Pick another name, or run 'whirl package delete ${binding}' first and bind again;`,
      `to change the parameters of a binding, use 'whirl package update ${binding} -p KEY VALUE'.`,
    ],
  );
}

/** `--summary`: the package, then each action and feed, with their parameters. */
export function packageSummaryText(p: Package): string {
  const base = `/${p.namespace}/${p.name}`;
  const lines = summaryLines('package', base, p);
  for (const a of p.actions ?? []) lines.push(...summaryLines('action', `${base}/${a.name}`, a, ' '));
  for (const f of p.feeds ?? []) lines.push(...summaryLines('feed', `${base}/${f.name}`, f, ' '));
  return lines.join('\n');
}

async function getPackage(ctx: Context): Promise<void> {
  const [name, field] = ctx.args.positionals as [string, string | undefined];
  const entity = packageName(name, ctx.namespace);
  const client = ctx.client();
  const pkg = await ctx.attempt(`get package '${name}'`, () => client.packages.get(entity));
  if (ctx.args.bool('summary')) {
    ctx.line(packageSummaryText(pkg));
    return;
  }
  printGot(ctx, 'package', name, pkg, field);
}

async function deletePackage(ctx: Context): Promise<void> {
  const name = ctx.args.positionals[0]!;
  const entity = packageName(name, ctx.namespace);
  const client = ctx.client();
  await ctx.attempt(`delete package '${name}'`, () =>
    client.packages.remove(entity, { force: ctx.args.bool('force') }),
  );
  ctx.ok(`deleted package ${name}`);
}

function namespaceArg(text: string | undefined, dflt: string): string {
  if (text === undefined) return dflt;
  const ns = text.replace(/^\/+|\/+$/g, '');
  if (ns === '' || ns.includes('/') || (text.startsWith('/') && !isNamespaceOnly(text))) {
    throw new UsageError(`'${text}' is not a namespace: use /NAMESPACE`);
  }
  return ns;
}

async function listPackages(ctx: Context): Promise<void> {
  const ns = namespaceArg(ctx.args.positionals[0], ctx.namespace);
  const client = ctx.client();
  let packages = await ctx.attempt('list packages', () =>
    client.packages.list({ namespace: ns, limit: ctx.args.number('limit'), skip: ctx.args.number('skip') }),
  );
  if (ctx.args.bool('name-sort')) packages = sortByName(packages);
  ctx.line('packages');
  for (const p of packages) ctx.line(entityRow(p, ...packageColumns(p)));
}

/** Every package of the namespace (paging through the list). */
async function allPackages(ctx: Context, namespace: string): Promise<Package[]> {
  const client = ctx.client();
  const out: Package[] = [];
  for (let skip = 0; ; skip += 200) {
    const page = await ctx.attempt('list packages', () =>
      client.packages.list({ namespace, limit: 200, skip }),
    );
    out.push(...page);
    if (page.length < 200) return out;
  }
}

/**
 * `refresh`: in OpenWhisk deployments that had per-user copies of system packages, this re-created the
 * caller's bindings to them. Whirl's bindings refer to their package, so they always see its current
 * actions and parameters: there is nothing to copy. What can go wrong is a binding whose package is gone;
 * refresh checks each binding of a whisk.system package and says which are fine and which are broken.
 */
async function refreshPackages(ctx: Context): Promise<void> {
  const client = ctx.client();
  const own = (await ctx.attempt('list namespaces', () => client.namespaces.list()))[0] ?? ctx.namespace;
  const asked = namespaceArg(ctx.args.positionals[0], ctx.namespace);
  const ns = asked === '_' ? own : asked;
  if (ns !== own) {
    throw new CommandError(
      `Unable to refresh the bindings of '${ns}': bindings are private to their namespace`,
      ExitCode.Usage,
      [`Your key's namespace is '${own}'; run 'whirl package refresh' for its bindings.`],
    );
  }
  const bindings = sortByName(await allPackages(ctx, '_')).filter(
    (p) => bindingOf(p)?.namespace === SYSTEM_NAMESPACE,
  );
  if (bindings.length === 0) {
    ctx.ok(`namespace ${ns} has no bindings of ${SYSTEM_NAMESPACE} packages: nothing to refresh`);
    ctx.line(
      `('whirl package list /${SYSTEM_NAMESPACE}' shows them; bind one with 'whirl package bind /${SYSTEM_NAMESPACE}/utils myutils'.)`,
    );
    return;
  }
  const rows: string[] = [];
  const broken: string[] = [];
  for (const p of bindings) {
    const b = bindingOf(p)!;
    const target = `/${b.namespace}/${b.name}`;
    let state = 'up to date';
    try {
      await ctx.attempt(`read package '${target}'`, () =>
        client.packages.get({ namespace: b.namespace, name: b.name }),
      );
    } catch (err) {
      // Gone, or no longer shared: either way the binding's actions cannot be reached.
      const cause = err instanceof AttemptError ? err.cause : undefined;
      if (!(cause instanceof WhirlApiError) || (cause.status !== 404 && cause.status !== 403)) throw err;
      state = `broken: ${target} is gone or no longer shared`;
      broken.push(p.name);
    }
    rows.push(`/${ns}/${p.name}`.padEnd(40) + ` -> ${target.padEnd(30)} ${state}`);
  }
  const n = bindings.length;
  ctx.ok(
    `checked ${n} binding${n === 1 ? '' : 's'} of ${SYSTEM_NAMESPACE} packages in namespace ${ns}: ${n - broken.length} up to date`,
  );
  for (const r of rows) ctx.line(r);
  ctx.line(
    `Bindings refer to their package, so they always see its current actions: nothing needed copying.`,
  );
  for (const name of broken) {
    ctx.warn(
      `the package of binding '${name}' is gone; delete the binding with 'whirl package delete ${name}'.`,
    );
  }
}

const WRITE_FLAGS: FlagDef[] = [...PARAM_FLAGS, ...ANNOTATION_FLAGS, SHARED_FLAG];
const FORCE_FLAG: FlagDef = {
  long: 'force',
  kind: 'boolean',
  help: 'also delete the actions inside the package',
};

export const packageNoun: Noun = {
  name: 'package',
  summary: 'Work with packages.',
  verbs: [
    {
      name: 'create',
      args: 'NAME',
      summary: 'create a new package',
      flags: WRITE_FLAGS,
      min: 1,
      max: 1,
      details: `Examples:\n  whirl package create tools -p region eu --shared yes\n  whirl action create tools/hello hello.js`,
      run: (ctx) => writePackage(ctx, false),
    },
    {
      name: 'update',
      args: 'NAME',
      summary: 'update a package (or create it); only what is given changes',
      flags: WRITE_FLAGS,
      min: 1,
      max: 1,
      run: (ctx) => writePackage(ctx, true),
    },
    {
      name: 'bind',
      args: 'PACKAGE BINDING',
      summary: 'create BINDING, a package of yours bound to PACKAGE with its own parameters',
      flags: [...PARAM_FLAGS, ...ANNOTATION_FLAGS],
      min: 2,
      max: 2,
      details: `Example:\n  whirl package bind /whisk.system/samples mysamples -p name Ann\n  whirl action invoke mysamples/greeting -r`,
      run: bindPackage,
    },
    {
      name: 'get',
      args: 'NAME [FIELD]',
      summary: 'get a package with its actions and feeds (or one FIELD of it)',
      flags: [SUMMARY_FLAG],
      min: 1,
      max: 2,
      run: getPackage,
    },
    {
      name: 'delete',
      args: 'NAME',
      summary: 'delete a package',
      flags: [FORCE_FLAG],
      min: 1,
      max: 1,
      run: deletePackage,
    },
    {
      name: 'list',
      args: '[/NAMESPACE]',
      summary: "list packages (another namespace's: its shared ones)",
      flags: LIST_FLAGS,
      max: 1,
      run: listPackages,
    },
    {
      name: 'refresh',
      args: '[/NAMESPACE]',
      summary: `check your bindings of ${SYSTEM_NAMESPACE} packages`,
      max: 1,
      run: refreshPackages,
    },
  ],
};

export const packageCommand = (argv: string[]): Promise<number> => runNoun(packageNoun, argv);
