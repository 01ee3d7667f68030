/**
 * `GET /api/v1/namespaces` (the caller's namespace, as a one-element list) and its limits.
 */
import type { FastifyInstance } from 'fastify';
import { forbidden } from '../../core/errors.js';
import { limitsToJson } from '../../core/limits.js';
import { DEFAULT_NAMESPACE } from '../../core/names.js';
import { authenticate, type ControllerDeps } from '../http.js';

export function namespaceRoutes(app: FastifyInstance, deps: ControllerDeps): void {
  const auth = authenticate(deps);
  app.get('/api/v1/namespaces', { preHandler: auth }, async (req) => [req.caller.namespace]);
  app.get<{ Params: { ns: string } }>('/api/v1/namespaces/:ns/limits', { preHandler: auth }, async (req) => {
    const ns = req.params.ns === DEFAULT_NAMESPACE ? req.caller.namespace : req.params.ns;
    if (ns !== req.caller.namespace) throw forbidden();
    return limitsToJson(deps.system, req.caller.limits);
  });
}
