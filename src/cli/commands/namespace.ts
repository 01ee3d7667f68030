/**
 * `whirl namespace list|get`.
 */
import { runNoun, type Context, type Noun } from '../command.js';
import { NAME_SORT_FLAG, printNamespaceEntities } from './list.js';

async function listNamespaces(ctx: Context): Promise<void> {
  const client = ctx.client();
  const names = await ctx.attempt('list namespaces', () => client.namespaces.list());
  ctx.line('namespaces');
  for (const n of names) ctx.line(n);
}

export const namespaceNoun: Noun = {
  name: 'namespace',
  summary: 'Work with namespaces.',
  verbs: [
    { name: 'list', args: '', summary: 'list the namespaces of your key', max: 0, run: listNamespaces },
    {
      name: 'get',
      args: '[/NAMESPACE]',
      summary: 'list the entities of a namespace (default: yours)',
      flags: [NAME_SORT_FLAG],
      max: 1,
      run: (ctx) => printNamespaceEntities(ctx, ctx.args.positionals[0]),
    },
  ],
};

export const namespaceCommand = (argv: string[]): Promise<number> => runNoun(namespaceNoun, argv);
