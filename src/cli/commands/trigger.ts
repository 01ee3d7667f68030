/**
 * `whirl trigger create|update|fire|get|delete|list`, with `wsk`'s flags and output. A trigger with
 * `--feed` gets its events from a feed action (an alarm, say): see trigger-feed.ts for the lifecycle.
 */
import { UsageError, type FlagDef } from '../args.js';
import { WhirlApiError } from '../client.js';
import { runNoun, type Context, type Noun } from '../command.js';
import { AttemptError, CommandError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { collectKeyValues, mergeKeyValues, toObject } from '../keyvalues.js';
import { listScope, parseEntityName, qualifiedName, qualifyComponent, type EntityName } from '../names.js';
import { entityRow, sortByName } from '../output.js';
import { annotation, type KeyValue, type Trigger, type TriggerPut } from '../types.js';
import { LIST_FLAGS } from './action.js';
import {
  ANNOTATION_FLAGS,
  fqnOf,
  optionalKeyValues,
  PARAM_FLAGS,
  printGot,
  SUMMARY_FLAG,
  summaryLines,
} from './common.js';
import { feedInvokedLine, invokeFeed } from './trigger-feed.js';

/** A trigger name: `T` or `/NS/T` (triggers do not live in packages). */
export function triggerName(text: string, dflt: string): EntityName {
  const e = parseEntityName(text, dflt);
  if (e.pkg !== undefined) {
    throw new UsageError(
      `'${text}' is not a trigger name: triggers do not live in packages (use T or /NS/T)`,
    );
  }
  return e;
}

/** The feed named by a trigger's `feed` annotation, if it has one. */
export function feedOf(trigger: Pick<Trigger, 'annotations'>): string | undefined {
  const feed = annotation(trigger, 'feed');
  return typeof feed === 'string' && feed !== '' ? feed : undefined;
}

/** `fire NAME [PAYLOAD]`: the payload (a JSON object) with `-p`/`-P` on top. */
export function firePayload(
  text: string | undefined,
  pairs: readonly [string, string][],
  files: readonly string[],
): Record<string, unknown> {
  let base: Record<string, unknown> = {};
  if (text !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new UsageError(`PAYLOAD must be a JSON object, e.g. '{"name":"Ann"}' (or use -p KEY VALUE)`);
    }
    base = parsed as Record<string, unknown>;
  }
  return { ...base, ...toObject(collectKeyValues(pairs, files, '--param-file')) };
}

/** wsk's second way to give parameters, which says where each one goes. */
const ROUTED_PARAM_FLAGS: FlagDef[] = [
  {
    long: 'trigger-param',
    short: 'T',
    kind: 'pair',
    arg: 'KEY VALUE',
    help: 'parameter set on the trigger itself, also when it has a feed',
  },
  {
    long: 'feed-param',
    short: 'F',
    kind: 'pair',
    arg: 'KEY VALUE',
    help: 'parameter passed only to the feed action',
  },
];

export interface GivenParameters {
  /** `-p`/`-P`. */
  param?: KeyValue[] | undefined;
  /** `-T`. */
  trigger?: KeyValue[] | undefined;
  /** `-F`. */
  feed?: KeyValue[] | undefined;
}

/**
 * Where the parameters go, as `wsk` decides: `-p`/`-P` go to the feed when the trigger has one, else to the
 * trigger; `-T` always to the trigger and `-F` only to the feed. The two ways do not mix, and `-F` needs
 * a feed. Undefined: nothing to send there.
 */
export function routeParameters(
  given: GivenParameters,
  hasFeed: boolean,
): { trigger?: KeyValue[] | undefined; feed?: KeyValue[] | undefined } {
  const routed = given.trigger !== undefined || given.feed !== undefined;
  if (given.param !== undefined && routed)
    throw new UsageError('give parameters either with -p/-P or with -T/-F (trigger/feed), not both');
  if (given.feed !== undefined && !hasFeed)
    throw new UsageError('-F/--feed-param is for the feed, and this trigger has none: use -T or -p');
  if (routed) return { trigger: given.trigger, feed: given.feed };
  return hasFeed ? { feed: given.param } : { trigger: given.param };
}

