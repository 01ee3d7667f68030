/**
 * `whirl list [/NAMESPACE]`: every entity of the namespace, collection by collection (packages, actions,
 * triggers, rules with their status), as `whirl namespace get` shows them. Collections a server does not
 * serve (an older or partial OpenWhisk) are shown empty.
 */
import { UsageError, type FlagDef } from '../args.js';
import { EntityCollection, WhirlApiError } from '../client.js';
import { runVerb, type Context, type Verb } from '../command.js';
import { AttemptError } from '../errors.js';
import { actionKind, entityRow, sortByName } from '../output.js';
import type { Entity, Rule } from '../types.js';
import { packageColumns } from './package.js';
import { withStatuses } from './rule.js';

interface CollectionView {
  name: string;
  /** Extra columns after the name and visibility. */
  columns(e: Entity): string[];
}

/** What `list` and `namespace get` show, in order. */
export const COLLECTIONS: readonly CollectionView[] = [
  { name: 'packages', columns: (e) => packageColumns(e) },
  { name: 'actions', columns: (e) => [actionKind(e)] },
  { name: 'triggers', columns: () => [] },
  { name: 'rules', columns: (e) => (typeof e.status === 'string' ? [e.status] : []) },
];

export const NAME_SORT_FLAG: FlagDef = {
  long: 'name-sort',
  short: 'n',
  kind: 'boolean',
  help: 'sort each collection by name (default: most recently updated first)',
};

/** The namespace's display name: `_` is resolved to the key's namespace. */
async function namespaceName(ctx: Context, ns: string): Promise<string> {
  if (ns !== '_') return ns;
  const client = ctx.client();
  const names = await ctx.attempt('list namespaces', () => client.namespaces.list());
  return names[0] ?? 'default';
}

export async function printNamespaceEntities(ctx: Context, text: string | undefined): Promise<void> {
  const ns = text === undefined ? ctx.namespace : text.replace(/^\/+|\/+$/g, '');
  if (ns === '' || ns.includes('/')) throw new UsageError(`'${text}' is not a namespace`);
  const client = ctx.client();
  ctx.line(`Entities in namespace: ${await namespaceName(ctx, ns)}`);
  for (const view of COLLECTIONS) {
    const collection = new EntityCollection<Entity, unknown>(client, view.name);
    let items: Entity[];
    try {
      items = await ctx.attempt(`list ${view.name}`, () => collection.list({ namespace: ns, limit: 0 }));
    } catch (err) {
      const cause = err instanceof AttemptError ? err.cause : undefined;
      if (cause instanceof WhirlApiError && (cause.status === 404 || cause.status === 405)) {
        ctx.debug(`the server does not serve ${view.name} (${cause.status})`);
        items = [];
      } else throw err;
    }
    // Rule lists carry no status (spec §1.6.4): read it rule by rule, as `rule list` does.
    if (view.name === 'rules') items = await withStatuses(client.rules, items as Rule[]);
    if (ctx.args.bool('name-sort')) items = sortByName(items);
    ctx.line(view.name);
    for (const e of items) ctx.line(entityRow(e, ...view.columns(e)));
  }
}

export const listVerb: Verb = {
  name: '',
  args: '[/NAMESPACE]',
  summary: 'List all entities in the namespace (packages, actions, triggers, rules).',
  flags: [NAME_SORT_FLAG],
  max: 1,
  run: (ctx) => printNamespaceEntities(ctx, ctx.args.positionals[0]),
};

export const listCommand = (argv: string[]): Promise<number> => runVerb('list', listVerb, argv);
