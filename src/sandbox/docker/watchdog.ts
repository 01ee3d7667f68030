/**
 * Containers do not die with the Whirl that started them, so each docker sandbox factory starts a
 * watchdog: a small detached process (its own session, so a Ctrl-C or `kill -9` aimed at Whirl does not
 * reach it) that checks twice a second whether Whirl still runs. When Whirl is gone, however it went, the
 * watchdog removes every container and network labelled with Whirl's pid (sweep.ts) and exits. When
 * Whirl closes the factory normally it removes its containers itself and stops the watchdog.
 *
 * This module is both sides: `startWatchdog` (in Whirl) and the watchdog's main (run compiled, by path).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DockerEngine } from './engine.js';
import { alive, pidNamespace, sweepOwner } from './sweep.js';

const CHECK_MS = 500;

/** The compiled watchdog: this file in dist/, or dist/'s copy when this module runs from src/ (tests). */
function script(): string {
  const self = fileURLToPath(import.meta.url);
  if (self.endsWith('.js')) return self;
  const compiled = fileURLToPath(new URL('../../../dist/sandbox/docker/watchdog.js', import.meta.url));
  if (!existsSync(compiled))
    throw new Error(`the docker watchdog is not built (${compiled}): run npm run build`);
  return compiled;
}

export interface Watchdog {
  stop(): void;
}

/** Starts a watchdog for this process's containers on the Docker daemon at `socketPath`. */
export function startWatchdog(socketPath: string): Watchdog {
  const child = spawn(process.execPath, [script(), socketPath, String(process.pid), pidNamespace()], {
    detached: true,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  child.on('error', () => undefined);
  child.unref();
  return {
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}

async function watch(socketPath: string, owner: number, pidns: string): Promise<void> {
  process.stderr.on('error', () => undefined);
  while (alive(owner)) await new Promise((r) => setTimeout(r, CHECK_MS));
  const engine = new DockerEngine(socketPath);
  try {
    const removed = await sweepOwner(engine, owner, pidns);
    if (removed > 0)
      process.stderr.write(
        `whirl docker watchdog: Whirl (pid ${owner}) is gone; removed its ${removed} container(s)\n`,
      );
  } finally {
    engine.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [socketPath, owner, pidns] = process.argv.slice(2);
  watch(socketPath!, Number(owner), pidns!).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`whirl docker watchdog: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
