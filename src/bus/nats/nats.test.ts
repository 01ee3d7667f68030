import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { NATS_URL, uniqueName } from '../../../test/helpers/services.js';
import { defineBusContract } from '../bus.contract.js';
import { MessageTooLargeError, type Delivery } from '../bus.js';
import { NatsStartClaims } from './claims.js';
import { NatsBus, NatsUnreachableError } from './nats-bus.js';
import { NatsInvokerRegistry } from './registry.js';

const prefix = uniqueName('wt');
const open = (name?: string) =>
  NatsBus.open({ url: NATS_URL, prefix, ackWaitMs: 1000, ...(name ? { name } : {}) });

afterAll(async () => {
  const bus = await open();
  await bus.destroy();
  await bus.close();
});

defineBusContract('nats jetstream', () => open());

const until = async (cond: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('NatsBus', () => {
  it('redelivers work whose subscriber died without acknowledging it, to another process', async () => {
    const topic = `t${randomUUID().slice(0, 8)}`;
    const a = await open('a');
    const b = await open('b');
    try {
      const gotA: Delivery<{ n: number }>[] = [];
      a.subscribe<{ n: number }>(topic, (d) => gotA.push(d), { durable: true, maxInFlight: 1 });
      await b.publish(topic, { n: 1 }, { id: 'one' });
      await until(() => gotA.length === 1);
      expect(gotA[0]!.redelivered).toBe(false);
      await a.close(); // as if killed: nothing acknowledged
      const gotB: Delivery<{ n: number }>[] = [];
      b.subscribe<{ n: number }>(topic, (d) => (gotB.push(d), d.ack()), { durable: true });
      await until(() => gotB.length === 1);
      expect(gotB[0]!.data).toEqual({ n: 1 });
      expect(gotB[0]!.redelivered).toBe(true);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('keeps durable work across a reconnecting subscriber', async () => {
    const topic = `t${randomUUID().slice(0, 8)}`;
    const a = await open();
    try {
      for (let n = 0; n < 50; n++) await a.publish(topic, { n });
      const got = new Set<number>();
      const sub = a.subscribe<{ n: number }>(topic, (d) => (got.add(d.data.n), d.ack()), {
        durable: true,
        maxInFlight: 7,
      });
      await until(() => got.size === 50);
      await sub.drain();
    } finally {
      await a.close();
    }
  });

  it('refuses a fan-out message larger than the server carries, with sizes', async () => {
    const bus = await open();
    try {
      const big = { s: 'x'.repeat(bus.maxPayload) };
      const err = await bus.publish('big', big, { durable: false }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MessageTooLargeError);
      expect((err as MessageTooLargeError).size).toBeGreaterThan(bus.maxPayload);
    } finally {
      await bus.close();
    }
  });

  it('carries durable work larger than the server does, in parts, across a redelivery', async () => {
    const topic = `t${randomUUID().slice(0, 8)}`;
    const a = await open('a');
    const b = await open('b');
    try {
      // 2.5 times max_payload of varied text, so a part in the wrong order or missing would show.
      const s = Array.from({ length: Math.ceil((a.maxPayload * 2.5) / 8) }, (_, i) =>
        i.toString(36).padStart(8, '.'),
      ).join('');
      await a.publish(topic, { s, small: 1 }, { id: `big-${topic}` });
      const parts = async (bus: NatsBus) => (await bus.jsm.streams.info(bus.partsStream)).state.messages;
      expect(await parts(a)).toBe(3);
      const gotA: Delivery<{ s: string }>[] = [];
      a.subscribe<{ s: string }>(topic, (d) => gotA.push(d), { durable: true, maxInFlight: 1 });
      await until(() => gotA.length === 1);
      expect(gotA[0]!.data.s === s).toBe(true);
      await a.close(); // died holding it: the parts stay for the redelivery
      const gotB: Delivery<{ s: string; small: number }>[] = [];
      b.subscribe<{ s: string; small: number }>(topic, (d) => (gotB.push(d), d.ack()), { durable: true });
      await until(() => gotB.length === 1);
      expect(gotB[0]!.redelivered).toBe(true);
      expect(gotB[0]!.data.small).toBe(1);
      expect(gotB[0]!.data.s === s).toBe(true);
      // Acknowledged: its parts are deleted.
      const end = Date.now() + 5000;
      while ((await parts(b)) > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      expect(await parts(b)).toBe(0);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('says where it looked when NATS is unreachable', async () => {
    const err = await NatsBus.open({ url: 'nats://127.0.0.1:1', connectTimeoutMs: 1000 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NatsUnreachableError);
    expect((err as Error).message).toContain('nats://127.0.0.1:1');
  });

  it('lets exactly one invoker claim an activation, and names the winner to the others', async () => {
    const a = await open();
    const b = await open();
    try {
      const id = randomUUID().replaceAll('-', '');
      const results = await Promise.all([
        new NatsStartClaims(a).claim(id, 'invoker0'),
        new NatsStartClaims(b).claim(id, 'invoker1'),
        new NatsStartClaims(b).claim(id, 'invoker2'),
      ]);
      const winners = results.filter((r) => r.claimed);
      expect(winners.length).toBe(1);
      const winner = ['invoker0', 'invoker1', 'invoker2'][results.findIndex((r) => r.claimed)];
      for (const r of results) if (!r.claimed) expect(r.owner).toBe(winner);
      await new NatsStartClaims(a).reclaim(id, 'invoker9');
      expect(await new NatsStartClaims(b).claim(id, 'invoker3')).toEqual({
        claimed: false,
        owner: 'invoker9',
      });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('remembers every registered invoker, last registration wins', async () => {
    const bus = await open();
    try {
      const r = new NatsInvokerRegistry(bus);
      await r.register({ id: 'invoker10', memoryMB: 512, registeredAt: 1 });
      await r.register({ id: 'invoker2', memoryMB: 256, registeredAt: 2 });
      await r.register({ id: 'invoker2', memoryMB: 1024, registeredAt: 3 });
      expect(await r.list()).toEqual([
        { id: 'invoker2', memoryMB: 1024, registeredAt: 3 },
        { id: 'invoker10', memoryMB: 512, registeredAt: 1 },
      ]);
    } finally {
      await bus.close();
    }
  });
});
