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

/** Minutes of load each: the soak test and the cluster's kill -9 chaos test. */
const HEAVY = ['test/soak/soak.test.ts', 'test/cluster/chaos.test.ts'];

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
  // The suites that load the machine for minutes by design run on their own, one after the other
  // (`WHIRL_HEAVY=1`, the second half of `npm test`): beside each other, or beside the rest, two cores
  // are too few for either to mean anything. `npm run test:fast` is the rest alone.
  const heavy = process.env.WHIRL_HEAVY === '1';
  if (!heavy) {
    console.warn(`(${HEAVY.join(', ')}: run on their own by \`npm test\`, or WHIRL_HEAVY=1 vitest run)`);
  }
  return {
    test: {
      include: heavy ? HEAVY : ['src/**/*.test.ts', 'test/**/*.test.ts'],
      exclude: [...configDefaults.exclude, ...new Set(exclude), ...(heavy ? [] : HEAVY)],
      fileParallelism: !heavy,
      // End-to-end suites start real Whirl processes and sandboxes; two cores means few files at once.
      maxWorkers: 2,
      testTimeout: 30_000,
      hookTimeout: 60_000,
    },
  };
});
