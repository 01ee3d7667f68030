// Packages and bindings end to end: a real `whirl standalone` process, the official `openwhisk` npm client.
import openwhisk from 'openwhisk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWhirl, type Whirl } from '../helpers/standalone.js';
import type { Json } from '../helpers/entities.js';

describe('packages with the openwhisk npm client', () => {
  let w: Whirl;
  let ow: ReturnType<typeof openwhisk>;
  let system: ReturnType<typeof openwhisk>;
  beforeAll(async () => {
    w = await startWhirl();
    ow = openwhisk({ apihost: w.url, api_key: w.guestKey });
    system = openwhisk({ apihost: w.url, api_key: w.systemKey });
  });
  afterAll(async () => w.cleanup());

  it('creates, updates, binds, gets, lists and deletes packages; actions run through bindings', async () => {
    const pkg = (await ow.packages.create({
      name: 'kit',
      package: { publish: true, parameters: [{ key: 'greeting', value: 'hello' }] },
    })) as Json;
    expect(pkg).toMatchObject({ name: 'kit', version: '0.0.1', publish: true, binding: {} });
    await ow.actions.create({
      name: 'kit/greet',
      action: 'function main(p) { return { text: p.greeting + " " + p.name } }',
    });
    const updated = (await ow.packages.update({
      name: 'kit',
      package: { annotations: [{ key: 'x', value: 1 }] },
    })) as Json;
    expect(updated).toMatchObject({ version: '0.0.2', parameters: [{ key: 'greeting', value: 'hello' }] });
    await ow.packages.create({
      name: 'kitFr',
      package: {
        binding: { namespace: '_', name: 'kit' },
        parameters: [{ key: 'greeting', value: 'bonjour' }],
      },
    });
    const got = (await ow.packages.get({ name: 'kitFr' })) as Json;
    expect(got.actions.map((a: Json) => a.name)).toEqual(['greet']);
    expect(
      await ow.actions.invoke({ name: 'kitFr/greet', blocking: true, result: true, params: { name: 'Ann' } }),
    ).toEqual({ text: 'bonjour Ann' });
    const list = (await ow.packages.list()) as Json[];
    expect(list.find((p) => p.name === 'kitFr').binding).toEqual({ namespace: 'guest', name: 'kit' });

    // Another namespace uses the public package; its activation is its own.
    const other = (await system.actions.invoke({
      name: '/guest/kit/greet',
      blocking: true,
      params: { name: 'Bo' },
    })) as Json;
    expect(other).toMatchObject({ namespace: 'whisk.system', response: { result: { text: 'hello Bo' } } });
    await expect(system.packages.get({ name: '/guest/kitFr' })).rejects.toMatchObject({ statusCode: 403 });

    await expect(ow.packages.delete({ name: 'kit' })).rejects.toMatchObject({ statusCode: 409 });
    await ow.actions.delete({ name: 'kit/greet' });
    await ow.packages.delete({ name: 'kitFr' });
    await ow.packages.delete({ name: 'kit' });
    await expect(ow.packages.get({ name: 'kit' })).rejects.toMatchObject({ statusCode: 404 });
  });

  it('lists and reads the system catalog, and runs its actions', async () => {
    const catalog = (await ow.packages.list({ namespace: 'whisk.system' })) as Json[];
    expect(catalog.map((p) => p.name).sort()).toEqual(['alarms', 'samples', 'utils']);
    const utils = (await ow.packages.get({ name: '/whisk.system/utils' })) as Json;
    expect(utils.actions.map((a: Json) => a.name).sort()).toEqual([
      'cat',
      'date',
      'echo',
      'head',
      'sort',
      'split',
      'wordCount',
    ]);
    expect(
      await ow.actions.invoke({
        name: '/whisk.system/samples/greeting',
        blocking: true,
        result: true,
        params: { name: 'Cy', place: 'Rome' },
      }),
    ).toEqual({ payload: 'Hello, Cy from Rome!' });
  });
});
