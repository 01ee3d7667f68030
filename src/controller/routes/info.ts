/**
 * Unauthenticated information routes: `/ping`, `/` (OpenWhisk's controller info) and `/api/v1`.
 */
import type { FastifyInstance } from 'fastify';
import { manifestJson } from '../../core/runtimes.js';
import type { ControllerDeps } from '../app.js';

export function infoRoutes(app: FastifyInstance, deps: ControllerDeps): void {
  const s = deps.system;
  const MB = 1024 * 1024;
  const limits = {
    actions_per_minute: s.invocationsPerMinute,
    triggers_per_minute: s.firesPerMinute,
    concurrent_actions: s.concurrentInvocations,
    sequence_length: s.sequenceLength,
    min_action_duration: s.timeoutMs.min,
    max_action_duration: s.timeoutMs.max,
    default_action_duration: s.timeoutMs.std,
    min_action_memory: s.memoryMB.min * MB,
    max_action_memory: s.memoryMB.max * MB,
    default_action_memory: s.memoryMB.std * MB,
    min_action_logs: s.logsMB.min * MB,
    max_action_logs: s.logsMB.max * MB,
    default_action_logs: s.logsMB.std * MB,
    max_action_concurrency: s.concurrency.max,
    max_payload_size: s.payloadSize,
    max_code_size: s.codeSize,
    max_result_size: s.resultSize,
  };
  const sandbox = { backend: deps.info.sandbox, ...deps.info.isolation };
  const controllerInfo = {
    description: 'Whirl, an OpenWhisk-compatible serverless platform',
    support: { github: 'https://github.com/whirl-faas/whirl' },
    api_paths: ['/api/v1'],
    limits,
    runtimes: manifestJson(),
    mode: deps.info.mode,
    sandbox,
  };
  const apiInfo = {
    description: 'OpenWhisk API',
    api_version: '1.0.0',
    api_version_path: 'v1',
    build: deps.info.version,
    buildno: deps.info.version,
    limits,
    runtimes: manifestJson(),
    sandbox,
  };

  app.get('/ping', async (_req, reply) => reply.type('text/plain').send('pong'));
  app.get('/', async () => controllerInfo);
  app.get('/api/v1', async () => apiInfo);
  app.get('/api/v1/', async () => apiInfo);
}
