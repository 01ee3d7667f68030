// Sequences and conductors end to end: a real `whirl standalone` process, the official `openwhisk` npm client.
import openwhisk from 'openwhisk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWhirl, type Whirl } from '../helpers/standalone.js';
import type { Json } from '../helpers/entities.js';

type Client = ReturnType<typeof openwhisk>;
/** The client takes `sequence` (a list of action names) although its typings do not say so. */
type CreateOptions = Parameters<Client['actions']['create']>[0];
const sequence = (name: string, components: string[]) =>
  ({ name, sequence: components }) as unknown as CreateOptions;

describe('compositions with the openwhisk npm client', () => {
  let w: Whirl;
  let ow: Client;
  beforeAll(async () => {
    w = await startWhirl();
    ow = openwhisk({ apihost: w.url, api_key: w.guestKey });
  });
  afterAll(async () => w.cleanup());

  it('creates and runs a sequence of catalog and own actions', async () => {
    await ow.actions.create({
      name: 'shout',
      action: 'function main(p) { return { payload: p.payload.toUpperCase() } }',
    });
    const seq = (await ow.actions.create(
      sequence('loudest', [
        '/whisk.system/utils/split',
        '/whisk.system/utils/sort',
        '/whisk.system/utils/cat',
        '/_/shout',
      ]),
    )) as Json;
    expect(seq.exec).toEqual({
      kind: 'sequence',
      components: [
        '/whisk.system/utils/split',
        '/whisk.system/utils/sort',
        '/whisk.system/utils/cat',
        '/guest/shout',
      ],
    });
    const r = (await ow.actions.invoke({
      name: 'loudest',
      blocking: true,
      params: { payload: 'b\na' },
    })) as Json;
    expect(r.response.result).toEqual({ payload: 'A\nB' });
    expect(r.logs).toHaveLength(4);
    // The default limit: 50 atomic actions.
    const fifty = Array<string>(50).fill('/_/shout');
    expect(((await ow.actions.create(sequence('fifty', fifty))) as Json).exec.components).toHaveLength(50);
    await expect(ow.actions.create(sequence('fiftyOne', [...fifty, '/_/shout']))).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringContaining('Too many actions in the sequence.') as unknown,
    });
    await expect(ow.actions.create(sequence('empty', ['/_/nothing']))).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringContaining('Sequence component does not exist.') as unknown,
    });
  });

  it('runs a conductor action', async () => {
    await ow.actions.create({ name: 'double', action: 'function main(p) { return { n: p.n * 2 } }' });
    await ow.actions.create({
      name: 'driver',
      action:
        'function main(p) { return p.done ? { params: { n: p.n } } : { action: "double", params: { n: p.n }, state: { done: true } } }',
      annotations: { conductor: true },
    });
    const r = (await ow.actions.invoke({ name: 'driver', blocking: true, params: { n: 21 } })) as Json;
    expect(r.response.result).toEqual({ n: 42 });
    expect(r.logs).toHaveLength(3);
  });
});
