/**
 * Serving published APIs at `/api/gw/{namespace}/{basePath}/{path}`. The longest base path of the namespace
 * that prefixes the request path picks the API; its most specific matching route picks the action, which
 * then runs with web action semantics (owner, CORS, auth annotations, response type as the extension).
 * A known path asked with another method is a 405 that lists the methods; a preflight of a known path
 * is answered here unless the path maps OPTIONS to an action.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Messages, WhirlError, notFound } from '../../../core/errors.js';
import { isValidName } from '../../../core/names.js';
import type { ControllerDeps } from '../../http.js';
import { corsHeaders } from '../cors.js';
import { runWebAction } from '../invoke.js';
import { BASE_SEGMENT, matchRoute, MAX_BASE_PATH_SEGMENTS } from './model.js';
import { getApi, refOf } from './service.js';

export const GATEWAY_PREFIX = '/api/gw/';

/** Where a namespace's APIs are served (`gwApiUrl` in the API management responses). */
export function gatewayUrl(origin: string, namespace: string): string {
  return `${origin}${GATEWAY_PREFIX}${encodeURIComponent(namespace)}`;
}

export function gatewayHandler(deps: ControllerDeps) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const path = req.url.split('?', 1)[0]!.slice(GATEWAY_PREFIX.length);
    const slash = path.indexOf('/');
    let namespace: string;
    try {
      namespace = decodeURIComponent(slash < 0 ? path : path.slice(0, slash));
    } catch {
      throw notFound();
    }
    if (!isValidName(namespace)) throw notFound();
    const segments = slash < 0 ? [] : path.slice(slash + 1).split('/');
    if (segments[segments.length - 1] === '') segments.pop();

    // Unknown namespaces and impossible base paths cost no store lookups.
    if ((await deps.identities.ownerOf(namespace)) === undefined) throw notFound();
    let longest = 0;
    while (
      longest < Math.min(MAX_BASE_PATH_SEGMENTS, segments.length) &&
      BASE_SEGMENT.test(segments[longest]!)
    )
      longest++;

    // Longest base path first: `/v1/books` before `/v1` before `/`.
    for (let n = longest; n >= 0; n--) {
      const api = await getApi(deps, namespace, `/${segments.slice(0, n).join('/')}`);
      if (api === undefined) continue;
      const relPath = `/${segments.slice(n).join('/')}`;
      const match = matchRoute(api.doc, relPath, req.method);
      if (match === undefined) break;
      if ('methods' in match) {
        const methods = [...new Set([...match.methods, 'OPTIONS'])];
        if (req.method === 'OPTIONS') {
          return reply
            .code(200)
            .headers(corsHeaders(req.headers, methods))
            .header('allow', methods.join(', '))
            .send();
        }
        void reply.headers(corsHeaders(req.headers, methods));
        throw new WhirlError(405, `${Messages.methodNotAllowed}${match.methods.join(', ')}.`, {
          allow: methods.join(', '),
        });
      }
      return runWebAction(deps, req, reply, {
        namespace,
        action: refOf(match.route.action),
        ext: match.route.responseType,
        path: relPath,
        pathParams: match.params,
        ...(match.route.secureKey === undefined ? {} : { secureKey: match.route.secureKey }),
      });
    }
    throw notFound();
  };
}
