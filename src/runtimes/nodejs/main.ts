// Entry point of the `nodejs:20` runtime proxy: `node <dist>/runtimes/nodejs/main.js`.
// Speaks OpenWhisk's action protocol (POST /init, POST /run); see common/http-server.ts for how it
// is launched (__WHIRL_LISTEN, __WHIRL_READY_FD, __WHIRL_TMP).
import { tmpdir } from 'node:os';
import { startProxyServer } from '../common/http-server.js';
import { installActivationEnv, installLogTags } from './activation.js';
import { NodeActionService } from './service.js';

const concurrent = process.env.__OW_ALLOW_CONCURRENT?.toLowerCase() === 'true';
const logTags = process.env.__WHIRL_LOG_TAGS === '1';

// Both must be in place before any action code runs (it may capture process.env or the streams).
if (concurrent) installActivationEnv();
if (logTags) installLogTags();

const service = new NodeActionService({
  concurrent,
  trackActivations: concurrent || logTags,
  tmpDir: process.env.__WHIRL_TMP || tmpdir(),
});

startProxyServer({ init: service.init, run: service.run });
