/**
 * Unauthenticated information routes: `/ping`, `/` (OpenWhisk's controller info) and `/api/v1`.
 */
import type { FastifyInstance } from 'fastify';
import { manifestJson } from '../../core/runtimes.js';
import type { ControllerDeps } from '../http.js';

export function infoRoutes(app: FastifyInstance, deps: ControllerDeps): void {
  const s = deps.system;
  const MB = 1024 * 1024;
  // OpenWhisk's keys, in its units (ms, bytes); `default_*` are the namespace defaults, which Whirl's
  // system bounds also are unless an operator narrows a namespace (GET /namespaces/_/limits shows those).
  const openwhiskLimits = {
    actions_per_minute: s.invocationsPerMinute,
    triggers_per_minute: s.firesPerMinute,
    concurrent_actions: s.concurrentInvocations,
    sequence_length: s.sequenceLength,
    default_min_action_duration: s.timeoutMs.min,
    default_max_action_duration: s.timeoutMs.max,
    default_min_action_memory: s.memoryMB.min * MB,
    default_max_action_memory: s.memoryMB.max * MB,
    default_min_action_logs: s.logsMB.min * MB,
    default_max_action_logs: s.logsMB.max * MB,
    min_action_duration: s.timeoutMs.min,
    max_action_duration: s.timeoutMs.max,
    min_action_memory: s.memoryMB.min * MB,
    max_action_memory: s.memoryMB.max * MB,
    min_action_logs: s.logsMB.min * MB,
    max_action_logs: s.logsMB.max * MB,
  };
  const limits = {
    ...openwhiskLimits,
    default_action_duration: s.timeoutMs.std,
    default_action_memory: s.memoryMB.std * MB,
    default_action_logs: s.logsMB.std * MB,
    max_action_concurrency: s.concurrency.max,
    max_payload_size: s.payloadSize,
    max_code_size: s.codeSize,
    max_result_size: s.resultSize,
  };
  const sandbox = { backend: deps.info.sandbox, ...deps.info.isolation };
  // `GET /` is OpenWhisk's controller info, key for key: tools (wskdebug, the openwhisk client) parse it.
  const controllerInfo = {
    description: 'Whirl, an OpenWhisk-compatible serverless platform',
    support: { github: 'https://github.com/whirl-faas/whirl/issues' },
    api_paths: ['/api/v1'],
    limits: openwhiskLimits,
    runtimes: manifestJson(),
  };
  // `GET /api/v1` is OpenWhisk's API info plus what Whirl adds: every limit, the mode and the sandbox.
  const apiInfo = {
    description: 'OpenWhisk API',
    api_version: '1.0.0',
    api_version_path: 'v1',
    build: deps.info.version,
    buildno: deps.info.version,
    swagger_paths: { ui: '/docs', 'api-docs': '/api-docs' },
    limits,
    throttles: {
      // What a namespace without its own limits gets; `developer` lists the namespaces that get more.
      shared: {
        invocationsPerMinute: s.invocationsPerMinute,
        concurrentInvocations: s.concurrentInvocations,
        firesPerMinute: s.firesPerMinute,
      },
      ...(s.developer === undefined
        ? {}
        : { developer: { namespaces: s.developer.namespaces, ...s.developer.throttles } }),
    },
    runtimes: manifestJson(),
    mode: deps.info.mode,
    sandbox,
  };

  app.get('/ping', async (_req, reply) => reply.type('text/plain').send('pong'));
  app.get('/', async () => controllerInfo);
  app.get('/api/v1', async () => apiInfo);
  app.get('/api/v1/', async () => apiInfo);
}
