// The /init and /run semantics of the OpenWhisk Node.js runtime: a small state machine (ready,
// starting, running, stopped), the error strings clients match on, and the classification of what
// an action returns or throws.
import { inspect } from 'node:util';
import { errorReply, reply, type Reply } from '../common/http-server.js';
import {
  MISSING_CODE,
  NOT_A_DICTIONARY,
  initEnv,
  isRecord,
  notInitializable,
  notRunnable,
  refuse,
  runArgs,
  runEnv,
  type Status,
} from '../common/protocol.js';
import { logErr, writeSentinels } from '../common/sentinel.js';
import { activations, endActivation, newActivation, type Activation } from './activation.js';
import { InitError, loadAction, type ActionMain } from './loader.js';
import { serializeError } from './serialize-error.js';

export interface ServiceOptions {
  /** __OW_ALLOW_CONCURRENT=true: runs overlap instead of being refused while one is in flight. */
  concurrent: boolean;
  /** Track each run in an AsyncLocalStorage (needed for concurrency and for log tags). */
  trackActivations: boolean;
  /** Where archives are unpacked. */
  tmpDir: string;
}

type Outcome = { threw: true; error: unknown } | { threw: false; value: unknown };

/** The error text OpenWhisk shows for an init failure: the stack for real errors, else the message. */
function describe(error: unknown): string {
  if (error instanceof InitError) return error.message;
  if (error instanceof Error) return error.stack ?? String(error);
  return safeString(error);
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return inspect(value);
  }
}

export class NodeActionService {
  private status: Status = 'ready';
  private main: ActionMain | undefined;
  /** __OW_* keys the previous run set, with the values they replaced, so a later run cannot see them. */
  private replaced = new Map<string, string | undefined>();

  constructor(private readonly options: ServiceOptions) {}

  init = async (body: Record<string, unknown>): Promise<Reply> => {
    const refusal = notInitializable(this.main !== undefined, this.status);
    if (refusal) return refuse(refusal);
    const value = isRecord(body.value) ? body.value : {};
    const { main, code } = value;
    if (typeof main !== 'string' || !main || typeof code !== 'string' || !code) {
      return errorReply(403, MISSING_CODE);
    }
    this.status = 'starting';
    try {
      // Before loading: top-level code may read its init parameters.
      Object.assign(process.env, initEnv(value.env));
      this.main = await loadAction({ main, code, binary: value.binary === true }, this.options.tmpDir);
      this.status = 'ready';
      return reply(200, { OK: true });
    } catch (error) {
      this.status = 'stopped';
      const text = describe(error);
      logErr(`Error during initialization: ${text}`);
      writeSentinels();
      return errorReply(502, `Initialization has failed due to: ${text}`);
    }
  };

  run = async (body: Record<string, unknown>): Promise<Reply> => {
    const main = this.main;
    const refusal = notRunnable(main !== undefined, this.status);
    if (refusal || !main) return refuse(refusal ?? '');
    const input = runArgs(body);
    if ('refused' in input) return input.refused;

    const env = runEnv(body);
    if (!this.options.concurrent) {
      this.status = 'running';
      this.swapRunEnv(env);
    } // else each activation sees its own __OW_* variables through the env view (activation.ts)
    const activation = this.options.trackActivations
      ? newActivation(env.__OW_ACTIVATION_ID ?? '', env)
      : undefined;

    const outcome = await this.invoke(main, input.args, activation);
    if (!this.options.concurrent) this.status = 'ready';
    return this.classify(outcome, activation);
  };

  /** Sequential runs: set this run's __OW_* variables and take back those only the last run had. */
  private swapRunEnv(env: Record<string, string>): void {
    for (const [key, previous] of this.replaced) {
      if (key in env) continue;
      if (previous === undefined) delete process.env[key];
      else process.env[key] = previous;
      this.replaced.delete(key);
    }
    for (const [key, value] of Object.entries(env)) {
      if (!this.replaced.has(key)) this.replaced.set(key, process.env[key]);
      process.env[key] = value;
    }
  }

  private async invoke(
    main: ActionMain,
    args: unknown,
    activation: Activation | undefined,
  ): Promise<Outcome> {
    let returned: unknown;
    try {
      returned = activation ? activations.run(activation, main, args) : main(args);
    } catch (error) {
      return { threw: true, error };
    }
    try {
      const value = await returned;
      return { threw: false, value: value === undefined ? {} : value };
    } catch (error) {
      // A rejected promise is an application error, reported as a result; reject() gives {}.
      return { threw: false, value: { error: error ? serializeError(error) : {} } };
    }
  }

  private classify(outcome: Outcome, activation: Activation | undefined): Reply {
    if (outcome.threw) {
      // A synchronous throw leaves the action in an unknown state: OpenWhisk retires the container.
      this.status = 'stopped';
      logErr(
        outcome.error instanceof Error
          ? (outcome.error.stack ?? String(outcome.error))
          : inspect(outcome.error),
      );
      endActivation(activation);
      return errorReply(502, `An error has occurred: ${safeString(outcome.error)}`);
    }
    const value = outcome.value;
    if (value === null || typeof value !== 'object') {
      logErr(
        `Result must be of type object but has type "${value === null ? 'null' : typeof value}": ${inspect(value)}`,
      );
      endActivation(activation);
      return errorReply(502, NOT_A_DICTIONARY);
    }
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (error) {
      logErr(`The result cannot be serialised as JSON: ${safeString(error)}`);
      endActivation(activation);
      return errorReply(502, NOT_A_DICTIONARY);
    }
    // toJSON() may turn an object into a scalar (a Date, say): that is not a dictionary either.
    if (json === undefined || (json[0] !== '{' && json[0] !== '[')) {
      logErr(`Result must serialise to a JSON object but is: ${json}`);
      endActivation(activation);
      return errorReply(502, NOT_A_DICTIONARY);
    }
    endActivation(activation);
    return { status: 200, json };
  }
}
