/**
 * `whirl runtimes`: the runtime images of the docker sandbox backend.
 *   build [--base host|official] [--kind KIND[,KIND]] [--rebuild-base]
 *   list
 */
import { DockerEngine, buildRuntimeImages, runtimeImageStatus } from '../sandbox/docker/docker-sandbox.js';
import { UsageError } from '../core/errors.js';
import { parseFlags } from './flags.js';
import { log } from './log.js';

export const RUNTIMES_USAGE = `Usage: whirl runtimes <build|list> [options]

  build   build the runtime images the docker sandbox runs (whirl/nodejs20, whirl/python3, whirl/native)
            --base host       (default) on a base assembled from this host's node and python3: no registry
            --base official   on the official node and python images (docker/runtimes/*.Dockerfile): pulls them
            --kind KIND       only these kinds (comma-separated: nodejs:20,python:3,native)
            --rebuild-base    assemble the host base again even if it matches this host
  list    show each image and whether it is ready, missing or stale (built from other runtime proxies)

Docker is reached at $DOCKER_HOST (unix://...) or /var/run/docker.sock.
`;

const FLAGS = { base: 'string', kind: 'string', 'rebuild-base': 'boolean', help: 'boolean' } as const;

async function withEngine<T>(f: (engine: DockerEngine) => Promise<T>): Promise<T> {
  const engine = new DockerEngine();
  try {
    await engine.connect().catch((err: unknown) => {
      throw new Error(
        `cannot reach Docker at ${engine.socketPath}: ${err instanceof Error ? err.message : String(err)}`,
      );
    });
    return await f(engine);
  } finally {
    engine.close();
  }
}

export async function runRuntimes(argv: string[]): Promise<number> {
  const { flags, rest } = parseFlags(argv, FLAGS);
  const [verb, ...extra] = rest;
  if (flags.help === true || verb === undefined || verb === 'help') {
    process.stdout.write(RUNTIMES_USAGE);
    return verb === undefined && flags.help !== true ? 2 : 0;
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
  switch (verb) {
    case 'build': {
      const base = flags.base ?? 'host';
      if (base !== 'host' && base !== 'official') throw new UsageError('--base must be host or official');
      const kinds = flags.kind
        ?.split(',')
        .map((k) => k.trim())
        .filter((k) => k !== '');
      const built = await withEngine((engine) =>
        buildRuntimeImages(engine, {
          base,
          ...(kinds === undefined ? {} : { kinds }),
          rebuildBase: flags['rebuild-base'] === true,
          log: (line) => log.info(line),
        }),
      );
      for (const b of built)
        process.stdout.write(`${b.kind.padEnd(12)}${b.image.padEnd(28)}${b.id.slice(7, 19)}\n`);
      return 0;
    }
    case 'list': {
      const status = await withEngine((engine) => runtimeImageStatus(engine));
      process.stdout.write(`${'kind'.padEnd(12)}${'image'.padEnd(28)}${'state'.padEnd(10)}base\n`);
      for (const s of status) {
        process.stdout.write(
          `${s.kind.padEnd(12)}${s.image.padEnd(28)}${s.state.padEnd(10)}${s.base ?? ''}\n`,
        );
      }
      return status.every((s) => s.state === 'ready') ? 0 : 1;
    }
    default:
      throw new UsageError(`unknown runtimes command '${verb}' (build, list)`);
  }
}
