/**
 * Actions as HTTP endpoints — the front door of web actions and the API gateway:
 *
 *   /api/v1/web/{namespace}/{package|default}/{action}[.ext][/path]   web actions (spec §4), any method
 *   /api/gw/{namespace}/{basePath}/{path}                             published APIs, any method
 *   /api/v1/namespaces/{namespace}/apis[/...]                         managing published APIs (REST)
 *   /api/v1/web/whisk.system/apimgmt/{createApi,getApi,deleteApi}     the same, as OpenWhisk tools call it
 *
 * One encapsulated Fastify plugin with its own body parser: web requests carry bodies of any media type,
 * which actions receive exactly as sent (text, JSON, or bytes as base64), up to the payload limit. The REST
 * API's JSON parser and CORS headers stay out of it.
 */
import type { FastifyInstance } from 'fastify';
import { sendError, type ControllerDeps } from '../http.js';
import { WEB_METHODS } from './cors.js';
import { apiManagementHandlers } from './gateway/apimgmt.js';
import { apiRestRoutes } from './gateway/rest.js';
import { gatewayHandler, GATEWAY_PREFIX } from './gateway/serve.js';
import { webActionHandler, WEB_PREFIX } from './web-actions.js';

export { GATEWAY_PREFIX, WEB_PREFIX };

/** Registers web actions, the API gateway and API management on the controller app. */
export function webRoutes(app: FastifyInstance, deps: ControllerDeps): void {
  void app.register(async (web) => {
    web.removeAllContentTypeParsers();
    // Bytes in, untouched: each route decides what the body means (request.ts for actions).
    web.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body: Buffer, done) => done(null, body));
    web.setErrorHandler((err, req, reply) => sendError(req, reply, err));

    const methods = [...WEB_METHODS];
    const bodyLimit = deps.system.payloadSize;
    web.route({
      method: methods,
      url: `${WEB_PREFIX}*`,
      // HEAD is listed explicitly: it reaches the action as `__ow_method: "head"`.
      exposeHeadRoute: false,
      bodyLimit,
      handler: webActionHandler(deps, apiManagementHandlers(deps)),
    });
    web.route({
      method: methods,
      url: `${GATEWAY_PREFIX}*`,
      exposeHeadRoute: false,
      bodyLimit,
      handler: gatewayHandler(deps),
    });
    apiRestRoutes(web, deps);
  });
}
