// An action that calls Whirl from inside with the real `openwhisk` npm client (checklist 48), bundled in a
// zip with its dependencies from node_modules, as users who pin their own version do (the runtime ships
// one too: test/e2e/openwhisk-in-action.test.ts).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeZip, type ZipEntryInput } from '../helpers/archive-writer.js';
import { startTestWhirl, type TestWhirl } from '../helpers/in-process.js';
import { NS, annotation, putAction, recordOf } from '../helpers/entities.js';

const NODE_MODULES = fileURLToPath(new URL('../../node_modules', import.meta.url));
/** The openwhisk client and everything it requires at run time. */
const BUNDLED = ['openwhisk', 'needle', 'async-retry', 'retry', 'iconv-lite', 'safer-buffer', 'sax'];

function filesOf(dir: string): ZipEntryInput[] {
  const out: ZipEntryInput[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesOf(path));
    else out.push({ name: `node_modules/${relative(NODE_MODULES, path)}`, data: readFileSync(path) });
  }
  return out;
}

const ENTRY = `const openwhisk = require('openwhisk');
exports.main = async function (params) {
  const ow = openwhisk(); // __OW_API_HOST and __OW_API_KEY, as inside OpenWhisk
  const mine = await ow.actions.invoke({ name: 'wc', blocking: true, result: true, params: { payload: params.text } });
  const shared = await ow.actions.invoke({
    name: '/whisk.system/utils/wordCount', blocking: true, result: true, params: { payload: params.text + ' more' },
  });
  return { mine: mine.count, shared: shared.count, namespace: process.env.__OW_NAMESPACE };
};`;

describe('actions that call Whirl', () => {
  let w: TestWhirl;
  beforeAll(async () => {
    w = await startTestWhirl();
    await putAction(w, 'wc', 'function main(p) { return { count: String(p.payload).split(/\\s+/).length } }');
  });
  afterAll(async () => w.cleanup());

  it('invokes other actions with the openwhisk npm client bundled in a zip', async () => {
    const zip = makeZip([
      { name: 'index.js', data: ENTRY },
      ...BUNDLED.flatMap((p) => filesOf(join(NODE_MODULES, p))),
    ]);
    const created = await w.call('PUT', `${NS}/actions/caller?overwrite=true`, {
      exec: { kind: 'nodejs:20', code: zip.toString('base64') },
      annotations: [{ key: 'provide-api-key', value: true }],
    });
    expect(created.statusCode, created.body).toBe(200);
    const r = await w.call('POST', `${NS}/actions/caller?blocking=true`, { text: 'one two three' });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().response.result).toEqual({ mine: 3, shared: 4, namespace: 'guest' });
    // The inner activations are the caller's, like any other.
    const inner = (await w.call('GET', `${NS}/activations?name=wc&docs=true`)).json();
    expect(inner[0].response.result).toEqual({ count: 3 });
    expect(annotation((await recordOf(w, inner[0].activationId)).annotations, 'path')).toBe('guest/wc');
  });

  it('has no key to call with unless provide-api-key says so', async () => {
    await putAction(w, 'keyless', 'function main() { return { key: process.env.__OW_API_KEY || null } }');
    expect((await w.call('POST', `${NS}/actions/keyless?blocking=true&result=true`)).json()).toEqual({
      key: null,
    });
  });
});
