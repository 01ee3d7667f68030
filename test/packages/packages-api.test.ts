// Packages and bindings through the REST API (in-process, `inject`): CRUD, every status and message of
// spec §1.3, entitlement across namespaces, and parameter precedence through bindings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_KEY } from '../helpers/standalone.js';
import { startTestWhirl, type TestWhirl } from '../helpers/in-process.js';
import { NS, addUser, annotation, putAction, recordOf } from '../helpers/entities.js';

const P = `${NS}/packages`;
const ECHO = 'function main(p) { return p }';

describe('packages API', () => {
  let w: TestWhirl;
  let alice: string;
  beforeAll(async () => {
    w = await startTestWhirl();
    alice = await addUser(w, 'alice');
  });
  afterAll(async () => w.cleanup());

  it('creates a package with the fields OpenWhisk clients expect', async () => {
    const r = await w.call('PUT', `${P}/fresh`, {});
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({
      namespace: 'guest',
      name: 'fresh',
      version: '0.0.1',
      publish: false,
      binding: {},
      parameters: [],
      annotations: [],
    });
    expect(typeof r.json().updated).toBe('number');
  });

  it('keeps parameters on an update that omits them, bumps the version, and lists the package', async () => {
    const created = await w.call('PUT', `${P}/shared`, {
      publish: true,
      parameters: [{ key: 'a', value: 'A' }],
    });
    expect(created.statusCode).toBe(200);
    const updated = await w.call('PUT', `${P}/shared?overwrite=true`, {
      annotations: [{ key: 'k', value: 1 }],
    });
    expect(updated.json()).toMatchObject({
      version: '0.0.2',
      publish: true,
      parameters: [{ key: 'a', value: 'A' }],
      annotations: [{ key: 'k', value: 1 }],
    });
    const list = (await w.call('GET', P)).json();
    const item = list.find((p: { name: string }) => p.name === 'shared');
    expect(item).toMatchObject({ namespace: 'guest', publish: true, binding: false, version: '0.0.2' });
    expect(item).not.toHaveProperty('parameters');
    expect((await w.call('GET', `${P}?count=true`)).json().packages).toBeGreaterThanOrEqual(2);
  });

  it('refuses duplicates, and answers 404 for a missing package with the spec messages', async () => {
    const dup = await w.call('PUT', `${P}/fresh`, {});
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error).toBe('resource already exists');
    const get = await w.call('GET', `${P}/nope`);
    expect(get.statusCode).toBe(404);
    expect(get.json().error).toBe("The requested resource 'guest/nope' does not exist.");
    const del = await w.call('DELETE', `${P}/nope`);
    expect(del.statusCode).toBe(404);
    expect(del.json().error).toBe('The requested resource does not exist.');
  });

  it('accepts names with spaces, and refuses the reserved name default and other collections', async () => {
    expect((await w.call('PUT', `${P}/package%20with%20spaces`, {})).statusCode).toBe(200);
    expect((await w.call('GET', `${P}/package%20with%20spaces`)).json().name).toBe('package with spaces');
    const reserved = await w.call('PUT', `${P}/default`, {});
    expect(reserved.statusCode).toBe(400);
    expect(reserved.json().error).toBe("Package name 'default' is reserved.");
    await putAction(w, 'loneAction', ECHO);
    const clash = await w.call('PUT', `${P}/loneAction`, {});
    expect(clash.statusCode).toBe(409);
    expect(clash.json().error).toBe('Resource by this name exists but is not in this collection.');
  });

  it('answers 405 for methods packages do not have', async () => {
    const r = await w.call('POST', `${P}/fresh`, {});
    expect(r.statusCode).toBe(405);
    expect(r.json()).toMatchObject({ error: 'HTTP method not allowed, supported methods: GET, PUT, DELETE' });
    expect(r.headers['x-request-id']).toBeDefined();
  });

  it('shows its actions and feeds, with their annotations, on GET', async () => {
    await w.call('PUT', `${P}/tools`, { annotations: [{ key: 'description', value: 'my tools' }] });
    await putAction(w, 'tools/hammer', ECHO, { annotations: [{ key: 'a', value: 1 }] });
    await putAction(w, 'tools/ticker', ECHO, { annotations: [{ key: 'feed', value: true }] });
    const got = (await w.call('GET', `${P}/tools`)).json();
    expect(got.annotations).toEqual([{ key: 'description', value: 'my tools' }]);
    expect(got.actions).toHaveLength(1);
    expect(got.actions[0]).toMatchObject({ name: 'hammer', version: '0.0.1' });
    expect(annotation(got.actions[0].annotations, 'exec')).toBe('nodejs:20');
    expect(annotation(got.actions[0].annotations, 'a')).toBe(1);
    expect(got.feeds.map((f: { name: string }) => f.name)).toEqual(['ticker']);
  });

  it('refuses deleting a package with actions unless forced, then deletes them too', async () => {
    await w.call('PUT', `${P}/full`, {});
    await putAction(w, 'full/one', ECHO);
    await putAction(w, 'full/two', ECHO);
    const r = await w.call('DELETE', `${P}/full`);
    expect(r.statusCode).toBe(409);
    expect(r.json().error).toBe(
      'Package not empty (contains 2 entities). Set force param or delete package contents.',
    );
    const forced = await w.call('DELETE', `${P}/full?force=true`);
    expect(forced.statusCode).toBe(200);
    expect(forced.json().name).toBe('full');
    expect((await w.call('GET', `${NS}/actions/full/one`)).statusCode).toBe(404);
    expect((await w.call('GET', `${P}/full`)).statusCode).toBe(404);
  });

  it('validates bindings: missing target, binding to a binding, non-package, and no package-to-binding', async () => {
    const missing = await w.call('PUT', `${P}/b0`, { binding: { namespace: '_', name: 'ghost' } });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error).toBe('Binding references a package that does not exist.');
    expect((await w.call('PUT', `${P}/b1`, { binding: { namespace: '_', name: 'tools' } })).statusCode).toBe(
      200,
    );
    const chained = await w.call('PUT', `${P}/b2`, { binding: { namespace: 'guest', name: 'b1' } });
    expect(chained.statusCode).toBe(400);
    expect(chained.json().error).toBe('Cannot bind to another package binding.');
    const notPkg = await w.call('PUT', `${P}/b3`, { binding: { namespace: '_', name: 'loneAction' } });
    expect(notPkg.statusCode).toBe(409);
    expect(notPkg.json().error).toBe('Cannot bind to a resource that is not a package.');
    const convert = await w.call('PUT', `${P}/fresh?overwrite=true`, {
      binding: { namespace: '_', name: 'tools' },
    });
    expect(convert.statusCode).toBe(409);
    expect(convert.json().error).toBe('Resource is a package and cannot be converted into a binding.');
    const malformed = await w.call('PUT', `${P}/b4`, { binding: 'tools' });
    expect(malformed.statusCode).toBe(400);
  });

  it('stores a binding with the binding annotation (a user-supplied one is replaced) and lists it', async () => {
    const r = await w.call('PUT', `${P}/myTools`, {
      binding: { namespace: '_', name: 'tools' },
      annotations: [{ key: 'binding', value: 'fake' }],
    });
    expect(r.json()).toMatchObject({
      name: 'myTools',
      binding: { namespace: 'guest', name: 'tools' },
      annotations: [{ key: 'binding', value: { namespace: 'guest', name: 'tools' } }],
    });
    // An update without `binding` keeps it; one with a new target moves it.
    const kept = await w.call('PUT', `${P}/myTools?overwrite=true`, { parameters: [{ key: 'x', value: 1 }] });
    expect(kept.json().binding).toEqual({ namespace: 'guest', name: 'tools' });
    const list = (await w.call('GET', P)).json();
    expect(list.find((p: { name: string }) => p.name === 'myTools').binding).toEqual({
      namespace: 'guest',
      name: 'tools',
    });
  });

  it('applies package < binding < action < payload, shows merged parameters, and annotates binding runs', async () => {
    await w.call('PUT', `${P}/params`, {
      parameters: [
        { key: 'key1a', value: 'value1a' },
        { key: 'key1b', value: 'value1b' },
        { key: 'key2a', value: 'value2a' },
      ],
    });
    await putAction(w, 'params/show', ECHO, {
      parameters: [
        { key: 'key2a', value: 'action2a' },
        { key: 'key3', value: 'action3' },
      ],
    });
    await w.call('PUT', `${P}/paramsBinding`, {
      binding: { namespace: '_', name: 'params' },
      parameters: [
        { key: 'key1b', value: 'value2b' },
        { key: 'key2a', value: 'binding2a' },
      ],
    });
    const bindingGet = (await w.call('GET', `${P}/paramsBinding`)).json();
    expect(bindingGet.name).toBe('paramsBinding');
    expect(bindingGet.binding).toEqual({ namespace: 'guest', name: 'params' });
    expect(
      Object.fromEntries(bindingGet.parameters.map((p: { key: string; value: unknown }) => [p.key, p.value])),
    ).toEqual({
      key1a: 'value1a',
      key1b: 'value2b',
      key2a: 'binding2a',
    });
    expect(bindingGet.actions.map((a: { name: string }) => a.name)).toEqual(['show']);
    const viaBindingGet = (await w.call('GET', `${NS}/actions/paramsBinding/show`)).json();
    expect(viaBindingGet.parameters).toContainEqual({ key: 'key1b', value: 'value2b' });
    const direct = (await w.call('GET', `${NS}/actions/params/show`)).json();
    expect(direct.parameters).toContainEqual({ key: 'key1b', value: 'value1b' });

    const run = await w.call('POST', `${NS}/actions/paramsBinding/show?blocking=true`, { key3: 'payload3' });
    expect(run.statusCode).toBe(200);
    const a = run.json();
    expect(a.response.result).toEqual({
      key1a: 'value1a',
      key1b: 'value2b',
      key2a: 'action2a',
      key3: 'payload3',
    });
    expect(annotation(a.annotations, 'binding')).toBe('guest/paramsBinding');
    expect(annotation(a.annotations, 'path')).toBe('guest/params/show');
    const plain = (await w.call('POST', `${NS}/actions/params/show?blocking=true`)).json();
    expect(annotation(plain.annotations, 'binding')).toBeUndefined();
    const listed = (await w.call('GET', `${NS}/actions/paramsBinding/`)).json();
    expect(listed.map((x: { name: string }) => x.name)).toEqual(['show']);
  });

  it('refuses writing actions into a binding or a missing package', async () => {
    const intoBinding = await w.call('PUT', `${NS}/actions/myTools/x`, {
      exec: { kind: 'nodejs:20', code: ECHO },
    });
    expect(intoBinding.statusCode).toBe(400);
    expect(intoBinding.json().error).toBe('Operation not permitted on package binding.');
    const delInBinding = await w.call('DELETE', `${NS}/actions/myTools/hammer`);
    expect(delInBinding.statusCode).toBe(400);
    const intoMissing = await w.call('PUT', `${NS}/actions/ghost/x`, {
      exec: { kind: 'nodejs:20', code: ECHO },
    });
    expect(intoMissing.statusCode).toBe(404);
  });

  it('answers 413 for oversized parameters', async () => {
    const r = await w.call('PUT', `${P}/huge`, {
      parameters: [{ key: 'x', value: 'y'.repeat(1024 * 1024) }],
    });
    expect(r.statusCode).toBe(413);
    expect(r.json().error).toMatch(/^parameters larger than allowed: \d+ > 1048576 bytes\.$/);
  });

  describe('across namespaces', () => {
    beforeAll(async () => {
      await w.call('PUT', `${P}/open`, { publish: true, parameters: [{ key: 'from', value: 'package' }] });
      await putAction(w, 'open/echo', ECHO);
      await w.call('PUT', `${P}/closed`, {});
      await putAction(w, 'closed/echo', ECHO);
      await w.call('PUT', `${P}/openBinding`, { binding: { namespace: '_', name: 'open' }, publish: true });
    });

    it("lists only another namespace's public packages, never its bindings", async () => {
      const r = await w.call('GET', '/api/v1/namespaces/guest/packages', undefined, alice);
      expect(r.statusCode).toBe(200);
      const names = r.json().map((p: { name: string }) => p.name);
      expect(names).toContain('open');
      expect(names).toContain('shared');
      expect(names).not.toContain('closed');
      expect(names).not.toContain('openBinding');
      expect(
        (await w.call('GET', '/api/v1/namespaces/guest/packages?count=true', undefined, alice)).json(),
      ).toEqual({
        packages: names.length,
      });
    });

    it('lets anyone read and invoke a public package; the activation belongs to the caller', async () => {
      const pkg = await w.call('GET', '/api/v1/namespaces/guest/packages/open', undefined, alice);
      expect(pkg.statusCode).toBe(200);
      expect(pkg.json().actions.map((a: { name: string }) => a.name)).toEqual(['echo']);
      const run = await w.call(
        'POST',
        '/api/v1/namespaces/guest/actions/open/echo?blocking=true',
        { x: 1 },
        SYSTEM_KEY,
      );
      expect(run.statusCode).toBe(200);
      expect(run.json().namespace).toBe('whisk.system');
      expect(run.json().response.result).toEqual({ from: 'package', x: 1 });
      const rec = await recordOf(w, run.json().activationId, SYSTEM_KEY);
      expect(rec.namespace).toBe('whisk.system');
      expect((await w.call('GET', `${NS}/activations/${run.json().activationId}`)).statusCode).toBe(404);
    });

    it('hides private packages and bindings with 403, without saying whether they exist', async () => {
      for (const name of ['closed', 'openBinding', 'doesNotExist']) {
        const r = await w.call('GET', `/api/v1/namespaces/guest/packages/${name}`, undefined, alice);
        expect(r.statusCode).toBe(403);
        expect(r.json().error).toBe(
          `The supplied authentication is not authorized to access 'guest/${name}'.`,
        );
      }
      expect(
        (await w.call('POST', '/api/v1/namespaces/guest/actions/closed/echo', {}, alice)).statusCode,
      ).toBe(403);
      expect((await w.call('PUT', '/api/v1/namespaces/guest/packages/x', {}, alice)).statusCode).toBe(403);
      expect(
        (await w.call('DELETE', '/api/v1/namespaces/guest/packages/open', undefined, alice)).statusCode,
      ).toBe(403);
    });

    it('binds to a public package of another namespace, and not to a private one', async () => {
      const ok = await w.call(
        'PUT',
        `${P}/aliceView`,
        { binding: { namespace: 'guest', name: 'open' } },
        alice,
      );
      expect(ok.statusCode).toBe(200);
      const run = await w.call(
        'POST',
        '/api/v1/namespaces/_/actions/aliceView/echo?blocking=true&result=true',
        {},
        alice,
      );
      expect(run.json()).toEqual({ from: 'package' });
      for (const name of ['closed', 'ghost']) {
        const r = await w.call('PUT', `${P}/bad`, { binding: { namespace: 'guest', name } }, alice);
        expect(r.statusCode).toBe(403);
      }
    });

    it('serves the system catalog to every user', async () => {
      const list = (await w.call('GET', '/api/v1/namespaces/whisk.system/packages')).json();
      expect(list.map((p: { name: string }) => p.name).sort()).toEqual(['alarms', 'samples', 'utils']);
      const alarms = (await w.call('GET', '/api/v1/namespaces/whisk.system/packages/alarms')).json();
      expect(alarms.feeds.map((f: { name: string }) => f.name).sort()).toEqual(['alarm', 'interval', 'once']);
      expect(alarms.actions).toEqual([]);
    });
  });
});
