// Protocol cases specific to the nodejs proxy: entry points, result classification, zip/tar.gz actions.
/* eslint-disable @typescript-eslint/no-unsafe-member-access --
   test code (run by vitest like *.test.ts, which has the same relaxations): responses are loose JSON. */
import { expect } from 'vitest';
import { makeTarGz, makeZip } from './archive-writer.js';
import { NOT_A_DICT } from './protocol.fixtures.js';
import {
  init,
  initOk,
  run,
  streams,
  type InitOptions,
  type ProxyCase,
  type ProxyHandle,
  type Group,
  type Start,
} from './protocol.harness.js';

export function defineNodeCases(proxyCase: ProxyCase, group: Group): void {
  /** Inits `code` on a fresh nodejs proxy and returns the handle. */
  const ready = async (start: Start, code: string, opts: InitOptions = {}): Promise<ProxyHandle> => {
    const h = await start('nodejs');
    await initOk(h, code, opts);
    return h;
  };
  const zip = (entries: Parameters<typeof makeZip>[0]): string => makeZip(entries).toString('base64');

  group('nodejs: entry points', () => {
    const styles: Record<string, string> = {
      'function declaration': 'function main(a) { return { style: a.s }; }',
      'var function expression': 'var main = function (a) { return { style: a.s }; };',
      'const arrow function': 'const main = (a) => ({ style: a.s });',
      'let async function': 'let main = async (a) => ({ style: a.s });',
      'exports.main': 'exports.main = (a) => ({ style: a.s });',
      'module.exports.main': 'module.exports.main = (a) => ({ style: a.s });',
      'module.exports = { main }':
        'function hidden(a) { return { style: a.s }; }\nmodule.exports = { main: hidden };',
      'global.main (webpack style)': '(function () { global.main = (a) => ({ style: a.s }); })();',
    };
    for (const [style, code] of Object.entries(styles)) {
      proxyCase(`nodejs: finds main as ${style}`, async (start) => {
        const h = await ready(start, code);
        expect((await run(h, { s: style })).body).toEqual({ style });
        expect(await streams(h, 1)).toEqual({ out: '', err: '' });
      });
    }

    proxyCase('nodejs: invokes a non-standard entry point', async (start) => {
      const h = await ready(start, 'function niam(args) { return args; }', { main: 'niam' });
      expect((await run(h, { string: 'hello' })).body).toEqual({ string: 'hello' });
      expect(await streams(h, 1)).toEqual({ out: '', err: '' });
    });

    proxyCase('nodejs: refuses an entry point that is not a function', async (start) => {
      const h = await start('nodejs');
      const res = await init(h, 'var main = 42;');
      expect(res.status).toBe(502);
      expect(res.body.error).toBe(
        "Initialization has failed due to: Action entrypoint 'main' is not a function.",
      );
      await streams(h, 1);
    });

    proxyCase('nodejs: gives plain code require() for built-ins and import()', async (start) => {
      const h = await ready(
        start,
        `const os = require('os');
async function main() {
  const path = await import('node:path');
  return { eol: os.EOL, joined: path.join('a', 'b') };
}`,
      );
      expect((await run(h, {})).body).toEqual({ eol: '\n', joined: 'a/b' });
    });

    proxyCase('nodejs: keeps source line numbers in stack traces', async (start) => {
      const h = await ready(
        start,
        '// line 1\n// line 2\nfunction main() {\n  throw new Error("line 4");\n}',
      );
      const res = await run(h, {});
      expect(res.status).toBe(502);
      const { err } = await streams(h, 1);
      expect(err).toMatch(/action\.js:4:/);
    });
  });

  group('nodejs: results and errors', () => {
    proxyCase('nodejs: `return;` gives {}', async (start) => {
      const h = await ready(start, 'function main() { return; }');
      expect(await run(h, {})).toMatchObject({ status: 200, body: {} });
    });

    proxyCase('nodejs: an {error} result is a 200 (application error)', async (start) => {
      const h = await ready(start, "function main() { return { error: 'sorry' }; }");
      expect(await run(h, {})).toMatchObject({ status: 200, body: { error: 'sorry' } });
      expect(await streams(h, 1)).toEqual({ out: '', err: '' });
    });

    proxyCase('nodejs: a synchronous throw is a 502 and retires the proxy', async (start) => {
      const h = await ready(start, "function main() { throw 'nooooo'; }");
      expect(await run(h, {})).toMatchObject({
        status: 502,
        body: { error: 'An error has occurred: nooooo' },
      });
      expect(await run(h, {})).toMatchObject({
        status: 403,
        body: { error: 'System not ready, status is stopped.' },
      });
      await streams(h, 1);
    });

    proxyCase('nodejs: a rejected promise is a 200 with the serialised error', async (start) => {
      const h = await ready(start, "function main() { return Promise.reject(new Error('app error')); }");
      const res = await run(h, {});
      expect(res.status).toBe(200);
      expect(res.body.error).toMatchObject({ name: 'Error', message: 'app error' });
      expect(res.body.error.stack).toContain('Error: app error');
      // Still usable: an application error does not retire the proxy.
      expect((await run(h, {})).status).toBe(200);
    });

    proxyCase('nodejs: reject() with nothing gives {"error":{}}', async (start) => {
      const h = await ready(start, 'function main() { return new Promise((_, reject) => reject()); }');
      expect(await run(h, {})).toMatchObject({ status: 200, body: { error: {} } });
    });

    proxyCase('nodejs: errors thrown in async code are application errors', async (start) => {
      const h = await ready(start, 'async function main() { return a.b; }');
      const res = await run(h, {});
      expect(res.status).toBe(200);
      expect(JSON.stringify(res.body.error)).toContain('ReferenceError: a is not defined');
      const h2 = await ready(
        start,
        "function main() { return new Promise((_, reject) => setTimeout(() => reject(new Error('app error')), 10)); }",
      );
      expect(JSON.stringify((await run(h2, {})).body.error)).toContain('Error: app error');
    });

    proxyCase('nodejs: a string result is a 502 and logged on stderr', async (start) => {
      const h = await ready(start, NOT_A_DICT.nodejs);
      expect(await run(h, {})).toMatchObject({
        status: 502,
        body: { error: 'The action did not return a dictionary.' },
      });
      const { out, err } = await streams(h, 1);
      expect(out).toBe('');
      expect(err).toContain('not a json object');
    });

    proxyCase('nodejs: null and scalar-serialising results are 502', async (start) => {
      for (const code of ['function main() { return null; }', 'function main() { return new Date(0); }']) {
        const h = await ready(start, code);
        expect(await run(h, {})).toMatchObject({
          status: 502,
          body: { error: 'The action did not return a dictionary.' },
        });
      }
    });
  });

  group('nodejs: zip and tar.gz actions', () => {
    proxyCase('nodejs: runs a zip with only index.js', async (start) => {
      const h = await ready(
        start,
        zip([{ name: 'index.js', data: "exports.main = () => ({ from: 'index' });" }]),
        {
          binary: true,
        },
      );
      expect((await run(h, {})).body).toEqual({ from: 'index' });
      expect(await streams(h, 1)).toEqual({ out: '', err: '' });
    });

    proxyCase('nodejs: honours package.json "main"', async (start) => {
      const h = await ready(
        start,
        zip([
          { name: 'package.json', data: JSON.stringify({ name: 'a', main: 'lib/entry.js' }) },
          { name: 'lib/' },
          { name: 'lib/entry.js', data: "exports.main = () => ({ from: 'lib/entry' });" },
        ]),
        { binary: true },
      );
      expect((await run(h, {})).body).toEqual({ from: 'lib/entry' });
    });

    proxyCase('nodejs: supports "file.fn" and "file.a.b" entry points', async (start) => {
      const code = zip([
        { name: 'index.js', data: 'exports.main = () => ({ wrong: true });' },
        {
          name: 'other.js',
          data: "exports.niam = Object.assign(() => ({ from: 'niam' }), { xyz: () => ({ from: 'xyz' }) });",
        },
      ]);
      const h = await ready(start, code, { binary: true, main: 'other.niam' });
      expect((await run(h, {})).body).toEqual({ from: 'niam' });
      const h2 = await ready(start, code, { binary: true, main: 'other.niam.xyz' });
      expect((await run(h2, {})).body).toEqual({ from: 'xyz' });
    });

    proxyCase('nodejs: runs in the extract directory and can read its files', async (start) => {
      const h = await ready(
        start,
        zip([
          {
            name: 'index.js',
            data: "const fs = require('fs');\nexports.main = () => ({ same: __dirname === process.cwd(), text: fs.readFileSync('data.txt', 'utf8') });",
          },
          { name: 'data.txt', data: 'relative ❄' },
        ]),
        { binary: true },
      );
      expect((await run(h, {})).body).toEqual({ same: true, text: 'relative ❄' });
    });

    proxyCase('nodejs: loads bundled node_modules', async (start) => {
      const h = await ready(
        start,
        zip([
          {
            name: 'index.js',
            data: "const pad = require('leftpad');\nexports.main = () => ({ padded: pad('x', 3) });",
          },
          { name: 'node_modules/leftpad/package.json', data: '{"name":"leftpad","main":"pad.js"}' },
          { name: 'node_modules/leftpad/pad.js', data: "module.exports = (s, n) => s.padStart(n, '.');" },
        ]),
        { binary: true },
      );
      expect((await run(h, {})).body).toEqual({ padded: '..x' });
    });

    proxyCase('nodejs: runs a tar.gz action and an ES module package', async (start) => {
      const tgz = makeTarGz([
        { name: 'package.json', data: '{"main":"main.js"}' },
        { name: 'main.js', data: "exports.main = () => ({ from: 'tgz' });" },
      ]);
      const h = await ready(start, tgz.toString('base64'), { binary: true });
      expect((await run(h, {})).body).toEqual({ from: 'tgz' });
      const esm = zip([
        { name: 'package.json', data: '{"type":"module","main":"index.js"}' },
        { name: 'index.js', data: "export function main() { return { from: 'esm' }; }" },
      ]);
      const h2 = await ready(start, esm, { binary: true });
      expect((await run(h2, {})).body).toEqual({ from: 'esm' });
    });

    proxyCase('nodejs: refuses a zip without package.json or index.js', async (start) => {
      const h = await start('nodejs');
      const res = await init(h, zip([{ name: 'other.js', data: 'exports.main = () => ({});' }]), {
        binary: true,
      });
      expect(res.status).toBe(502);
      expect(res.body.error).toContain(
        'Zipped actions must contain either package.json or index.js at the root.',
      );
      await streams(h, 1);
    });
  });
}
