import { connect } from 'node:net';
import { configDefaults, defineConfig } from 'vitest/config';

/** The services the cluster backends' tests talk to, and the test files that need each. */
const SERVICES = [
  {
    name: 'PostgreSQL',
    url: process.env.WHIRL_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    files: ['src/store/postgres/**', 'test/cluster/**'],
  },
  {
    name: 'NATS JetStream',
    url: process.env.WHIRL_TEST_NATS_URL ?? 'nats://127.0.0.1:4222',
    files: ['src/bus/nats/**', 'test/cluster/**'],
  },
];

/** Whether something accepts connections at the URL's host and port (within a second). */
function answers(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port), timeout: 1000 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

export default defineConfig(async () => {
  // A developer without PostgreSQL or NATS still runs everything else, and is told what was left out.
  // CI (`WHIRL_REQUIRE_SERVICES=1`, set by .ci/run) starts them and fails rather than skip.
  const exclude: string[] = [];
  for (const s of SERVICES) {
    if (await answers(s.url)) continue;
    if (process.env.WHIRL_REQUIRE_SERVICES === '1') {
      throw new Error(`${s.name} does not answer at ${s.url}, and WHIRL_REQUIRE_SERVICES=1 requires it.`);
    }
    console.warn(`\n!! ${s.name} does not answer at ${s.url}: skipping ${s.files.join(', ')}.\n`);
    exclude.push(...s.files);
  }
  // `npm run test:fast` (WHIRL_FAST=1) leaves out the suites that run for minutes by design.
  if (process.env.WHIRL_FAST === '1') exclude.push('test/soak/**', 'test/cluster/chaos.test.ts');
  return {
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      exclude: [...configDefaults.exclude, ...new Set(exclude)],
      // End-to-end suites start real Whirl processes and sandboxes; two cores means few files at once.
      maxWorkers: 2,
      testTimeout: 30_000,
      hookTimeout: 60_000,
    },
  };
});
