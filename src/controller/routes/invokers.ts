/**
 * `GET /invokers`, `/invokers/healthy/count` and `/invokers/ready` (spec §1.1): the controller's view of
 * invoker health, unauthenticated as in OpenWhisk. States are OpenWhisk's words: up, unhealthy,
 * unresponsive, down (offline).
 */
import type { FastifyInstance } from 'fastify';

export interface InvokerStates {
  invokerStates(): Record<string, string>;
}

export function invokerRoutes(source: InvokerStates, readinessFraction = 1): (app: FastifyInstance) => void {
  return (app) => {
    app.get('/invokers', async () => source.invokerStates());
    app.get('/invokers/healthy/count', async (_req, reply) =>
      reply
        .type('application/json')
        .send(String(Object.values(source.invokerStates()).filter((s) => s === 'up').length)),
    );
    app.get('/invokers/ready', async (_req, reply) => {
      const states = Object.values(source.invokerStates());
      const healthy = states.filter((s) => s === 'up').length;
      const all = states.length;
      if (all > 0 && healthy / all >= readinessFraction) return reply.send({ healthy: `${healthy}/${all}` });
      return reply.code(500).send({ unhealthy: `${all - healthy}/${all}` });
    });
  };
}
