/**
 * The controller's HTTP API (OpenWhisk v1 wire format), built as a Fastify instance that never listens by
 * itself: the server composition root listens, tests use `inject`. One error handler turns every failure
 * into the `{"error", "code"}` envelope; every response carries `X-Request-ID`.
 */
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Messages, WhirlError } from '../core/errors.js';
import { MAX_JSON_DEPTH, withinDepth } from '../core/json.js';
import type { SystemLimits } from '../core/limits.js';
import type { IsolationReport } from '../sandbox/sandbox.js';
import type { ActivationReader } from './activation-reader.js';
import type { Entities } from './entities.js';
import type { Caller, Identities } from './identities.js';
import type { Invocations } from './invocations.js';
import type { Throttles } from './throttles.js';
import type { ActivationWriter } from '../store/activation-writer.js';
import type { TriggerListener } from '../events/fire.js';
import type { CompositionSupport } from './compositions/index.js';
import { actionRoutes } from './routes/actions.js';
import { packageRoutes } from './routes/packages.js';
import { ruleRoutes } from './routes/rules.js';
import { triggerRoutes } from './routes/triggers.js';
import { activationRoutes } from './routes/activations.js';
import { infoRoutes } from './routes/info.js';
import { namespaceRoutes } from './routes/namespaces.js';
import { webRoutes } from './web/index.js';

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
const BODY_LIMIT = 70 * 1024 * 1024;
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, DELETE, POST, PUT, HEAD',
  'access-control-allow-headers': 'Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent',
};

export function buildApp(deps: ControllerDeps): FastifyInstance {
  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: BODY_LIMIT,
    // Names may contain spaces and `&`; keep the router out of the way of long entity paths.
    routerOptions: { maxParamLength: 2048 },
    // Errors the framework raises before routing (a URL with broken %-escapes, ...) get the envelope too.
    frameworkErrors: (err, req, reply) => {
      const bad =
        err.code === 'FST_ERR_BAD_URL'
          ? new WhirlError(400, `The request URL is not valid: ${req.url}`)
          : err;
      void sendError(req, reply, bad);
    },
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomBytes(16).toString('hex');
    },
  });

  app.decorate('draining', false);
  app.addHook('onSend', async (_req, reply) => {
    if (app.draining) void reply.header('connection', 'close');
  });
  app.decorateRequest('caller', null as unknown as Caller);
  app.decorateRequest('receivedAt', 0);
  app.addHook('onRequest', async (req, reply) => {
    req.receivedAt = Date.now();
    void reply.header('x-request-id', req.id);
    if (req.url.startsWith('/api/v1') && !req.url.startsWith('/api/v1/web/')) void reply.headers(CORS);
  });

  // Every body is JSON on the REST API; an empty body is `{}` (OpenWhisk's emptyEntityToJsObject).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body: Buffer, done) => {
    if (body.length === 0) return done(null, undefined);
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch (err) {
      return done(new WhirlError(400, Messages.malformed((err as Error).message)), undefined);
    }
    if (!withinDepth(value)) {
      return done(
        new WhirlError(400, Messages.malformed(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`)),
        undefined,
      );
    }
    done(null, value);
  });

  app.setErrorHandler((err, req, reply) => sendError(req, reply, err));
  app.setNotFoundHandler((req, reply) => sendError(req, reply, new WhirlError(404, Messages.notFound)));

  app.options('/api/v1/*', async (_req, reply) => reply.code(200).send());
  infoRoutes(app, deps);
  namespaceRoutes(app, deps);
  actionRoutes(app, deps);
  activationRoutes(app, deps);
  packageRoutes(app, deps);
  triggerRoutes(app, deps);
  ruleRoutes(app, deps);
  webRoutes(app, deps);
  for (const plugin of deps.plugins ?? []) plugin(app, deps);
  return app;
}

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
