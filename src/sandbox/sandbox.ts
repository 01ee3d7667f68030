/**
 * A sandbox is one running runtime proxy (one "container"). Backends (process/, docker/) start and stop
 * them; the invoker talks to every sandbox the same way, over HTTP to its endpoint, and reads its output.
 */
import type { RuntimeFamily } from '../core/runtimes.js';

export interface SandboxSpec {
  /** Unique id; names cgroups, directories, containers. */
  id: string;
  family: RuntimeFamily;
  /** Docker image for blackbox actions (docker backend only). */
  image?: string;
  memoryMB: number;
  /** More than 1 lets the proxy serve several activations at once (and tag their log lines). */
  concurrency: number;
  /** Environment for the proxy, e.g. `__OW_API_HOST`. */
  env: Record<string, string>;
  /** `outbound` (default): the Whirl API and the outside; `api-only`: the Whirl API alone. */
  network?: 'outbound' | 'api-only';
}

export type Endpoint = { socketPath: string } | { host: string; port: number };

export interface SandboxExit {
  code: number | null;
  signal: string | null;
  /** The kernel killed the sandbox for exceeding its memory limit. */
  oomKilled: boolean;
}

export type OutputStream = 'stdout' | 'stderr';

export interface Sandbox {
  readonly id: string;
  readonly endpoint: Endpoint;
  /** Raw output as it arrives; there is one listener (the invoker's log collector). */
  onOutput(listener: (stream: OutputStream, chunk: Buffer) => void): void;
  /** Settles when the sandbox has stopped, for whatever reason. */
  readonly exited: Promise<SandboxExit>;
  /** Stops the sandbox and everything it started; idempotent. */
  destroy(): Promise<void>;
  /**
   * Ends every process the action left running, keeping the runtime proxy: called when no activation is
   * in the sandbox, so that nothing outlives its activation (backends that cannot, do nothing). `idle` is
   * checked again right before killing: an activation that arrived meanwhile keeps its processes.
   */
  reap(idle: () => boolean): Promise<void>;
  /** Freezes an idle sandbox (optional: backends that cannot, do nothing). */
  pause(): Promise<void>;
  resume(): Promise<void>;
}

export interface IsolationReport {
  /** Actions cannot see each other, the platform's files or processes, and have memory and pids limits. */
  isolated: boolean;
  namespaces: boolean;
  cgroups: boolean;
  /** Each sandbox has its own network, walled off from the host's services and other sandboxes. */
  network: boolean;
  /** Human-readable findings: what is isolated, what is not and why. */
  notes: string[];
}

export interface SandboxFactory {
  readonly name: 'process' | 'docker';
  readonly isolation: IsolationReport;
  create(spec: SandboxSpec): Promise<Sandbox>;
  /** Destroys every sandbox this factory started. */
  close(): Promise<void>;
}

/** Raised when a sandbox cannot be started: the invoker reports it as a whisk internal error. */
export class SandboxStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxStartError';
  }
}