function givenParameters(ctx: Context): GivenParameters {
  const pairs = (flag: string) =>
    ctx.args.has(flag) ? collectKeyValues(ctx.args.pairs(flag), [], '') : undefined;
  return {
    param: optionalKeyValues(ctx, 'param'),
    trigger: pairs('trigger-param'),
    feed: pairs('feed-param'),
  };
}

const FEED_FLAG: FlagDef = {
  long: 'feed',
  short: 'f',
  kind: 'string',
  arg: 'ACTION',
  help: 'the feed that fires the trigger, e.g. /whisk.system/alarms/alarm (-p goes to the feed)',
};

async function createTrigger(ctx: Context): Promise<void> {
  const name = ctx.args.positionals[0]!;
  const entity = triggerName(name, ctx.namespace);
  const annotations = optionalKeyValues(ctx, 'annotation');
  const feedText = ctx.args.string('feed');
  const params = routeParameters(givenParameters(ctx), feedText !== undefined);
  const client = ctx.client();
  if (feedText === undefined) {
    const body: TriggerPut = {};
    if (params.trigger !== undefined) body.parameters = params.trigger;
    if (annotations !== undefined) body.annotations = annotations;
    await ctx.attempt(`create trigger '${name}'`, () => client.triggers.put(entity, body));
    ctx.ok(`created trigger ${name}`);
    return;
  }
  // With a feed, -p configures the feed and the trigger carries only -T parameters (spec §5.3).
  const feed = qualifyComponent(feedText, ctx.namespace);
  const body: TriggerPut = {
    annotations: mergeKeyValues(annotations ?? [], [{ key: 'feed', value: feed }]),
  };
  if (params.trigger !== undefined) body.parameters = params.trigger;
  await ctx.attempt(`create trigger '${name}'`, () => client.triggers.put(entity, body));
  const outcome = await invokeFeed(ctx, feed, 'CREATE', entity, toObject(params.feed ?? []));
  if (outcome.ok) {
    ctx.ok(feedInvokedLine(feed, 'CREATE', outcome.activationId));
    ctx.ok(`created trigger ${name}`);
    return;
  }
  // The feed refused: a trigger nothing fires would only mislead, so it goes again.
  let cleanup = `The trigger was deleted again.`;
  try {
    await client.triggers.delete(entity);
  } catch (err) {
    cleanup = `Deleting the trigger failed too (${(err as Error).message}); delete it with 'whirl trigger delete ${name}'.`;
  }
  const where = outcome.activationId === undefined ? '' : ` (activation ${outcome.activationId})`;
  throw new CommandError(
    `Unable to create trigger '${name}': the feed ${feed} failed${where}: ${outcome.message}`,
    ExitCode.RequestFailed,
    [cleanup, feedHint(feed, outcome.missing === true)],
  );
}

/** Where to look next when a feed fails: its parameters, or (when it is missing) its package's feeds. */
export function feedHint(feed: string, missing: boolean): string {
  if (!missing) return `'whirl action get ${feed} --summary' lists the parameters the feed takes.`;
  const pkg = feed.split('/').slice(0, -1).join('/');
  return pkg.split('/').length === 3
    ? `No such feed: 'whirl package get ${pkg} --summary' lists the feeds of ${pkg}.`
    : `No such feed: feeds live in packages, e.g. /whisk.system/alarms/alarm.`;
}

/** The trigger, or undefined when it does not exist (other failures are thrown). */
async function findTrigger(ctx: Context, entity: EntityName, what: string): Promise<Trigger | undefined> {
  const client = ctx.client();
  try {
    return await ctx.attempt(what, () => client.triggers.get(entity));
  } catch (err) {
    if (err instanceof AttemptError && err.cause instanceof WhirlApiError && err.cause.status === 404)
      return undefined;
    throw err;
  }
}

