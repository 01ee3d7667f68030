// Entry point of the `native` runtime proxy (OpenWhisk "blackbox"/dockerskeleton semantics):
// `node <dist>/runtimes/native/main.js`. See common/http-server.ts for the launch contract.
import { tmpdir } from 'node:os';
import { startProxyServer } from '../common/http-server.js';
import { NativeActionService } from './service.js';

const service = new NativeActionService({
  concurrent: process.env.__OW_ALLOW_CONCURRENT?.toLowerCase() === 'true',
  logTags: process.env.__WHIRL_LOG_TAGS === '1',
  tmpDir: process.env.__WHIRL_TMP || tmpdir(),
});

startProxyServer({ init: service.init, run: service.run, onShutdown: service.killAll });
