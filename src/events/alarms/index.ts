/**
 * The built-in alarms feed provider behind the public package `/whisk.system/alarms` (feeds `alarm`,
 * `once`, `interval`; docs/events.md). The feed actions are ordinary actions (src/catalog/alarms.ts) that
 * forward the lifecycle call to `POST /api/v1/namespaces/whisk.system/alarms`, served here.
 */
import type { FastifyInstance } from 'fastify';
import { notFound } from '../../core/errors.js';
import { authenticate, type ControllerDeps } from '../../controller/http.js';
import { objectBody } from '../../controller/validate.js';
import { handleLifecycle } from './lifecycle.js';
import type { AlarmsProvider } from './provider.js';

export { AlarmsProvider, PROVIDER, type AlarmsOptions } from './provider.js';
export { LIFECYCLE_EVENTS } from './lifecycle.js';
export { FEEDS, nextFire, readConfig, type AlarmConfig, type Schedule } from './schedule.js';

/** The namespace whose path the provider's endpoint lives under. */
export const PROVIDER_NAMESPACE = 'whisk.system';

/** The provider's REST endpoint, as a controller plugin. */
export function alarmRoutes(provider: AlarmsProvider) {
  return (app: FastifyInstance, deps: ControllerDeps): void => {
    app.post<{ Params: { ns: string }; Body: unknown }>(
      '/api/v1/namespaces/:ns/alarms',
      { preHandler: authenticate(deps), bodyLimit: deps.system.payloadSize },
      async (req) => {
        if (req.params.ns !== PROVIDER_NAMESPACE) throw notFound();
        return handleLifecycle(provider, deps.entities, req.caller, objectBody(req.body));
      },
    );
  };
}
