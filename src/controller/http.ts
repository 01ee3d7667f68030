/**
 * What every route of the controller's HTTP API shares: its dependencies (`ControllerDeps`), the request
 * fields Fastify is extended with, authentication, and the one place a failure becomes the
 * `{"error", "code"}` envelope. Routes import this module; app.ts only assembles them.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Messages, WhirlError } from '../core/errors.js';
import type { SystemLimits } from '../core/limits.js';
import type { IsolationReport } from '../sandbox/sandbox.js';
import type { ActivationWriter } from '../store/activation-writer.js';
import type { ActivationReader } from './activation-reader.js';
import type { CompositionSupport } from './start-activation.js';
import type { Entities } from './entities.js';
import type { Caller, Identities } from './identities.js';
import type { Invocations } from './invocations.js';
import type { Throttles } from './throttles.js';
import type { TriggerListener } from './triggers/fire.js';

export interface ControllerDeps {
  entities: Entities;
  identities: Identities;
  invocations: Invocations;
  throttles: Throttles;
  activations: ActivationReader;
  system: SystemLimits;
  /** What `GET /api/v1` reports about the deployment. */
  info: { version: string; sandbox: string; isolation: IsolationReport; mode: 'standalone' | 'cluster' };
  /** Writes the records the controller makes itself: trigger activations, sequences, conductors. */
  activationWriter?: ActivationWriter;
  /** Sequences and conductor actions (controller/compositions); without it, sequences are refused. */
  compositions?: CompositionSupport;
  /** Told when a trigger is deleted, so that feed providers stop firing it (events/). */
  triggerListeners?: TriggerListener[];
  /** Route sets added by other modules (packages, triggers, web actions ...). */
  plugins?: ((app: FastifyInstance, deps: ControllerDeps) => void)[];
  logger?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
    receivedAt: number;
  }
  interface FastifyInstance {
    /** Set when shutting down: responses close their connection so that keep-alive clients let go. */
    draining: boolean;
  }
}

/** Big enough for a 48 MB zip, base64-encoded (64 MB), plus parameters and annotations. */
export const BODY_LIMIT = 70 * 1024 * 1024;
/** Authenticates the request or answers 401; routes that need a caller use this as a preHandler. */
export function authenticate(deps: ControllerDeps) {
  return async (req: FastifyRequest): Promise<void> => {
    const header = req.headers.authorization;
    const caller = await deps.identities.authenticate(header);
    if (caller === undefined) {
      throw new WhirlError(
        401,
        header === undefined ? Messages.credentialsMissing : Messages.unauthenticated,
        {
          'www-authenticate': 'Basic realm="OpenWhisk secure realm"',
        },
      );
    }
    req.caller = caller;
  };
}

interface FastifyishError {
  statusCode?: number;
  code?: string;
  message: string;
}

/** The one place failures become HTTP: WhirlErrors as they are, framework errors translated, the rest 500. */
export function sendError(req: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  let status = 500;
  let message: string = Messages.internal;
  let headers: Record<string, string> = {};
  if (err instanceof WhirlError) {
    status = err.status;
    message = err.message;
    headers = err.headers;
  } else {
    const e = err as FastifyishError;
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      status = 413;
      const limit = req.routeOptions.bodyLimit ?? BODY_LIMIT;
      message = Messages.requestTooLarge(req.headers['content-length'] ?? `more than ${limit}`, limit);
    } else if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      status = 400;
      message = Messages.malformed(e.message);
    } else if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      status = e.statusCode;
      message = e.message;
    } else {
      req.log.error({ err }, 'unexpected error');
      if (process.env.WHIRL_DEBUG) console.error(err);
    }
  }
  return reply
    .code(status)
    .header('x-request-id', req.id)
    .headers(headers)
    .header('content-type', 'application/json')
    .send({ error: message, code: req.id });
}