async function updateTrigger(ctx: Context): Promise<void> {
  const name = ctx.args.positionals[0]!;
  const entity = triggerName(name, ctx.namespace);
  const given = givenParameters(ctx);
  const annotations = optionalKeyValues(ctx, 'annotation');
  const client = ctx.client();
  const existing = await findTrigger(ctx, entity, `update trigger '${name}'`);
  const feed = existing === undefined ? undefined : feedOf(existing);
  const params = routeParameters(given, feed !== undefined);
  const body: TriggerPut = {};
  if (params.trigger !== undefined) body.parameters = params.trigger;
  if (annotations !== undefined) {
    // Given annotations replace the old ones: keep the one that says where events come from.
    body.annotations =
      feed === undefined ? annotations : mergeKeyValues(annotations, [{ key: 'feed', value: feed }]);
  }
  await ctx.attempt(`update trigger '${name}'`, () => client.triggers.put(entity, body, { overwrite: true }));
  if (feed !== undefined && params.feed !== undefined) {
    const outcome = await invokeFeed(ctx, feed, 'UPDATE', entity, toObject(params.feed));
    if (!outcome.ok) {
      throw new CommandError(
        `Unable to update trigger '${name}': the feed ${feed} failed: ${outcome.message}`,
        ExitCode.RequestFailed,
        ['The trigger keeps its previous feed configuration.', feedHint(feed, outcome.missing === true)],
      );
    }
    ctx.ok(feedInvokedLine(feed, 'UPDATE', outcome.activationId));
  }
  ctx.ok(`updated trigger ${name}`);
}

async function fireTrigger(ctx: Context): Promise<void> {
  const [name, payloadText] = ctx.args.positionals as [string, string | undefined];
  const entity = triggerName(name, ctx.namespace);
  const payload = firePayload(payloadText, ctx.args.pairs('param'), ctx.args.list('param-file'));
  const client = ctx.client();
  const fired = await ctx.attempt(`fire trigger '${name}'`, () => client.triggers.fire(entity, payload));
  const display = qualifiedName(entity);
  if (fired.status === 204 || fired.activationId === undefined) {
    ctx.ok(`triggered ${display}, but no rule is active on it: nothing ran and no activation was recorded`);
    ctx.io.err(
      `Link an action with 'whirl rule create RULE ${name} ACTION', or enable a rule with 'whirl rule enable RULE'.\n`,
    );
    return;
  }
  ctx.ok(`triggered ${display} with id ${fired.activationId}`);
}

async function getTrigger(ctx: Context): Promise<void> {
  const [name, field] = ctx.args.positionals as [string, string | undefined];
  const entity = triggerName(name, ctx.namespace);
  const client = ctx.client();
  const trigger = await ctx.attempt(`get trigger '${name}'`, () => client.triggers.get(entity));
  if (ctx.args.bool('summary')) {
    for (const l of summaryLines('trigger', fqnOf(trigger), trigger)) ctx.line(l);
    return;
  }
  printGot(ctx, 'trigger', name, trigger, field);
  const feed = feedOf(trigger);
  if (feed === undefined || field !== undefined) return;
  // What the feed knows of the trigger (an alarm's schedule, its next fire...), as `wsk` shows it.
  const outcome = await invokeFeed(ctx, feed, 'READ', entity);
  if (!outcome.ok) {
    ctx.warn(`the feed ${feed} could not read the trigger's configuration: ${outcome.message}`);
    return;
  }
  ctx.ok(feedInvokedLine(feed, 'READ', outcome.activationId));
  ctx.json(outcome.result ?? {});
}

