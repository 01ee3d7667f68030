/**
 * The behaviour every MessageBus backend must show; backends call defineBusContract with a factory.
 * Topic names are unique per test so that a shared broker keeps tests apart.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Delivery, MessageBus } from './bus.js';

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

export function defineBusContract(name: string, create: () => Promise<MessageBus>): void {
  describe(`MessageBus contract: ${name}`, () => {
    let bus: MessageBus;
    let topic: string;
    beforeEach(async () => {
      bus = await create();
      topic = `t${randomUUID().slice(0, 8)}`;
    });
    afterEach(async () => {
      await bus.close();
    });

    it('keeps durable work published before anyone subscribes', async () => {
      const got: number[] = [];
      await bus.subscribe<{ n: number }>(topic, (d) => d.ack(), { durable: true }).drain();
      for (let n = 0; n < 3; n++) await bus.publish(topic, { n });
      bus.subscribe<{ n: number }>(topic, (d) => (got.push(d.data.n), d.ack()), { durable: true });
      await until(() => got.length === 3);
      expect(got.sort()).toEqual([0, 1, 2]);
    });

    it('gives each durable message to one of the competing consumers', async () => {
      const a: number[] = [];
      const b: number[] = [];
      bus.subscribe<{ n: number }>(topic, (d) => (a.push(d.data.n), d.ack()), { durable: true });
      bus.subscribe<{ n: number }>(topic, (d) => (b.push(d.data.n), d.ack()), { durable: true });
      for (let n = 0; n < 20; n++) await bus.publish(topic, { n });
      await until(() => a.length + b.length === 20);
      expect([...a, ...b].sort((x, y) => x - y)).toEqual([...Array(20).keys()]);
    });

    it('holds back work beyond maxInFlight until earlier deliveries are acknowledged', async () => {
      const held: Delivery<{ n: number }>[] = [];
      bus.subscribe<{ n: number }>(topic, (d) => held.push(d), { durable: true, maxInFlight: 2 });
      for (let n = 0; n < 5; n++) await bus.publish(topic, { n });
      await until(() => held.length === 2);
      await new Promise((r) => setTimeout(r, 100));
      expect(held.length).toBe(2);
      held[0]!.ack();
      await until(() => held.length === 3);
      for (const d of held) d.ack();
      await until(() => held.length === 5);
    });

    it('fans non-durable messages out to every subscriber', async () => {
      const a: string[] = [];
      const b: string[] = [];
      const subs = [
        bus.subscribe<{ s: string }>(topic, (d) => a.push(d.data.s)),
        bus.subscribe<{ s: string }>(topic, (d) => b.push(d.data.s)),
      ];
      await Promise.all(subs.map((s) => s.ready));
      await bus.publish(topic, { s: 'hi' }, { durable: false });
      await until(() => a.length === 1 && b.length === 1);
    });

    it('drops fan-out messages that nobody listens to', async () => {
      await bus.publish(topic, { s: 'lost' }, { durable: false });
      const got: string[] = [];
      await bus.subscribe<{ s: string }>(topic, (d) => got.push(d.data.s)).ready;
      await bus.publish(topic, { s: 'seen' }, { durable: false });
      await until(() => got.length === 1);
      await new Promise((r) => setTimeout(r, 50));
      expect(got).toEqual(['seen']);
    });

    it('delivers a released message again, flagged as redelivered', async () => {
      const seen: { n: number; redelivered: boolean }[] = [];
      bus.subscribe<{ n: number }>(
        topic,
        (d) => {
          seen.push({ n: d.data.n, redelivered: d.redelivered });
          if (d.redelivered) d.ack();
          else d.release();
        },
        { durable: true },
      );
      await bus.publish(topic, { n: 7 });
      await until(() => seen.length === 2);
      expect(seen).toEqual([
        { n: 7, redelivered: false },
        { n: 7, redelivered: true },
      ]);
    });

    it('delivers a message published twice with the same id once', async () => {
      const got: number[] = [];
      bus.subscribe<{ n: number }>(topic, (d) => (got.push(d.data.n), d.ack()), { durable: true });
      await bus.publish(topic, { n: 1 }, { id: 'same' });
      await bus.publish(topic, { n: 1 }, { id: 'same' });
      await bus.publish(topic, { n: 2 }, { id: 'other' });
      await until(() => got.length === 2);
      await new Promise((r) => setTimeout(r, 200));
      expect(got.sort()).toEqual([1, 2]);
    });

    it('never hands work held by a live subscriber to another, however long it runs', async () => {
      const a: Delivery<{ n: number }>[] = [];
      const b: Delivery<{ n: number }>[] = [];
      bus.subscribe<{ n: number }>(topic, (d) => a.push(d), { durable: true, maxInFlight: 1 });
      await bus.publish(topic, { n: 1 });
      await until(() => a.length === 1);
      bus.subscribe<{ n: number }>(topic, (d) => b.push(d), { durable: true });
      // Longer than the NATS backend's acknowledgement wait in its test set-up.
      await new Promise((r) => setTimeout(r, 2500));
      expect(b.length).toBe(0);
      a[0]!.ack();
    });

    it('drain waits for in-flight work and stops further deliveries', async () => {
      let pending: Delivery<{ n: number }> | undefined;
      const sub = bus.subscribe<{ n: number }>(topic, (d) => (pending = d), {
        durable: true,
        maxInFlight: 1,
      });
      await bus.publish(topic, { n: 1 });
      await until(() => pending !== undefined);
      let drained = false;
      const draining = sub.drain().then(() => (drained = true));
      await new Promise((r) => setTimeout(r, 50));
      expect(drained).toBe(false);
      pending!.ack();
      await draining;
      expect(drained).toBe(true);
    });
  });
}
