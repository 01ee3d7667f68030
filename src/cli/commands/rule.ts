/**
 * `whirl rule create|update|enable|disable|status|get|delete|list`, with `wsk`'s flags and output. A rule
 * links a trigger to an action; firing the trigger runs the actions of its active rules.
 */
import { UsageError, type FlagDef } from '../args.js';
import type { RulesApi } from '../client.js';
import { runNoun, type Context, type Noun } from '../command.js';
import { listScope, parseEntityName, qualifiedName } from '../names.js';
import { entityRow, sortByName } from '../output.js';
import type { Rule, RulePut } from '../types.js';
import { LIST_FLAGS } from './action.js';
import { ANNOTATION_FLAGS, optionalKeyValues, printGot, SUMMARY_FLAG } from './common.js';
import { triggerName } from './trigger.js';

/** Rules of lists have no status (spec §1.6.4); this many are fetched at once to fill it in. */
const STATUS_FETCHES = 8;

/** A rule name: `R` or `/NS/R` (rules do not live in packages). */
export function ruleName(text: string, dflt: string) {
  const e = parseEntityName(text, dflt);
  if (e.pkg !== undefined) {
    throw new UsageError(`'${text}' is not a rule name: rules do not live in packages (use R or /NS/R)`);
  }
  return e;
}

/** The PUT body: trigger and action fully qualified (`/_/t`, `/_/pkg/a`), as the server takes them. */
export function ruleBody(trigger: string | undefined, action: string | undefined, dflt: string): RulePut {
  const body: Partial<RulePut> = {};
  if (trigger !== undefined) body.trigger = qualifiedName(triggerName(trigger, dflt));
  if (action !== undefined) body.action = qualifiedName(parseEntityName(action, dflt));
  return body as RulePut;
}

/**
 * The rules with their status, read one by one (lists leave it out). A rule that cannot be read keeps no
 * status rather than failing the whole list.
 */
export async function withStatuses(rules: RulesApi, list: readonly Rule[]): Promise<Rule[]> {
  const out = [...list];
  let next = 0;
  const worker = async () => {
    while (next < out.length) {
      const i = next++;
      const r = out[i]!;
      try {
        const full = await rules.get({ namespace: r.namespace, name: r.name });
        out[i] = { ...r, status: full.status };
      } catch {
        /* shown without status */
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(STATUS_FETCHES, out.length) }, worker));
  return out;
}

/** `/ns/pkg/name` of a rule's `{path, name}` reference. */
const refText = (r: { path: string; name: string }) => `/${r.path}/${r.name}`;

async function writeRule(ctx: Context, update: boolean): Promise<void> {
  const [name, trigger, action] = ctx.args.positionals as [string, string | undefined, string | undefined];
  const entity = ruleName(name, ctx.namespace);
  if (!update && (trigger === undefined || action === undefined)) {
    throw new UsageError(`'whirl rule create' needs RULE TRIGGER ACTION`);
  }
  const body = ruleBody(trigger, action, ctx.namespace);
  const annotations = optionalKeyValues(ctx, 'annotation');
  if (annotations !== undefined) body.annotations = annotations;
  const client = ctx.client();
  const verb = update ? 'update' : 'create';
  await ctx.attempt(`${verb} rule '${name}'`, () => client.rules.put(entity, body, { overwrite: update }));
  ctx.ok(`${verb}d rule ${name}`);
}

async function setStatus(ctx: Context, status: 'active' | 'inactive'): Promise<void> {
  const name = ctx.args.positionals[0]!;
  const entity = ruleName(name, ctx.namespace);
  const client = ctx.client();
  const verb = status === 'active' ? 'enable' : 'disable';
  await ctx.attempt(`${verb} rule '${name}'`, () => client.rules.setStatus(entity, status));
  ctx.ok(`${verb}d rule ${name}`);
}

async function ruleStatus(ctx: Context): Promise<void> {
  const name = ctx.args.positionals[0]!;
  const entity = ruleName(name, ctx.namespace);
  const client = ctx.client();
  const rule = await ctx.attempt(`get rule '${name}'`, () => client.rules.get(entity));
  ctx.ok(`rule ${name} is ${rule.status ?? 'unknown'}`);
}

