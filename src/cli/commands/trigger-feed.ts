/**
 * The feed lifecycle, orchestrated by the client as OpenWhisk's CLI does (spec §5.3): a trigger made with
 * `--feed` carries a `feed` annotation naming an action annotated `feed: true`; the CLI invokes that action,
 * blocking, with `lifecycleEvent` (CREATE, READ, UPDATE, DELETE), `triggerName` (`/ns/T`), `authKey` (the
 * caller's key, with which the provider fires the trigger) and the user's `-p` parameters.
 */
import { WhirlApiError, WhirlConnectionError } from '../client.js';
import type { Context } from '../command.js';
import type { EntityName } from '../names.js';
import type { Activation } from '../types.js';

export type FeedEvent = 'CREATE' | 'READ' | 'UPDATE' | 'DELETE';

export type FeedOutcome =
  | { ok: true; activationId: string | undefined; result: unknown }
  /** `missing`: the feed action does not exist (or is not readable). */
  | { ok: false; activationId: string | undefined; message: string; missing?: boolean };

/** The feed action's parameters: the user's, then the lifecycle ones (which the user cannot override). */
export function feedParameters(
  event: FeedEvent,
  trigger: EntityName,
  authKey: string | undefined,
  params: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    ...params,
    lifecycleEvent: event,
    triggerName: `/${trigger.namespace}/${trigger.name}`,
    ...(authKey === undefined ? {} : { authKey }),
  };
}

function describeError(value: unknown): string {
  const error = (value as { error?: unknown } | null | undefined)?.error;
  const v = error === undefined ? value : error;
  const text = typeof v === 'string' ? v : (JSON.stringify(v) ?? 'no result');
  return text.length > 500 ? `${text.slice(0, 500)}...` : text;
}

/**
 * Invokes the feed action for one lifecycle event and waits for it. Failures of every kind — the feed
 * missing or not readable, the activation failing, the wait running out — come back as `ok: false` with a
 * message, so that each command decides what they mean (create removes the trigger again, delete goes on).
 */
export async function invokeFeed(
  ctx: Context,
  feed: string,
  event: FeedEvent,
  trigger: EntityName,
  params: Record<string, unknown> = {},
): Promise<FeedOutcome> {
  const client = ctx.client();
  const payload = feedParameters(event, trigger, ctx.config.auth.value, params);
  let outcome;
  try {
    outcome = await client.actions.invoke(feed, payload, { blocking: true });
  } catch (err) {
    if (err instanceof WhirlApiError) {
      const missing = err.status === 404 || err.status === 403;
      return { ok: false, activationId: undefined, message: err.error, missing };
    }
    if (err instanceof WhirlConnectionError) throw err;
    throw err;
  }
  const id = outcome.activationId;
  if (outcome.pending) {
    return { ok: false, activationId: id, message: 'the feed did not answer within the blocking wait' };
  }
  const record = outcome.body as Activation | undefined;
  const response = record?.response;
  if (outcome.status === 200 && response?.success !== false) {
    return { ok: true, activationId: id, result: response?.result };
  }
  return { ok: false, activationId: id, message: describeError(response?.result ?? outcome.body) };
}

/** `ok: invoked FEED (EVENT) with id ID`: what `wsk` prints for each feed invocation, plus the event. */
export function feedInvokedLine(feed: string, event: FeedEvent, id: string | undefined): string {
  return `invoked ${feed} (${event}) with id ${id ?? '(unknown)'}`;
}
