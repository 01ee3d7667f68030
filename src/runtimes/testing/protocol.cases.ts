// The runtime action-proxy protocol as executable cases (spec: openwhisk-compat.md §3, checklist §3).
//
// defineProtocolCases() registers them against any way of launching a proxy: a plain process here
// (runtimes.test.ts), sandbox backends elsewhere. Cases talk to a proxy only through ProxyHandle, and
// read logs only after waiting for the sentinels they expect, so that backends which deliver logs
// asynchronously work too.
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-argument --
   test code (run by vitest like *.test.ts, which has the same relaxations): responses are loose JSON. */
import { describe, expect, it } from 'vitest';
import { makeTarGz } from './archive-writer.js';
import {
  ARCHIVE_ENTRY,
  ARRAY_RESULT,
  BAD_CODE,
  ECHO,
  ENV_CONTEXT,
  INIT_ENV,
  KINDS,
  LINK_PROBE,
  LOG_PROBE,
  NOT_A_DICT,
  NOT_A_DICT_ERROR,
  OVERLAPPING,
  QUIET_ECHO,
  SLOW,
  UNICODE,
  base64Zip,
  bigArchive,
  type ProxyKind,
} from './protocol.fixtures.js';
import {
  SENTINEL,
  init,
  initOk,
  run,
  streams,
  waitForLog,
  type Group,
  type ProxyHandle,
  type ProxyLauncher,
  type Start,
} from './protocol.harness.js';
import { defineNativeCases } from './protocol.native.js';
import { defineNodeCases } from './protocol.nodejs.js';
import { definePythonCases } from './protocol.python.js';

export type { ProxyKind } from './protocol.fixtures.js';
export { SENTINEL, type ProxyHandle, type ProxyLauncher } from './protocol.harness.js';

export interface ProtocolCaseOptions {
  /** Run the cases of each describe block concurrently (each case has its own proxy). */
  concurrent?: boolean;
  /** Restrict to some kinds (e.g. a backend without Python). */
  kinds?: ProxyKind[];
}

