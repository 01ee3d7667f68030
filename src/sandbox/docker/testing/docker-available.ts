/**
 * For tests: whether Docker can run here, and why not. Tests skip (saying why) only when it cannot:
 * no daemon socket, no permission, or a daemon that does not answer. `.ci/run` starts one when missing.
 */
import { existsSync } from 'node:fs';
import { DockerEngine, defaultSocketPath } from '../engine.js';

export type DockerProbe = { ok: true } | { ok: false; reason: string };

export async function probeDocker(): Promise<DockerProbe> {
  let socket: string;
  try {
    socket = defaultSocketPath();
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  if (!existsSync(socket)) {
    return { ok: false, reason: `Docker is not running (no ${socket}; .ci/run installs and starts it)` };
  }
  const engine = new DockerEngine(socket);
  try {
    await engine.connect();
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: `Docker at ${socket} does not answer: ${(err as Error).message}` };
  } finally {
    engine.close();
  }
}
