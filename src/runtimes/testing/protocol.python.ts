// Protocol cases specific to the python proxy: ActionLoop-style loading, zips, exceptions, sys.exit().
/* eslint-disable @typescript-eslint/no-unsafe-member-access --
   test code (run by vitest like *.test.ts, which has the same relaxations): responses are loose JSON. */
import { expect } from 'vitest';
import { makeTarGz } from './archive-writer.js';
import { base64Zip } from './protocol.fixtures.js';
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

export function definePythonCases(proxyCase: ProxyCase, group: Group): void {
  const ready = async (start: Start, code: string, opts: InitOptions = {}): Promise<ProxyHandle> => {
    const h = await start('python');
    await initOk(h, code, opts);
    return h;
  };

  group('python: loading', () => {
    proxyCase('python: invokes a non-standard entry point', async (start) => {
      const h = await ready(start, 'def niam(args):\n    return args\n', { main: 'niam' });
      expect((await run(h, { string: 'hello' })).body).toEqual({ string: 'hello' });
      expect(await streams(h, 1)).toEqual({ out: '', err: '' });
    });

    proxyCase('python: does not run the module as __main__', async (start) => {
      const h = await ready(
        start,
        "if __name__ == '__main__':\n    raise Exception('ran as __main__')\n\ndef main(args):\n    return {'name': __name__}\n",
      );
      expect((await run(h, {})).body).toEqual({ name: 'main__' });
    });

    proxyCase(
      'python: runs a zip with __main__.py, a non-default entry point and a bundled package',
      async (start) => {
        const code = base64Zip([
          {
            name: '__main__.py',
            data: 'from echo import echo\nfrom mypkg import greet\n\ndef niam(args):\n    return echo(dict(args, greeting=greet()))\n',
          },
          { name: 'echo.py', data: "def echo(args):\n    return {'echo': args}\n" },
          { name: 'mypkg/__init__.py', data: "def greet():\n    return 'hi'\n" },
        ]);
        const h = await ready(start, code, { binary: true, main: 'niam' });
        expect((await run(h, { msg: 'it works' })).body).toEqual({
          echo: { msg: 'it works', greeting: 'hi' },
        });
        expect(await streams(h, 1)).toEqual({ out: '', err: '' });
      },
    );

    proxyCase('python: imports packages from a bundled virtualenv', async (start) => {
      const code = base64Zip([
        {
          name: '__main__.py',
          data: "import venvpkg\n\ndef main(args):\n    return {'venv': venvpkg.VALUE}\n",
        },
        {
          name: 'virtualenv/lib/python3.11/site-packages/venvpkg/__init__.py',
          data: "VALUE = 'from venv'\n",
        },
      ]);
      const h = await ready(start, code, { binary: true });
      expect((await run(h, {})).body).toEqual({ venv: 'from venv' });
    });

    proxyCase('python: reads files relative to the action (zip and tar.gz)', async (start) => {
      const files = [
        {
          name: '__main__.py',
          data: "def main(args):\n    with open('workfile') as f:\n        return {'file': f.read()}\n",
        },
        { name: 'workfile', data: 'this is a test string' },
      ];
      const h = await ready(start, base64Zip(files), { binary: true });
      expect((await run(h, {})).body).toEqual({ file: 'this is a test string' });
      const h2 = await ready(start, makeTarGz(files).toString('base64'), { binary: true });
      expect((await run(h2, {})).body).toEqual({ file: 'this is a test string' });
    });

    proxyCase('python: reports a zip without __main__.py', async (start) => {
      const h = await start('python');
      const res = await init(
        h,
        base64Zip([{ name: 'echo.py', data: 'def echo(args):\n    return args\n' }]),
        {
          binary: true,
          main: 'echo',
        },
      );
      expect(res.status).toBe(502);
      expect(res.body.error).toContain('Zip file does not include __main__.py');
      const { out, err } = await streams(h, 1);
      expect(out).toBe('');
      expect(err).toContain('Zip file does not include');
    });

    proxyCase('python: fails at init when importing a missing module', async (start) => {
      const h = await start('python');
      const res = await init(h, 'import iamnotsupported\n\ndef main(args):\n    return {}\n');
      expect(res.status).toBe(502);
      expect(res.body.error).toContain('iamnotsupported');
      const { out, err } = await streams(h, 1);
      expect(out).toBe('');
      expect(err).toContain('Traceback');
    });

    proxyCase('python: sys.exit() during init', async (start) => {
      const h = await start('python');
      const res = await init(h, 'import sys\nsys.exit(1)\n');
      expect(res).toMatchObject({
        status: 502,
        body: { error: 'Cannot start action. Check logs for details.' },
      });
      const { err } = await streams(h, 1);
      expect(err).toContain('Command exited abruptly during initialization.');
    });
  });

  group('python: running', () => {
    proxyCase('python: an exception is an application error with a traceback in the logs', async (start) => {
      const h = await ready(
        start,
        'def div(x, y):\n    return x / y\n\ndef main(args):\n    return {"r": div(5, 0)}\n',
      );
      const res = await run(h, {});
      expect(res).toMatchObject({ status: 200, body: { error: 'division by zero' } });
      const { out, err } = await streams(h, 1);
      expect(out).toBe('');
      expect(err).toContain('Traceback');
      expect(err).toContain('ZeroDivisionError');
      expect((await run(h, {})).status).toBe(200); // still usable
    });

    proxyCase('python: an {error} result is a 200', async (start) => {
      const h = await ready(start, "def main(args):\n    return {'error': 'sorry'}\n");
      expect(await run(h, {})).toMatchObject({ status: 200, body: { error: 'sorry' } });
      expect(await streams(h, 1)).toEqual({ out: '', err: '' });
    });

    proxyCase('python: a result JSON cannot encode is a 502', async (start) => {
      const h = await ready(start, "def main(args):\n    return {'s': {1, 2}}\n");
      expect(await run(h, {})).toMatchObject({
        status: 502,
        body: { error: 'The action did not return a dictionary or array.' },
      });
    });

    proxyCase(
      'python: sys.exit() during a run answers 400 "command exited" and the proxy exits',
      async (start) => {
        const h = await ready(start, 'import sys\n\ndef main(args):\n    sys.exit(1)\n');
        expect(await run(h, {})).toMatchObject({ status: 400, body: { error: 'command exited' } });
        await streams(h, 1);
        let gone = false;
        for (let i = 0; i < 100 && !gone; i++) {
          gone = await run(h, {}).then(
            () => false,
            () => true,
          );
          if (!gone) await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(gone).toBe(true);
      },
    );
  });
}