export function defineProtocolCases(
  name: string,
  launch: ProxyLauncher,
  options: ProtocolCaseOptions = {},
): void {
  const kinds = options.kinds ?? KINDS;
  const group: Group = options.concurrent ? describe.concurrent : describe;

  /** A case with its own proxies, always stopped at the end. */
  function proxyCase(title: string, body: (start: Start) => Promise<void>, timeout?: number): void {
    it(
      title,
      async () => {
        const handles: ProxyHandle[] = [];
        const start: Start = async (kind, env) => {
          const handle = await launch(kind, env);
          handles.push(handle);
          return handle;
        };
        try {
          await body(start);
        } finally {
          await Promise.all(handles.map((handle) => handle.stop()));
        }
      },
      timeout,
    );
  }

  /** The same case for each kind it applies to. */
  function eachKind(
    title: string,
    applies: ProxyKind[],
    body: (kind: ProxyKind, start: Start) => Promise<void>,
    timeout?: number,
  ): void {
    for (const kind of applies.filter((k) => kinds.includes(k))) {
      proxyCase(`${kind}: ${title}`, (start) => body(kind, start), timeout);
    }
  }

  describe(`runtime protocol (${name})`, () => {
    group('init and request handling', () => {
      eachKind('refuses an /init without code', KINDS, async (kind, start) => {
        const h = await start(kind);
        for (const body of [{}, { value: {} }, { value: { code: '', main: '' } }]) {
          const res = await h.request('/init', body);
          expect(res.status).toBe(403);
          expect([
            'Missing main/no code to execute.',
            'The action failed to generate or locate a binary. See logs for details.',
          ]).toContain(res.body.error);
        }
        // Still initialisable afterwards: a refused init is not a failed one.
        await initOk(h, QUIET_ECHO[kind]);
      });

      eachKind('refuses /run before /init', KINDS, async (kind, start) => {
        const h = await start(kind);
        const res = await run(h, {});
        if (kind === 'python')
          expect(res).toMatchObject({ status: 500, body: { error: 'no action defined yet' } });
        else expect(res).toMatchObject({ status: 403, body: { error: 'System not initialized.' } });
      });

      eachKind('refuses a second /init, logs why, writes no sentinel', KINDS, async (kind, start) => {
        const h = await start(kind);
        await initOk(h, QUIET_ECHO[kind]);
        const res = await init(h, QUIET_ECHO[kind]);
        expect(res).toMatchObject({
          status: 403,
          body: { error: 'Cannot initialize the action more than once.' },
        });
        // A run afterwards flushes the logs: exactly its one sentinel must be there.
        expect((await run(h, { a: 1 })).body).toEqual({ a: 1 });
        const { out, err } = await streams(h, 1);
        expect(out + err).toContain('Cannot initialize the action more than once.');
      });

      eachKind('answers unknown routes and bad JSON with 500 "Bad request."', KINDS, async (kind, start) => {
        const h = await start(kind);
        for (const res of [
          await h.request('/nowhere', {}),
          await h.request('/init', undefined, { raw: '{"value": ' }),
          await h.request('/run', undefined, { raw: 'not json' }),
        ]) {
          expect(res).toMatchObject({ status: 500, body: { error: 'Bad request.' } });
        }
      });

      eachKind(
        'reports bad code with a 502, the reason in the logs and one sentinel',
        ['nodejs', 'python'],
        async (kind, start) => {
          const h = await start(kind);
          const res = await init(h, BAD_CODE[kind as 'nodejs' | 'python']);
          expect(res.status).toBe(502);
          const { out, err } = await streams(h, 1);
          const logs = (out + err).toLowerCase();
          expect(logs).toContain('error');
          expect(logs).toContain('syntax');
          if (kind === 'nodejs')
            expect(res.body.error).toMatch(/^Initialization has failed due to: .*SyntaxError/s);
          if (kind === 'python') expect(err).toContain('Traceback');
        },
      );

      eachKind(
        'exports init parameters to the environment before the code loads',
        KINDS,
        async (kind, start) => {
          const h = await start(kind);
          const env = {
            SOME_VAR: 'xyz',
            ANOTHER_VAR: '',
            ARRAY: ['a', 'b'],
            OBJECT: { a: 'A' },
            NUMBER: 3,
            BOOL: true,
            NULL: null,
          };
          await initOk(h, INIT_ENV[kind], { env });
          const res = await run(h, {});
          expect(res.status).toBe(200);
          expect(res.body).toMatchObject({
            SOME_VAR: 'xyz',
            ANOTHER_VAR: '',
            NUMBER: '3',
            BOOL: 'true',
            NULL: '',
          });
          if (kind !== 'native') {
            expect(JSON.parse(res.body.ARRAY)).toEqual(['a', 'b']);
            expect(JSON.parse(res.body.OBJECT)).toEqual({ a: 'A' });
          }
          expect(await streams(h, 1)).toEqual({ out: '', err: '' });
        },
      );

      eachKind('initialises from a source over 500 KB', KINDS, async (kind, start) => {
        const h = await start(kind);
        const comment = kind === 'nodejs' ? '//' : '#';
        const padding = `${comment} ${'x'.repeat(100)}\n`.repeat(6000);
        const code =
          kind === 'native' ? QUIET_ECHO.native.replace('\n', `\n${padding}`) : padding + QUIET_ECHO[kind];
        expect(code.length).toBeGreaterThan(500_000);
        await initOk(h, code);
        expect((await run(h, { big: 'source' })).body).toEqual({ big: 'source' });
      });

      eachKind(
        'accepts a 64 MB /init request (48 MB of zip, base64-encoded)',
        KINDS,
        async (kind, start) => {
          const h = await start(kind);
          const code = bigArchive(kind);
          expect(code.length).toBeGreaterThan(62 * 1024 * 1024);
          await initOk(h, code, { binary: true });
          expect((await run(h, { x: 1 })).body).toMatchObject({ ok: true });
        },
        120_000,
      );
    });

    group('run: arguments, results and logs', () => {
      eachKind('echoes arguments, logs to both streams, one sentinel per run', KINDS, async (kind, start) => {
        const h = await start(kind);
        await initOk(h, ECHO[kind]);
        const argss = [
          { string: 'hello' },
          { string: '❄ ☃ ❄' },
          { numbers: [42, 1] },
          { object: { a: 'A' } },
        ];
        for (const args of argss) {
          const res = await run(h, args);
          expect(res.status).toBe(200);
          expect(res.body).toEqual(args);
        }
        const { out, err } = await streams(h, argss.length);
        expect(out).toContain('hello stdout');
        expect(err).toContain('hello stderr');
        // Each run's output is followed by its own sentinel.
        expect(h.output().stdout).toBe(`hello stdout\n${SENTINEL}\n`.repeat(argss.length));
      });

      eachKind('handles unicode in source, arguments, logs and result', KINDS, async (kind, start) => {
        const h = await start(kind);
        await initOk(h, UNICODE[kind]);
        const res = await run(h, { delimiter: '❄' });
        expect(res.body).toEqual({ winter: '❄ ☃ ❄' });
        const { out } = await streams(h, 1);
        expect(out).toContain('❄ ☃ ❄');
      });

      eachKind('exposes the activation context as __OW_* variables', KINDS, async (kind, start) => {
        const h = await start(kind, { __OW_API_HOST: 'xyz' });
        await initOk(h, ENV_CONTEXT[kind]);
        const context = {
          api_key: 'abc',
          namespace: 'zzz',
          action_name: '/zzz/xxx',
          action_version: '0.0.1',
          activation_id: 'iii',
          deadline: '1700000060000',
        };
        const res = await run(h, {}, { ...context, transaction_id: 'ttt' });
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ api_host: 'xyz', ...context });
        expect(await streams(h, 1)).toEqual({ out: '', err: '' });
      });

      eachKind(
        'does not leak a previous run\u2019s __OW_* variables into the next',
        KINDS,
        async (kind, start) => {
          const h = await start(kind);
          await initOk(h, ENV_CONTEXT[kind]);
          await run(h, {}, { api_key: 'secret', activation_id: 'one' });
          const res = await run(h, {}, { activation_id: 'two' });
          expect(res.body.activation_id).toBe('two');
          expect(res.body.api_key ?? '').toBe('');
        },
      );

      eachKind('rejects a result that is not a dictionary with a 502', KINDS, async (kind, start) => {
        const h = await start(kind);
        await initOk(h, NOT_A_DICT[kind]);
        const res = await run(h, {});
        expect(res).toMatchObject({ status: 502, body: { error: NOT_A_DICT_ERROR[kind] } });
        const { out, err } = await streams(h, 1);
        if (kind === 'native') expect(out + err).toContain('not a json object');
        if (kind === 'python') expect({ out, err }).toEqual({ out: '', err: '' });
      });

      eachKind('accepts an array as the result', KINDS, async (kind, start) => {
        const h = await start(kind);
        await initOk(h, ARRAY_RESULT[kind]);
        expect(await run(h, {})).toMatchObject({ status: 200, body: ['a', 'b'] });
      });

      eachKind('accepts an array as the argument, and null as {}', KINDS, async (kind, start) => {
        const h = await start(kind);
        await initOk(h, QUIET_ECHO[kind]);
        expect(await run(h, ['a', 'b'])).toMatchObject({ status: 200, body: ['a', 'b'] });
        expect(await run(h, null)).toMatchObject({ status: 200, body: {} });
      });

      eachKind('refuses an argument that is not a dictionary with a 403', KINDS, async (kind, start) => {
        const h = await start(kind);
        await initOk(h, QUIET_ECHO[kind]);
        const res = await run(h, 'A');
        expect(res.status).toBe(403);
        expect(res.body.error).toBe(
          "Internal system error: the argument must be a dictionary but has type 'string'.",
        );
        // The action stays usable.
        expect((await run(h, { again: true })).body).toEqual({ again: true });
      });

      eachKind(
        'echoes a 1,048,561-character argument intact',
        KINDS,
        async (kind, start) => {
          const h = await start(kind);
          await initOk(h, QUIET_ECHO[kind]);
          const arg = { arg: 'a'.repeat(1_048_561) };
          const res = await run(h, arg);
          expect(res.status).toBe(200);
          expect(res.body.arg.length).toBe(1_048_561);
          expect(res.body).toEqual(arg);
        },
        60_000,
      );
    });

    group('concurrency', () => {
      eachKind('refuses a second simultaneous /run by default', KINDS, async (kind, start) => {
        const h = await start(kind);
        await initOk(h, SLOW[kind]);
        const first = run(h, { first: true });
        await waitForLog(h, 'started');
        const second = await run(h, { second: true });
        expect(second).toMatchObject({
          status: 403,
          body: { error: 'System not ready, status is running.' },
        });
        expect(await first).toMatchObject({ status: 200, body: { first: true } });
        const { err } = await streams(h, 1);
        expect(err).toContain('Internal system error: System not ready, status is running.');
      });

      eachKind(
        'serves more than 100 concurrent runs with __OW_ALLOW_CONCURRENT=true',
        KINDS,
        async (kind, start) => {
          const h = await start(kind, { __OW_ALLOW_CONCURRENT: 'true' });
          await initOk(h, OVERLAPPING[kind]);
          const n = 120;
          const results = await Promise.all(
            Array.from({ length: n }, (_, i) =>
              run(h, { i }, { activation_id: `act-${i}`, ...(i % 2 ? { api_key: `key-${i}` } : {}) }),
            ),
          );
          results.forEach((res, i) => {
            expect(res.status, res.text).toBe(200);
            expect(res.body.args).toEqual({ i });
            // Each activation sees its own context, and only its own, even while others run
            // (python runs share one os.environ, as with OpenWhisk).
            if (kind !== 'python') {
              expect(res.body.id).toBe(`act-${i}`);
              expect(res.body.key ?? '').toBe(i % 2 ? `key-${i}` : '');
            }
          });
          if (kind !== 'native')
            expect(Math.max(...results.map((res) => res.body.peak as number))).toBeGreaterThan(1);
          await streams(h, n);
        },
        60_000,
      );

      eachKind(
        'tags every log line with its activation id when __WHIRL_LOG_TAGS=1',
        ['nodejs', 'native'],
        async (kind, start) => {
          const h = await start(kind, { __OW_ALLOW_CONCURRENT: 'true', __WHIRL_LOG_TAGS: '1' });
          await initOk(h, LOG_PROBE[kind as 'nodejs' | 'native']);
          const n = 6;
          const results = await Promise.all(
            Array.from({ length: n }, (_, i) => run(h, { n: i }, { activation_id: `act-${i}` })),
          );
          results.forEach((res, i) => expect(res.body).toEqual({ n: i }));
          await h.waitForSentinels(n);
          const { stdout, stderr } = h.output();
          for (const text of [stdout, stderr]) {
            const lines = text.split('\n').filter((line) => line !== '');
            for (const line of lines) expect(line).toMatch(/^\[\[whirl:act-\d+\]\] /);
            for (let i = 0; i < n; i++) {
              const tag = `[[whirl:act-${i}]] `;
              expect(lines.filter((line) => line === `${tag}${SENTINEL}`)).toHaveLength(1);
              for (const line of lines.filter((l) => l.includes(`-${i}-`) || l.endsWith(`err-${i}`))) {
                expect(line.startsWith(tag), line).toBe(true);
              }
            }
          }
          for (let i = 0; i < n; i++) {
            expect(stdout).toContain(`[[whirl:act-${i}]] out-${i}-a\n`);
            expect(stderr).toContain(`[[whirl:act-${i}]] err-${i}\n`);
          }
        },
        30_000,
      );
    });

    group('archives', () => {
      eachKind('rejects an entry that escapes the extraction directory', KINDS, async (kind, start) => {
        for (const code of [
          base64Zip([ARCHIVE_ENTRY[kind], { name: '../evil', data: 'x' }]),
          makeTarGz([
            { name: String(ARCHIVE_ENTRY[kind].name), data: 'x' },
            { name: 'a/../../evil', data: 'x' },
          ]).toString('base64'),
        ]) {
          const h = await start(kind);
          const res = await init(h, code, { binary: true });
          expect(res.status).toBe(502);
          expect(res.body.error).toContain('uncompressing');
          expect(res.body.error).toContain('outside the archive root');
          const { err } = await streams(h, 1);
          expect(err).toContain('uncompressing');
        }
      });

      eachKind('never creates symbolic links', KINDS, async (kind, start) => {
        const h = await start(kind);
        await initOk(h, base64Zip([LINK_PROBE[kind], { name: 'link', symlinkTo: '/etc/passwd' }]), {
          binary: true,
        });
        expect((await run(h, {})).body).toEqual({ link: false });
      });

      eachKind('rejects an archive with too many entries', KINDS, async (kind, start) => {
        const h = await start(kind);
        const many = Array.from({ length: 20_001 }, (_, i) => ({
          name: `f/${i}`,
          data: '',
          method: 'store' as const,
        }));
        const res = await init(h, base64Zip([ARCHIVE_ENTRY[kind], ...many]), { binary: true });
        expect(res.status).toBe(502);
        expect(res.body.error).toContain('more than 20000 entries');
        await streams(h, 1);
      });

      eachKind('rejects a zip bomb (suspicious compression ratio)', KINDS, async (kind, start) => {
        const h = await start(kind);
        const bomb = { name: 'bomb.bin', data: Buffer.alloc(20 * 1024 * 1024) };
        const res = await init(h, base64Zip([ARCHIVE_ENTRY[kind], bomb]), { binary: true });
        expect(res.status).toBe(502);
        expect(res.body.error).toContain('compression ratio');
        await streams(h, 1);
      });

      eachKind('caps the unpacked size (__WHIRL_MAX_UNZIP_BYTES)', KINDS, async (kind, start) => {
        const h = await start(kind, { __WHIRL_MAX_UNZIP_BYTES: '4096' });
        const res = await init(
          h,
          base64Zip([ARCHIVE_ENTRY[kind], { name: 'big.txt', data: 'y'.repeat(8000) }]),
          {
            binary: true,
          },
        );
        expect(res.status).toBe(502);
        expect(res.body.error).toContain('more than 4096 bytes');
      });

      eachKind(
        'reports bad base64 or a non-archive as an uncompressing error',
        ['nodejs', 'python'],
        async (kind, start) => {
          for (const code of ['%%% not base64 %%%', Buffer.from('just some text').toString('base64')]) {
            const h = await start(kind);
            const res = await init(h, code, { binary: true });
            expect(res.status).toBe(502);
            const { out, err } = await streams(h, 1);
            expect(out + err).toContain('uncompressing');
          }
        },
      );
    });

    if (kinds.includes('nodejs')) defineNodeCases(proxyCase, group);
    if (kinds.includes('python')) definePythonCases(proxyCase, group);
    if (kinds.includes('native')) defineNativeCases(proxyCase, group);
  });
}
