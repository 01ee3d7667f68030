/**
 * The controller's HTTP API (OpenWhisk v1 wire format), assembled as a Fastify instance that never listens
 * by itself: the server composition root listens, tests use `inject`. This module only registers the
 * parsers, hooks and route sets; what routes share (deps, auth, the error envelope) is in http.ts.
 */
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { Messages, WhirlError } from '../core/errors.js';
import { MAX_JSON_DEPTH, withinDepth } from '../core/json.js';
import { BODY_LIMIT, sendError, type ControllerDeps } from './http.js';
import type { Caller } from './identities.js';
import { actionRoutes } from './routes/actions.js';
import { packageRoutes } from './routes/packages.js';
import { ruleRoutes } from './routes/rules.js';
import { triggerRoutes } from './routes/triggers.js';
import { activationRoutes } from './routes/activations.js';
import { infoRoutes } from './routes/info.js';
import { namespaceRoutes } from './routes/namespaces.js';
import { webRoutes } from './web/index.js';

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
