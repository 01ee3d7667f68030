/**
 * The front door to sandbox backends: composition roots (standalone, invoker) ask for a backend by name
 * and get a SandboxFactory; nothing else knows which one runs.
 */
import { DockerSandboxFactory } from './docker/docker-sandbox.js';
import { ProcessSandboxFactory } from './process/process-sandbox.js';
import type { SandboxFactory } from './sandbox.js';

export type SandboxBackend = 'process' | 'docker';

export const SANDBOX_BACKENDS: readonly SandboxBackend[] = ['process', 'docker'];

export interface SandboxOptions {
  backend: SandboxBackend;
  /** Short host directory for per-sandbox files (process backend). */
  runDir: string;
  /**
   * Names this invoker's sandboxes (cgroups, container labels); leftovers of an earlier run with the same
   * name are removed at start-up.
   */
  instance: string;
  /** Start-up progress worth telling the operator (docker backend: runtime images being built). */
  log?: (line: string) => void;
}

export async function openSandboxes(o: SandboxOptions): Promise<SandboxFactory> {
  switch (o.backend) {
    case 'process':
      return ProcessSandboxFactory.open({ runDir: o.runDir, instance: o.instance });
    case 'docker':
      return DockerSandboxFactory.open({ instance: o.instance, ...(o.log ? { log: o.log } : {}) });
  }
}