async function deleteTrigger(ctx: Context): Promise<void> {
  const name = ctx.args.positionals[0]!;
  const entity = triggerName(name, ctx.namespace);
  const client = ctx.client();
  const trigger = await ctx.attempt(`delete trigger '${name}'`, () => client.triggers.get(entity));
  const feed = feedOf(trigger);
  if (feed !== undefined) {
    const outcome = await invokeFeed(ctx, feed, 'DELETE', entity);
    if (outcome.ok) ctx.ok(feedInvokedLine(feed, 'DELETE', outcome.activationId));
    else
      ctx.warn(
        `the feed ${feed} failed to forget the trigger (${outcome.message}); deleting the trigger anyway stops its events.`,
      );
  }
  await ctx.attempt(`delete trigger '${name}'`, () => client.triggers.delete(entity));
  ctx.ok(`deleted trigger ${name}`);
}

async function listTriggers(ctx: Context): Promise<void> {
  const text = ctx.args.positionals[0];
  const scope = listScope(text, ctx.namespace);
  if (scope.pkg !== undefined) throw new UsageError(`'${text}' is not a namespace: use /NAMESPACE`);
  const client = ctx.client();
  let triggers = await ctx.attempt('list triggers', () =>
    client.triggers.list({
      namespace: scope.namespace,
      limit: ctx.args.number('limit'),
      skip: ctx.args.number('skip'),
    }),
  );
  if (ctx.args.bool('name-sort')) triggers = sortByName(triggers);
  ctx.line('triggers');
  for (const t of triggers) ctx.line(entityRow(t));
}

const WRITE_FLAGS: FlagDef[] = [...PARAM_FLAGS, ...ROUTED_PARAM_FLAGS, ...ANNOTATION_FLAGS];

export const TRIGGER_DETAILS = `Examples:
  whirl trigger create tick --feed /whisk.system/alarms/alarm -p cron '*/10 * * * * *'
  whirl trigger create every5 --feed /whisk.system/alarms/interval -p minutes 5
  whirl trigger create signup -p source web
  whirl trigger fire signup '{"user":"ann"}'
With --feed, -p/-P configure the feed, not the trigger; a feed that refuses leaves no trigger behind.
To say where each parameter goes, use -T KEY VALUE (on the trigger) and -F KEY VALUE (to the feed only):
  whirl trigger create tick --feed /whisk.system/alarms/alarm -F cron '0 * * * *' -T region eu`;

export const triggerNoun: Noun = {
  name: 'trigger',
  summary: 'Work with triggers.',
  verbs: [
    {
      name: 'create',
      args: 'NAME',
      summary: 'create a new trigger (with --feed: events from a feed)',
      flags: [...WRITE_FLAGS, FEED_FLAG],
      min: 1,
      max: 1,
      details: TRIGGER_DETAILS,
      run: createTrigger,
    },
    {
      name: 'update',
      args: 'NAME',
      summary: "update a trigger (or create it); a feed trigger's -p goes to its feed (UPDATE)",
      flags: WRITE_FLAGS,
      min: 1,
      max: 1,
      run: updateTrigger,
    },
    {
      name: 'fire',
      args: 'NAME [PAYLOAD]',
      summary: 'fire a trigger: its active rules run their actions with the payload',
      flags: PARAM_FLAGS,
      min: 1,
      max: 2,
      details: `PAYLOAD is a JSON object; -p KEY VALUE adds to it. Exit code 0 also when no rule is active.`,
      run: fireTrigger,
    },
    {
      name: 'get',
      args: 'NAME [FIELD]',
      summary: 'get a trigger (a feed trigger also shows what its feed reports)',
      flags: [SUMMARY_FLAG],
      min: 1,
      max: 2,
      run: getTrigger,
    },
    {
      name: 'delete',
      args: 'NAME',
      summary: 'delete a trigger (and tell its feed)',
      min: 1,
      max: 1,
      run: deleteTrigger,
    },
    {
      name: 'list',
      args: '[/NAMESPACE]',
      summary: 'list triggers',
      flags: LIST_FLAGS,
      max: 1,
      run: listTriggers,
    },
  ],
};

export const triggerCommand = (argv: string[]): Promise<number> => runNoun(triggerNoun, argv);
