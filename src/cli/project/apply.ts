/**
 * Carrying out a plan against the server: deploy (create or update each entity, in order), removal
 * (undeploy, and what sync finds stale) and previews of both. A step that fails stops the run, and the
 * error lists what was already done and what was not, so that nothing is left half-deployed unsaid.
 */
import { WhirlApiError, WhirlConnectionError, type WhirlClient } from '../client.js';
import type { Context } from '../command.js';
import { AttemptError, CommandError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { parseEntityName } from '../names.js';
import type { ApiSummary, Entity, Rule } from '../types.js';
import { feedOf } from '../commands/trigger.js';
import { invokeFeed } from '../commands/trigger-feed.js';
import { routeName, type Plan, type Step, type StepType } from './build.js';
import { findManaged, managedOf } from './managed.js';
import type { ProjectSpec } from './model.js';

/** Something to remove; routes are addressed by base path, path and method. */
export type Removal =
  | { type: Exclude<StepType, 'route'>; name: string }
  | { type: 'route'; name: string; basePath: string; path: string; method: string };

const REMOVAL_ORDER: readonly StepType[] = [
  'rule',
  'trigger',
  'route',
  'sequence',
  'action',
  'binding',
  'package',
];

export function label(s: { type: StepType; name: string }): string {
  return s.type === 'route' ? `API route ${s.name}` : `${s.type} ${s.name}`;
}

function reasonOf(err: unknown): string {
  const cause = err instanceof AttemptError ? err.cause : err;
  if (cause instanceof WhirlApiError) return cause.message;
  if (cause instanceof WhirlConnectionError) return `cannot reach the server: ${cause.message}`;
  return err instanceof Error ? err.message : String(err);
}

function exitOf(err: unknown): ExitCode {
  const cause = err instanceof AttemptError ? err.cause : err;
  if (cause instanceof WhirlConnectionError) return ExitCode.Unreachable;
  if (err instanceof CommandError) return err.exitCode;
  return ExitCode.RequestFailed;
}

function listed(items: readonly { type: StepType; name: string }[]): string {
  return items.map(label).join(', ');
}

/** The error after a failed step: what failed, why, what is on the server now and what is not. */
function partialFailure(
  verb: 'deploy' | 'remove',
  failed: { type: StepType; name: string },
  err: unknown,
  done: readonly { type: StepType; name: string }[],
  rest: readonly { type: StepType; name: string }[],
): CommandError {
  const past = verb === 'deploy' ? 'Deployed' : 'Removed';
  const hints = [
    done.length === 0
      ? `Nothing was ${past.toLowerCase()} before the failure.`
      : `${past} before the failure (${done.length}): ${listed(done)}.`,
  ];
  if (rest.length > 0) hints.push(`Not ${past.toLowerCase()} (${rest.length}): ${listed(rest)}.`);
  hints.push(
    verb === 'deploy'
      ? `Fix the cause and run the deploy again (it updates what exists), or 'whirl project undeploy' to remove what was deployed.`
      : `Fix the cause and run it again: what is already gone is skipped.`,
  );
  return new CommandError(`Unable to ${verb} ${label(failed)}: ${reasonOf(err)}`, exitOf(err), hints);
}

function isMissing(err: unknown): boolean {
  const cause = err instanceof AttemptError ? err.cause : err;
  return cause instanceof WhirlApiError && cause.status === 404;
}

async function getOrUndefined<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

async function deployTrigger(ctx: Context, client: WhirlClient, step: Extract<Step, { type: 'trigger' }>) {
  const entity = parseEntityName(step.name, ctx.namespace);
  const existing = await getOrUndefined(() => client.triggers.get(entity));
  const oldFeed = existing === undefined ? undefined : feedOf(existing);
  // A feed keeps its own copy of the configuration: it forgets the old one before the new one goes in.
  if (oldFeed !== undefined) {
    const gone = await invokeFeed(ctx, oldFeed, 'DELETE', entity);
    if (!gone.ok) ctx.warn(`the feed ${oldFeed} failed to forget trigger ${step.name}: ${gone.message}`);
  }
  await client.triggers.put(entity, step.body, { overwrite: true });
  if (step.feed === undefined) return;
  const created = await invokeFeed(ctx, step.feed, 'CREATE', entity, step.feedParameters);
  if (created.ok) return;
  // A trigger that no feed fires would mislead: it goes again, as `whirl trigger create --feed` does.
  await getOrUndefined(() => client.triggers.delete(entity));
  throw new CommandError(
    `the feed ${step.feed} failed: ${created.message} (the trigger was deleted again)`,
    ExitCode.RequestFailed,
  );
}

async function deployStep(ctx: Context, step: Step): Promise<string | undefined> {
  const client = ctx.client();
  const overwrite = { overwrite: true };
  switch (step.type) {
    case 'package':
    case 'binding':
      await client.packages.put(step.name, step.body, overwrite);
      return undefined;
    case 'action':
    case 'sequence':
      await client.actions.put(step.name, step.body, overwrite);
      return step.type === 'action' ? step.note : undefined;
    case 'route': {
      const api: ApiSummary = await client.apis.addRoute(step.route);
      const made = api.webExported ?? [];
      return made.length === 0
        ? undefined
        : `made ${made.join(', ')} a web action so that the API can run it`;
    }
    case 'trigger':
      await deployTrigger(ctx, client, step);
      return step.feed === undefined ? undefined : `fed by ${step.feed}`;
    case 'rule': {
      const rule: Rule = await client.rules.put(step.name, step.body, overwrite);
      if (rule.status !== undefined && rule.status !== 'active')
        await client.rules.setStatus(step.name, 'active');
      return undefined;
    }
  }
}

/** Deploys every step in order; prints one `ok:` line per entity. */
export async function deploySteps(ctx: Context, steps: readonly Step[]): Promise<void> {
  const done: Step[] = [];
  for (const [i, step] of steps.entries()) {
    let note: string | undefined;
    try {
      note = await deployStep(ctx, step);
    } catch (err) {
      throw partialFailure('deploy', step, err, done, steps.slice(i + 1));
    }
    done.push(step);
    ctx.ok(`deployed ${label(step)}${note === undefined ? '' : ` (${note})`}`);
  }
}

/** `deployed project demo: 1 package, 2 actions` */
export function countLine(items: readonly { type: StepType }[]): string {
  const counts = new Map<StepType, number>();
  for (const s of items) counts.set(s.type, (counts.get(s.type) ?? 0) + 1);
  const plural = (t: StepType, n: number) =>
    t === 'route' ? `${n} API route${n === 1 ? '' : 's'}` : `${n} ${t}${n === 1 ? '' : 's'}`;
  return [...counts].map(([t, n]) => plural(t, n)).join(', ') || 'nothing';
}

/** Removes one entity; false when it was already gone. Feeds are told first; packages are never forced. */
async function removeOne(ctx: Context, item: Removal): Promise<boolean> {
  const client = ctx.client();
  const gone = async (fn: () => Promise<unknown>) => (await getOrUndefined(fn)) !== undefined;
  switch (item.type) {
    case 'rule':
      return gone(() => client.rules.delete(item.name));
    case 'trigger': {
      const entity = parseEntityName(item.name, ctx.namespace);
      const trigger = await getOrUndefined(() => client.triggers.get(entity));
      if (trigger === undefined) return false;
      const feed = feedOf(trigger);
      if (feed !== undefined) {
        const outcome = await invokeFeed(ctx, feed, 'DELETE', entity);
        if (!outcome.ok)
          ctx.warn(`the feed ${feed} failed to forget trigger ${item.name}: ${outcome.message}`);
      }
      return gone(() => client.triggers.delete(entity));
    }
    case 'route':
      return gone(() => client.apis.remove(item.basePath, item.path, item.method));
    case 'action':
    case 'sequence':
      return gone(() => client.actions.delete(item.name));
    case 'binding':
    case 'package':
      return gone(() => client.packages.remove(item.name));
  }
}

export function sortRemovals(items: readonly Removal[]): Removal[] {
  return [...items].sort((a, b) => REMOVAL_ORDER.indexOf(a.type) - REMOVAL_ORDER.indexOf(b.type));
}

/** Removes the items (rules first, packages last); prints what was removed and what was already gone. */
export async function removeAll(ctx: Context, items: readonly Removal[]): Promise<void> {
  const ordered = sortRemovals(items);
  const done: Removal[] = [];
  for (const [i, item] of ordered.entries()) {
    let removed: boolean;
    try {
      removed = await removeOne(ctx, item);
    } catch (err) {
      throw partialFailure('remove', item, err, done, ordered.slice(i + 1));
    }
    done.push(item);
    ctx.ok(removed ? `removed ${label(item)}` : `${label(item)} was already gone`);
  }
}

/** The entities a manifest describes, as removals (undeploy needs their names only, not their code). */
export function removalsOfSpec(spec: ProjectSpec): Removal[] {
  return [
    ...spec.packages.map((p) => ({ type: 'package' as const, name: p.name })),
    ...spec.bindings.map((b) => ({ type: 'binding' as const, name: b.name })),
    ...spec.actions.map((a) => ({ type: 'action' as const, name: a.name })),
    ...spec.sequences.map((s) => ({ type: 'sequence' as const, name: s.name })),
    ...spec.routes.map((r) => ({
      type: 'route' as const,
      name: routeName(r),
      basePath: r.basePath,
      path: r.path,
      method: r.method,
    })),
    ...spec.triggers.map((t) => ({ type: 'trigger' as const, name: t.name })),
    ...spec.rules.map((r) => ({ type: 'rule' as const, name: r.name })),
  ];
}

/** The project's entities on the server (by its whisk-managed annotation), and the routes to its actions. */
export async function managedRemovals(ctx: Context, projectName: string): Promise<Removal[]> {
  const client = ctx.client();
  const [managed, apis] = await Promise.all([findManaged(client, projectName), client.apis.listAll()]);
  const out: Removal[] = [];
  const isBinding = (p: Entity) => {
    const b = p.binding;
    return b !== undefined && b !== false && Object.keys(b as object).length > 0;
  };
  for (const p of managed.packages) out.push({ type: isBinding(p) ? 'binding' : 'package', name: p.name });
  for (const a of managed.actions)
    out.push({ type: kindOf(a) === 'sequence' ? 'sequence' : 'action', name: a.name });
  for (const t of managed.triggers) out.push({ type: 'trigger', name: t.name });
  for (const r of managed.rules) out.push({ type: 'rule', name: r.name });
  const actionNames = new Set(managed.actions.map((a) => a.name));
  for (const api of apis) {
    for (const route of api.routes) {
      // `/ns/pkg/a` → `pkg/a`
      const relative = route.action.split('/').slice(2).join('/');
      if (actionNames.has(relative)) {
        const r = { basePath: api.basePath, path: route.path, method: route.method };
        out.push({ type: 'route', name: routeName(r), ...r });
      }
    }
  }
  return out;
}

/** The kind an action list entry shows (`exec` annotation in OpenWhisk lists, else `exec.kind`). */
function kindOf(a: Entity): string | undefined {
  const exec = a.exec as { kind?: unknown } | undefined;
  if (typeof exec?.kind === 'string') return exec.kind;
  const ann = a.annotations?.find((x) => x.key === 'exec')?.value;
  return typeof ann === 'string' ? ann : undefined;
}

export function removalKey(r: { type: StepType; name: string }): string {
  // Sequences and actions share one name space on the server, as do packages and bindings.
  const family = r.type === 'sequence' ? 'action' : r.type === 'binding' ? 'package' : r.type;
  return `${family} ${r.name}`;
}

/**
 * Entities that belong to another project are kept: undeploying one project never removes another's.
 * Returns the items to remove; the others are reported as warnings.
 */
export async function withoutOtherProjects(
  ctx: Context,
  items: readonly Removal[],
  projectName: string | undefined,
): Promise<Removal[]> {
  if (projectName === undefined) return [...items];
  const client = ctx.client();
  const out: Removal[] = [];
  for (const item of items) {
    if (item.type === 'route') {
      out.push(item);
      continue;
    }
    const entity = await getOrUndefined<Entity>(() => {
      switch (item.type) {
        case 'rule':
          return client.rules.get(item.name);
        case 'trigger':
          return client.triggers.get(item.name);
        case 'action':
        case 'sequence':
          return client.actions.get(item.name, { code: false });
        case 'binding':
        case 'package':
          return client.packages.get(item.name);
      }
    });
    const owner = entity === undefined ? undefined : managedOf(entity)?.projectName;
    if (owner !== undefined && owner !== projectName) {
      ctx.warn(`kept ${label(item)}: it belongs to project '${owner}'`);
      continue;
    }
    out.push(item);
  }
  return out;
}

/** Whether each step's entity exists (for previews): `create` or `update`. */
export async function previewDeploy(ctx: Context, plan: Plan): Promise<string[]> {
  const client = ctx.client();
  const apis = plan.steps.some((s) => s.type === 'route') ? await client.apis.listAll() : [];
  const lines: string[] = [];
  for (const s of plan.steps) {
    let exists: boolean;
    switch (s.type) {
      case 'package':
      case 'binding':
        exists = (await getOrUndefined(() => client.packages.get(s.name))) !== undefined;
        break;
      case 'action':
      case 'sequence':
        exists = (await getOrUndefined(() => client.actions.get(s.name, { code: false }))) !== undefined;
        break;
      case 'trigger':
        exists = (await getOrUndefined(() => client.triggers.get(s.name))) !== undefined;
        break;
      case 'rule':
        exists = (await getOrUndefined(() => client.rules.get(s.name))) !== undefined;
        break;
      case 'route':
        exists = apis.some(
          (a) =>
            a.basePath === s.route.basePath &&
            a.routes.some((r) => r.path === s.route.path && r.method === s.route.method.toUpperCase()),
        );
        break;
    }
    const detail =
      s.type === 'binding'
        ? ` (binds ${s.target})`
        : s.type === 'trigger' && s.feed !== undefined
          ? ` (feed ${s.feed})`
          : s.type === 'route'
            ? ` (API ${s.route.name ?? ''} → ${s.route.action}, ${s.route.responseType ?? 'json'})`
            : s.type === 'action' && s.note !== undefined
              ? ` (${s.note})`
              : '';
    lines.push(`${exists ? 'update' : 'create'} ${label(s)}${detail}`);
  }
  return lines;
}
