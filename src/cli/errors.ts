/**
 * Turning failures into friendly, actionable messages and exit codes:
 *   error: Unable to create action 'hello': resource already exists (code 1f2e...)
 *   Use 'whirl action update' to change it.
 */
import { UsageError } from './args.js';
import { WhirlApiError, WhirlConnectionError } from './client.js';
import { ExitCode } from './exit-codes.js';

/** A failure with its message, exit code and hints already decided. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly hints: string[] = [],
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

/** APIHOST/AUTH missing or unusable (exit 3). */
export class ConfigError extends CommandError {
  constructor(message: string, hints: string[] = []) {
    super(message, ExitCode.Unreachable, hints);
    this.name = 'ConfigError';
  }
}

/** A request failed while doing `what` ("create action 'hello'"). */
export class AttemptError extends Error {
  constructor(
    readonly what: string,
    override readonly cause: WhirlApiError | WhirlConnectionError,
  ) {
    super(`Unable to ${what}: ${cause.message}`);
    this.name = 'AttemptError';
  }
}

export interface FailureContext {
  /** `action`, `activation`... */
  noun: string;
  /** `create`, `get`... */
  verb: string;
  apihost?: string | undefined;
  /** Where the key came from, e.g. "the environment (WHISK_AUTH)". */
  authSource?: string | undefined;
}

export interface Failure {
  lines: string[];
  exitCode: ExitCode;
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function connectionHints(err: WhirlConnectionError, apihost: string | undefined): string[] {
  const host = apihost ?? 'the API host';
  const code = err.code;
  if (code === 'ECONNREFUSED') {
    return [
      `Is Whirl running at ${host}? Start it with 'npm start' or 'whirl standalone',`,
      `or point the CLI at a running server with 'whirl property set --apihost URL'.`,
    ];
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return [`The host name in ${host} does not resolve; check it with 'whirl property get --apihost'.`];
  }
  if (code === 'ETIMEDOUT')
    return [`${host} did not answer in time; is it the right address, and is the server healthy?`];
  if (TLS_CODES.has(code))
    return [`The server's TLS certificate is not trusted; add -i/--insecure to accept it anyway.`];
  if (
    code === 'EPROTO' ||
    code === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
    /wrong version number/i.test(err.message)
  ) {
    return [
      `The server does not seem to speak TLS; use an http:// APIHOST, e.g. 'whirl property set --apihost http://HOST:PORT'.`,
    ];
  }
  if (code === 'ECONNRESET') return [`${host} closed the connection; is it a Whirl/OpenWhisk API host?`];
  return [`Check the API host (${host}) with 'whirl property get --apihost'.`];
}

/** Hints for 400s whose message names what is missing or wrong. */
function badRequestHints(message: string): string[] {
  const trigger = /^trigger \/[^/]+\/(\S+) does not exist/.exec(message);
  if (trigger) return [`Create the trigger first: 'whirl trigger create ${trigger[1]}'.`];
  if (/^action \S+ does not exist/.test(message))
    return [`Check the action's name with 'whirl action list' (or 'whirl action list PACKAGE').`];
  if (message === 'Binding references a package that does not exist.')
    return [`'whirl package list /NAMESPACE' shows the shared packages of a namespace.`];
  if (message === 'Cannot bind to another package binding.')
    return [`Bind to the package the binding points to: 'whirl package get BINDING binding' shows it.`];
  if (/^Package name '.*' is reserved\./.test(message)) return ['Pick another name for the package.'];
  if (message === 'Feed name is not valid')
    return [`Name the feed action fully, e.g. --feed /whisk.system/alarms/alarm.`];
  return [];
}

export function apiHints(err: WhirlApiError, c: FailureContext): string[] {
  switch (err.status) {
    case 400:
      return badRequestHints(err.error);
    case 401:
      return [
        `Check the key with 'whirl property get --auth' or set it with 'whirl property set --auth UUID:KEY'` +
          (c.authSource === undefined ? '.' : ` (the key in use comes from ${c.authSource}).`),
      ];
    case 403:
      return [
        `The key's namespace may not access this; 'whirl namespace list' shows the namespace of your key.`,
      ];
    case 404:
      if (c.noun === 'activation') {
        return [`Records appear when an activation ends; 'whirl activation list' shows recent ones.`];
      }
      if (err.error === 'Only rules with existing triggers can be activated') {
        return [`The rule's trigger is gone: re-create it, or delete the rule with 'whirl rule delete'.`];
      }
      return [`Run 'whirl ${c.noun} list' to see what exists.`];
    case 409:
      if (err.error === 'resource already exists') return [`Use 'whirl ${c.noun} update' to change it.`];
      if (/Concurrent modification/i.test(err.error))
        return ['It was changed at the same moment; try again.'];
      if (/not in this collection/i.test(err.error))
        return ['Another kind of entity (e.g. a package) already has this name.'];
      if (/^Package not empty/.test(err.error))
        return [`Delete its actions first, or add --force to delete them with it.`];
      return [];
    case 413:
      return [
        `The request is larger than the server accepts (zip files travel base64-encoded, a third larger).`,
      ];
    case 429:
      return [`The namespace is throttled; wait a little and retry ('whirl namespace get' does not count).`];
    default:
      if (err.status >= 500) return [`The server failed; its log shows more (search for the code above).`];
      return [];
  }
}

/** Message lines and exit code for anything a command threw. */
export function describeFailure(err: unknown, c: FailureContext, debug = false): Failure {
  if (err instanceof UsageError) {
    const cmd = `whirl ${c.noun}${c.verb === '' ? '' : ` ${c.verb}`}`;
    return { lines: [`error: ${err.message}`, `Run '${cmd} --help' for usage.`], exitCode: ExitCode.Usage };
  }
  if (err instanceof CommandError) {
    return { lines: [`error: ${err.message}`, ...err.hints], exitCode: err.exitCode };
  }
  const what = err instanceof AttemptError ? err.what : undefined;
  const cause = err instanceof AttemptError ? err.cause : err;
  const prefix = what === undefined ? '' : `Unable to ${what}: `;
  if (cause instanceof WhirlApiError) {
    const code = cause.code === undefined ? '' : ` (code ${cause.code})`;
    return {
      lines: [`error: ${prefix}${cause.error}${code}`, ...apiHints(cause, c)],
      exitCode: ExitCode.RequestFailed,
    };
  }
  if (cause instanceof WhirlConnectionError) {
    const host = c.apihost ?? 'the API host';
    return {
      lines: [`error: ${prefix}cannot reach ${host}: ${cause.message}`, ...connectionHints(cause, c.apihost)],
      exitCode: ExitCode.Unreachable,
    };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  const fsCode = (e as { code?: unknown }).code;
  if (typeof fsCode === 'string' && /^E(NOENT|ACCES|ISDIR|EXIST|PERM|NOTDIR)$/.test(fsCode)) {
    return { lines: [`error: ${e.message}`], exitCode: ExitCode.Usage };
  }
  return {
    lines: [`error: ${e.message}`, ...(debug && e.stack !== undefined ? [e.stack] : [])],
    exitCode: ExitCode.RequestFailed,
  };
}
