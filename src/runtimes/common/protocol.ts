// Protocol rules shared by the proxies written in TypeScript: the wire messages clients match on, and
// how /init and /run bodies turn into environment variables and action arguments.
import { errorReply, type Reply } from './http-server.js';
import { logErr } from './sentinel.js';

export const MISSING_CODE = 'Missing main/no code to execute.';
export const DOUBLE_INIT = 'Cannot initialize the action more than once.';
export const NOT_INITIALIZED = 'System not initialized.';
export const NOT_A_DICTIONARY = 'The action did not return a dictionary.';

export type Status = 'ready' | 'starting' | 'running' | 'stopped';

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Init parameters become environment variables: strings as they are, JSON for objects, "" for null. */
export function initEnv(env: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isRecord(env)) return out;
  for (const [key, value] of Object.entries(env)) {
    // JSON text is also the right string form of numbers and booleans ("3", "true").
    out[key] =
      value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  }
  return out;
}

/** Every string field of the /run body but `value` becomes __OW_<FIELD> for that run. */
export function runEnv(body: Record<string, unknown>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(body)) {
    if (key !== 'value' && typeof value === 'string') env[`__OW_${key.toUpperCase()}`] = value;
  }
  return env;
}

/**
 * The action's argument: a missing or null `value` is {}, objects and arrays pass, anything else is
 * refused with 403 (and the reason on stderr).
 */
export function runArgs(body: Record<string, unknown>): { args: object } | { refused: Reply } {
  const value = body.value;
  if (value === null || value === undefined) return { args: {} };
  if (typeof value === 'object') return { args: value };
  const message = `Internal system error: the argument must be a dictionary but has type '${typeof value}'.`;
  logErr(message);
  return { refused: errorReply(403, message) };
}

/** A 403 for a request the proxy's state does not allow, echoed on stderr as OpenWhisk does. */
export function refuse(message: string): Reply {
  logErr(`Internal system error: ${message}`);
  return errorReply(403, message);
}

/** Why /run cannot proceed now, or undefined when it can. */
export function notRunnable(initialized: boolean, status: Status): string | undefined {
  if (!initialized) return NOT_INITIALIZED;
  return status === 'ready' ? undefined : `System not ready, status is ${status}.`;
}

/** Why /init cannot proceed now, or undefined when it can. */
export function notInitializable(initialized: boolean, status: Status): string | undefined {
  if (initialized) return DOUBLE_INIT;
  return status === 'ready' ? undefined : `System not ready, status is ${status}.`;
}
