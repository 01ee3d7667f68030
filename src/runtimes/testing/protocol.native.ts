// Protocol cases specific to the native (blackbox) proxy: executables, archives with exec, output rules.
/* eslint-disable @typescript-eslint/no-unsafe-member-access --
   test code (run by vitest like *.test.ts, which has the same relaxations): responses are loose JSON. */
import { expect } from 'vitest';
import { makeTarGz } from './archive-writer.js';
import { base64Zip } from './protocol.fixtures.js';
import { init, initOk, run, streams, type ProxyCase, type Group } from './protocol.harness.js';

export function defineNativeCases(proxyCase: ProxyCase, group: Group): void {
  group('native: executables', () => {
    proxyCase(
      'native: runs a zip whose exec reads its own files; earlier stdout lines are logs',
      async (start) => {
        const h = await start('native');
        const code = base64Zip([
          {
            name: 'exec',
            data: `#!/bin/sh\necho "This is an example zip used with the native runtime."\nprintf '{"msg":"%s"}\\n' "$(cat greeting.txt)"\n`,
            mode: 0o755,
          },
          { name: 'greeting.txt', data: 'hello zip' },
        ]);
        await initOk(h, code, { binary: true });
        expect((await run(h, {})).body).toEqual({ msg: 'hello zip' });
        const { out, err } = await streams(h, 1);
        expect(out).toBe('This is an example zip used with the native runtime.');
        expect(err).toBe('');
      },
    );

    proxyCase('native: runs a tar.gz exec, and an exec stored without its executable bit', async (start) => {
      const script = `#!/bin/sh\necho '{"from":"archive"}'\n`;
      const h = await start('native');
      await initOk(h, makeTarGz([{ name: 'exec', data: script, mode: 0o755 }]).toString('base64'), {
        binary: true,
      });
      expect((await run(h, {})).body).toEqual({ from: 'archive' });
      const h2 = await start('native');
      await initOk(h2, base64Zip([{ name: 'exec', data: script, mode: 0o644 }]), { binary: true });
      expect((await run(h2, {})).body).toEqual({ from: 'archive' });
    });

    proxyCase('native: refuses an archive without exec', async (start) => {
      const h = await start('native');
      const res = await init(h, base64Zip([{ name: 'run.sh', data: '#!/bin/sh\necho {}\n' }]), {
        binary: true,
      });
      expect(res).toMatchObject({
        status: 502,
        body: { error: 'The action failed to generate or locate a binary. See logs for details.' },
      });
      const { err } = await streams(h, 1);
      expect(err).toContain('exec');
    });

    proxyCase('native: a non-zero exit without a result is a 502 that says so', async (start) => {
      const h = await start('native');
      await initOk(h, '#!/bin/sh\necho "about to fail" >&2\nexit 3\n');
      const res = await run(h, {});
      expect(res.status).toBe(502);
      expect(res.body.error).toContain('exited with code 3');
      const { err } = await streams(h, 1);
      expect(err).toContain('about to fail');
    });

    proxyCase('native: an interpreter that does not exist is a 502 at run time', async (start) => {
      const h = await start('native');
      await initOk(h, '#!/nonexistent/interpreter\n');
      const res = await run(h, {});
      expect(res.status).toBe(502);
      await streams(h, 1);
    });

    proxyCase('native: the last line must be JSON even after valid JSON lines', async (start) => {
      const h = await start('native');
      await initOk(h, `#!/bin/sh\necho '{"not":"last"}'\necho 'the end'\n`);
      expect(await run(h, {})).toMatchObject({
        status: 502,
        body: { error: 'The action did not return a dictionary.' },
      });
      const { out } = await streams(h, 1);
      expect(out).toBe('{"not":"last"}\nthe end');
    });
  });
}
