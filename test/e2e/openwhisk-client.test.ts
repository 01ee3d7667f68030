// The official `openwhisk` npm client, unchanged, against a real standalone Whirl over HTTP.
import openwhisk from 'openwhisk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeZip } from '../helpers/archive-writer.js';
import { startWhirl, type Whirl } from '../helpers/standalone.js';

describe('the openwhisk npm client against Whirl', () => {
  let w: Whirl;
  let ow: ReturnType<typeof openwhisk>;
  beforeAll(async () => {
    w = await startWhirl();
    ow = openwhisk({ apihost: w.url, api_key: w.guestKey });
  });
  afterAll(async () => w.cleanup());

  it('creates, gets, lists, updates and deletes actions', async () => {
    const created = await ow.actions.create({
      name: 'hello',
      action: 'function main(p) { return { msg: "hello " + p.name } }',
    });
    expect(created).toMatchObject({ name: 'hello', version: '0.0.1', exec: { kind: 'nodejs:20' } });
    const got = await ow.actions.get({ name: 'hello' });
    expect(JSON.stringify(got.exec)).toContain('hello');
    const list = await ow.actions.list();
    expect(list.map((a) => a.name)).toContain('hello');
    const updated = await ow.actions.update({
      name: 'hello',
      action: 'function main(p) { return { msg: "hi " + p.name } }',
      params: { name: 'x' },
    });
    expect(updated).toMatchObject({ version: '0.0.2', parameters: [{ key: 'name', value: 'x' }] });
    await ow.actions.create({ name: 'gone', action: 'function main() {}' });
    await ow.actions.delete({ name: 'gone' });
    await expect(ow.actions.get({ name: 'gone' })).rejects.toMatchObject({ statusCode: 404 });
  });

  it('invokes blocking, blocking for the result only, and non-blocking', async () => {
    const full = await ow.actions.invoke({ name: 'hello', blocking: true, params: { name: 'Ann' } });
    expect(full.response?.result).toEqual({ msg: 'hi Ann' });
    const result = await ow.actions.invoke({
      name: 'hello',
      blocking: true,
      result: true,
      params: { name: 'Bob' },
    });
    expect(result).toEqual({ msg: 'hi Bob' });
    const started = await ow.actions.invoke({ name: 'hello' });
    expect(started.activationId).toMatch(/^[0-9a-f]{32}$/);
    let record;
    for (let i = 0; i < 100 && !record; i++) {
      record = await ow.activations.get({ name: started.activationId }).catch(() => undefined);
      if (!record) await new Promise((r) => setTimeout(r, 50));
    }
    expect(record?.response?.result).toEqual({ msg: 'hi x' });
  });

  it('reads activations, their logs and results', async () => {
    await ow.actions.create({
      name: 'logger',
      action: 'function main() { console.log("a line"); return { n: 1 } }',
    });
    const a = await ow.actions.invoke({ name: 'logger', blocking: true });
    const list = await ow.activations.list({ name: 'logger', limit: 5 });
    expect(list[0]?.activationId).toBe(a.activationId);
    const logs = await ow.activations.logs({ name: a.activationId });
    expect(logs.logs[0]).toMatch(/stdout: a line$/);
    const res = await ow.activations.result({ name: a.activationId });
    expect(res).toMatchObject({ result: { n: 1 }, success: true, status: 'success' });
  });

  it('rejects a failing blocking invoke with the activation in the error', async () => {
    await ow.actions.create({ name: 'bad', action: 'function main() { return { error: "no" } }' });
    const err = await ow.actions.invoke({ name: 'bad', blocking: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ statusCode: 502 });
    expect((err as { error: { response: { result: unknown } } }).error.response.result).toEqual({
      error: 'no',
    });
  });

  it('lists the namespace', async () => {
    expect(await ow.namespaces.list()).toEqual(['guest']);
  });

  it('runs a python action and a zipped node action with its own modules', async () => {
    await ow.actions.create({
      name: 'py',
      kind: 'python:default',
      action: 'def main(args):\n    return {"sum": args["a"] + args["b"]}\n',
    });
    expect(
      await ow.actions.invoke({ name: 'py', blocking: true, result: true, params: { a: 2, b: 3 } }),
    ).toEqual({ sum: 5 });
    const zip = makeZip([
      { name: 'package.json', data: JSON.stringify({ main: 'lib/entry.js' }) },
      {
        name: 'lib/entry.js',
        data: 'const shout = require("shout"); exports.main = (p) => ({ said: shout(p.word) });',
      },
      { name: 'node_modules/shout/index.js', data: 'module.exports = (s) => String(s).toUpperCase() + "!";' },
    ]);
    await ow.actions.create({ name: 'zipped', kind: 'nodejs:20', action: zip });
    expect(
      await ow.actions.invoke({ name: 'zipped', blocking: true, result: true, params: { word: 'hey' } }),
    ).toEqual({ said: 'HEY!' });
  });

  it('runs a zipped python action with a bundled package', async () => {
    const zip = makeZip([
      {
        name: '__main__.py',
        data: 'from helper.words import title\n\ndef main(args):\n    return {"t": title(args["s"])}\n',
      },
      { name: 'helper/__init__.py', data: '' },
      { name: 'helper/words.py', data: 'def title(s):\n    return s.title()\n' },
    ]);
    await ow.actions.create({ name: 'pyzip', kind: 'python:3', action: zip });
    expect(
      await ow.actions.invoke({ name: 'pyzip', blocking: true, result: true, params: { s: 'big deal' } }),
    ).toEqual({ t: 'Big Deal' });
  });

  it('runs a native executable that prints its result as the last line', async () => {
    const script = '#!/bin/sh\necho "working on $1"\necho \'{"native": true}\'\n';
    await ow.actions.create({ name: 'nat', action: { exec: { kind: 'native', code: script } } });
    const a = await ow.actions.invoke({ name: 'nat', blocking: true });
    expect(a.response?.result).toEqual({ native: true });
    expect(a.logs.some((l: string) => l.includes('working on {}'))).toBe(true);
    await ow.actions.create({
      name: 'skel',
      action: { exec: { kind: 'blackbox', image: 'openwhisk/dockerskeleton', code: script } },
    });
    expect(await ow.actions.invoke({ name: 'skel', blocking: true, result: true })).toEqual({ native: true });
  });
});