async function getRule(ctx: Context): Promise<void> {
  const [name, field] = ctx.args.positionals as [string, string | undefined];
  const entity = ruleName(name, ctx.namespace);
  const client = ctx.client();
  const rule = await ctx.attempt(`get rule '${name}'`, () => client.rules.get(entity));
  if (ctx.args.bool('summary')) {
    ctx.line(`rule /${rule.namespace}/${rule.name}`);
    ctx.line(`   (status: ${rule.status ?? 'unknown'})`);
    ctx.line(`   (trigger: ${refText(rule.trigger)}, action: ${refText(rule.action)})`);
    return;
  }
  printGot(ctx, 'rule', name, rule, field);
}

async function deleteRule(ctx: Context): Promise<void> {
  const name = ctx.args.positionals[0]!;
  const entity = ruleName(name, ctx.namespace);
  const client = ctx.client();
  if (ctx.args.bool('disable')) {
    await ctx.attempt(`disable rule '${name}'`, () => client.rules.setStatus(entity, 'inactive'));
  }
  await ctx.attempt(`delete rule '${name}'`, () => client.rules.delete(entity));
  ctx.ok(`deleted rule ${name}`);
}

async function listRules(ctx: Context): Promise<void> {
  const text = ctx.args.positionals[0];
  const scope = listScope(text, ctx.namespace);
  if (scope.pkg !== undefined) throw new UsageError(`'${text}' is not a namespace: use /NAMESPACE`);
  const client = ctx.client();
  let rules = await ctx.attempt('list rules', () =>
    client.rules.list({
      namespace: scope.namespace,
      limit: ctx.args.number('limit'),
      skip: ctx.args.number('skip'),
    }),
  );
  rules = await withStatuses(client.rules, rules);
  if (ctx.args.bool('name-sort')) rules = sortByName(rules);
  ctx.line('rules');
  for (const r of rules) ctx.line(entityRow(r, r.status ?? ''));
}

const DISABLE_FLAG: FlagDef = {
  long: 'disable',
  kind: 'boolean',
  help: 'disable the rule before deleting it',
};

export const ruleNoun: Noun = {
  name: 'rule',
  summary: 'Work with rules.',
  verbs: [
    {
      name: 'create',
      args: 'RULE TRIGGER ACTION',
      summary: 'create a rule: firing TRIGGER runs ACTION (the rule starts enabled)',
      flags: ANNOTATION_FLAGS,
      min: 3,
      max: 3,
      details: `Example:\n  whirl rule create on-signup signup /whisk.system/utils/echo`,
      run: (ctx) => writeRule(ctx, false),
    },
    {
      name: 'update',
      args: 'RULE [TRIGGER [ACTION]]',
      summary: 'update a rule (or create it); it keeps its status',
      flags: ANNOTATION_FLAGS,
      min: 1,
      max: 3,
      run: (ctx) => writeRule(ctx, true),
    },
    {
      name: 'enable',
      args: 'RULE',
      summary: 'enable a rule',
      min: 1,
      max: 1,
      run: (ctx) => setStatus(ctx, 'active'),
    },
    {
      name: 'disable',
      args: 'RULE',
      summary: 'disable a rule',
      min: 1,
      max: 1,
      run: (ctx) => setStatus(ctx, 'inactive'),
    },
    {
      name: 'status',
      args: 'RULE',
      summary: 'show whether a rule is active',
      min: 1,
      max: 1,
      run: ruleStatus,
    },
    {
      name: 'get',
      args: 'RULE [FIELD]',
      summary: 'get a rule (or one FIELD of it)',
      flags: [SUMMARY_FLAG],
      min: 1,
      max: 2,
      run: getRule,
    },
    {
      name: 'delete',
      args: 'RULE',
      summary: 'delete a rule',
      flags: [DISABLE_FLAG],
      min: 1,
      max: 1,
      run: deleteRule,
    },
    {
      name: 'list',
      args: '[/NAMESPACE]',
      summary: 'list rules with their status',
      flags: LIST_FLAGS,
      max: 1,
      run: listRules,
    },
  ],
};

export const ruleCommand = (argv: string[]): Promise<number> => runNoun(ruleNoun, argv);
