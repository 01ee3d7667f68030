/**
 * The `docker` sandbox backend: every sandbox is a container run through the Docker Engine API (Unix
 * socket, Node's http; no docker CLI). Runtime kinds run Whirl's runtime images (images.ts), blackbox
 * actions their own image; either way the container serves OpenWhisk's action protocol on port 8080 and
 * the invoker talks to it at its address on the instance's network (network.ts).
 *
 * Every container gets: the action's memory as its limit with no swap on top, CPU shares proportional to
 * memory (as OpenWhisk and the process backend do), pids and open-file limits, a read-only root with a
 * tmpfs /tmp, no-new-privileges, an init process reaping orphans, no log driver (output is read from the
 * attach stream, never written to disk), and labels naming this instance — by which leftovers of an
 * earlier run are found and removed at start-up, and a watchdog removes them when Whirl dies (watchdog.ts).
 */
import type { RuntimeFamily } from '../../core/runtimes.js';
import type { IsolationReport, Sandbox, SandboxFactory, SandboxSpec } from '../sandbox.js';
import { SandboxStartError } from '../sandbox.js';
import { DockerSandbox } from './container.js';
import { DockerEngine, DockerError, defaultSocketPath } from './engine.js';
import { ensureRuntimeImages, imageForFamily } from './images.js';
import { networkPolicy, type Egress } from '../network-policy.js';
import { SandboxNetwork } from './network.js';
import { ownerLabels, sweep } from './sweep.js';
import { startWatchdog, type Watchdog } from './watchdog.js';

export { buildRuntimeImages, runtimeImageStatus, runtimeImages, type ImageBase } from './images.js';
export { DockerEngine } from './engine.js';

export interface DockerSandboxOptions {
  /** Names this instance's containers, network and firewall chains; leftovers with it are removed. */
  instance: string;
  /** Default: $DOCKER_HOST (unix://) or /var/run/docker.sock. */
  socketPath?: string;
  /** Image per runtime family (default: the runtimes manifest's). */
  images?: Partial<Record<RuntimeFamily, string>>;
  pidsLimit?: number;
  nofileLimit?: number;
  /** Deadline for a runtime image to listen. */
  startTimeoutMs?: number;
  /** Deadline for a blackbox image to listen (images of other runtimes can be slower to boot). */
  blackboxStartTimeoutMs?: number;
  /** Default: $WHIRL_EGRESS or `internet` (see network-policy.ts). */
  egress?: Egress;
  /** Ranges containers may not reach. Default: $WHIRL_BLOCKED_NETWORKS (comma-separated) or private ranges. */
  blockedNetworks?: readonly string[];
  /** Build missing runtime images from this host at start-up (default true). */
  buildImages?: boolean;
  log?: (line: string) => void;
}

interface DockerInfo {
  ServerVersion?: string;
  Driver?: string;
  CgroupVersion?: string;
  MemoryLimit?: boolean;
  SwapLimit?: boolean;
  PidsLimit?: boolean;
  CpuShares?: boolean;
}

interface ImageInfo {
  Config?: { WorkingDir?: string };
}

/** Capabilities blackbox images lose (runtime images lose all): raw packets, devices, chroot games. */
const BLACKBOX_CAP_DROP = ['NET_RAW', 'MKNOD', 'AUDIT_WRITE', 'SETFCAP', 'SYS_CHROOT'];

/** `name[:tag]` or `name@digest` → the pull API's fromImage and tag. */
function pullRef(image: string): { fromImage: string; tag: string } {
  const at = image.indexOf('@');
  if (at >= 0) return { fromImage: image.slice(0, at), tag: image.slice(at + 1) };
  const colon = image.lastIndexOf(':');
  if (colon > image.lastIndexOf('/'))
    return { fromImage: image.slice(0, colon), tag: image.slice(colon + 1) };
  return { fromImage: image, tag: 'latest' };
}

export class DockerSandboxFactory implements SandboxFactory {
  readonly name = 'docker';
  private readonly live = new Set<DockerSandbox>();
  private readonly pulls = new Map<string, Promise<void>>();
  private closed = false;

  /** The network of actions that asked for no outbound access, opened when the first one comes. */
  private apiOnly: Promise<SandboxNetwork> | undefined;

  private constructor(
    private readonly engine: DockerEngine,
    private readonly network: SandboxNetwork,
    private readonly o: Required<Omit<DockerSandboxOptions, 'socketPath' | 'images' | 'log'>> & {
      images: Record<RuntimeFamily, string>;
    },
    readonly isolation: IsolationReport,
    private readonly watchdog: Watchdog,
  ) {}

  /** Connects to Docker, removes leftovers of this instance, readies images and the network. */
  static async open(opts: DockerSandboxOptions): Promise<DockerSandboxFactory> {
    const fromEnv = networkPolicy(process.env);
    const o = {
      pidsLimit: 512,
      nofileLimit: 1024,
      startTimeoutMs: 15_000,
      blackboxStartTimeoutMs: 60_000,
      egress: fromEnv.egress,
      blockedNetworks: fromEnv.blocked,
      buildImages: true,
      ...opts,
      images: {
        nodejs: opts.images?.nodejs ?? imageForFamily('nodejs'),
        python: opts.images?.python ?? imageForFamily('python'),
        native: opts.images?.native ?? imageForFamily('native'),
      },
    };
    const log = opts.log ?? (() => undefined);
    const socketPath = opts.socketPath ?? defaultSocketPath();
    const engine = new DockerEngine(socketPath);
    let version;
    try {
      version = await engine.connect();
    } catch (err) {
      engine.close();
      throw new Error(
        `the docker sandbox cannot reach Docker at ${socketPath}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    let watchdog: Watchdog | undefined;
    try {
      const info = await engine.json<DockerInfo>('GET', '/info');
      const swept = await sweep(engine, o.instance);
      if (swept > 0) log(`removed ${swept} leftover container(s) of stopped Whirl instances`);
      watchdog = startWatchdog(socketPath);
      const notes = [
        `Docker ${version.version} (API ${version.apiVersion}), ${info.Driver ?? '?'} storage, cgroup v${info.CgroupVersion ?? '?'}`,
      ];
      if (o.buildImages) notes.push(...(await ensureRuntimeImages(engine, log)));
      const network = await SandboxNetwork.open(engine, {
        instance: o.instance,
        name: `whirl-${o.instance}`,
        labels: ownerLabels(o.instance),
        egress: o.egress,
        blocked: o.blockedNetworks,
      });
      const limits = info.MemoryLimit === true && info.PidsLimit === true;
      notes.push(
        'containers: own pid, mount, ipc, uts and network namespaces; read-only root, tmpfs /tmp; runtime images run as uid 65534 without capabilities; no-new-privileges',
        limits
          ? `memory (no extra swap${info.SwapLimit === true ? '' : ': the kernel does not account swap, so containers may use the host swap if it has any'}), pids, open files and cpu shares limited`
          : 'Docker cannot limit memory and pids on this host',
        ...network.notes,
      );
      return new DockerSandboxFactory(
        engine,
        network,
        o,
        {
          isolated: limits && network.firewall,
          namespaces: true,
          cgroups: limits,
          network: network.firewall,
          notes,
        },
        watchdog,
      );
    } catch (err) {
      watchdog?.stop();
      engine.close();
      throw err;
    }
  }

  async create(spec: SandboxSpec): Promise<Sandbox> {
    if (this.closed) throw new SandboxStartError('the sandbox backend is shutting down');
    const blackbox = spec.image !== undefined;
    const image = spec.image ?? this.o.images[spec.family];
    const workdir = blackbox ? await this.blackboxWorkdir(image) : undefined;
    const env: Record<string, string> = {
      ...(spec.concurrency > 1 ? { __OW_ALLOW_CONCURRENT: 'true', __WHIRL_LOG_TAGS: '1' } : {}),
      ...spec.env,
    };
    const network = spec.network === 'api-only' ? await this.apiOnlyNetwork() : this.network;
    if (env.__OW_API_HOST !== undefined) env.__OW_API_HOST = await network.apiHostFor(env.__OW_API_HOST);
    const name = `whirl-${this.o.instance}-${spec.id}`.replace(/[^a-zA-Z0-9_.-]/g, '_');
    const memory = spec.memoryMB * 1024 * 1024;
    const config = {
      Image: image,
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      OpenStdin: false,
      Labels: {
        ...ownerLabels(this.o.instance),
        'whirl.sandbox': spec.id,
        'whirl.family': spec.family,
        ...(blackbox ? { 'whirl.blackbox': 'true' } : {}),
      },
      HostConfig: {
        Memory: memory,
        // Swap limit = memory limit: not a byte of swap on top.
        MemorySwap: memory,
        // Proportional to memory, as OpenWhisk does: a 256 MB action gets the default share.
        CpuShares: Math.max(2, Math.round((spec.memoryMB * 1024) / 256)),
        PidsLimit: this.o.pidsLimit,
        Ulimits: [{ Name: 'nofile', Soft: this.o.nofileLimit, Hard: this.o.nofileLimit }],
        ReadonlyRootfs: true,
        // tmpfs pages count against the memory limit, so /tmp can never outgrow the action's memory; `exec`
        // because Docker mounts tmpfs noexec by default and native actions run their executable from /tmp.
        Tmpfs: { '/tmp': `rw,exec,nosuid,nodev,size=${Math.min(512, spec.memoryMB)}m,mode=1777` },
        ...(workdir === undefined
          ? {}
          : // OpenWhisk's images write to their working directory (/action); an anonymous volume gives
            // them a writable copy of it that goes away with the container.
            { Mounts: [{ Type: 'volume', Target: workdir }] }),
        CapDrop: blackbox ? BLACKBOX_CAP_DROP : ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        Init: true,
        NetworkMode: network.name,
        LogConfig: { Type: 'none', Config: {} },
        RestartPolicy: { Name: 'no' },
      },
      NetworkingConfig: { EndpointsConfig: { [network.name]: {} } },
    };
    try {
      return await DockerSandbox.start(
        {
          engine: this.engine,
          id: spec.id,
          name,
          network: network.name,
          config,
          // Runtime proxies are known to be one process; blackbox images may keep helpers (ActionLoop).
          reapable: !blackbox,
          startTimeoutMs: blackbox ? this.o.blackboxStartTimeoutMs : this.o.startTimeoutMs,
        },
        (s) => {
          this.live.add(s);
          void s.exited.then(() => this.live.delete(s));
        },
      );
    } catch (err) {
      if (err instanceof DockerError && err.status === 404 && !blackbox) {
        throw new SandboxStartError(`the runtime image ${image} is missing: run \`whirl runtimes build\``);
      }
      throw err instanceof SandboxStartError ? err : new SandboxStartError(String(err));
    }
  }

  private apiOnlyNetwork(): Promise<SandboxNetwork> {
    this.apiOnly ??= SandboxNetwork.open(this.engine, {
      instance: this.o.instance,
      name: `whirl-${this.o.instance}-api`,
      labels: ownerLabels(this.o.instance),
      egress: 'none',
      blocked: this.o.blockedNetworks,
    });
    this.apiOnly.catch(() => (this.apiOnly = undefined));
    return this.apiOnly;
  }

  /** Makes sure a blackbox image is here (pulling it once if not) and returns its working directory. */
  private async blackboxWorkdir(image: string): Promise<string | undefined> {
    const inspectImage = () =>
      this.engine.json<ImageInfo>('GET', `/images/${encodeURIComponent(image)}/json`);
    let info: ImageInfo;
    try {
      info = await inspectImage();
    } catch (err) {
      if (!(err instanceof DockerError && err.status === 404)) throw new SandboxStartError(String(err));
      let pull = this.pulls.get(image);
      if (pull === undefined) {
        pull = this.engine.progress('POST', '/images/create', {
          query: pullRef(image),
          timeoutMs: 10 * 60_000,
        });
        this.pulls.set(image, pull);
        void pull.catch(() => undefined).finally(() => this.pulls.delete(image));
      }
      try {
        await pull;
        info = await inspectImage();
      } catch (e) {
        throw new SandboxStartError(
          `cannot pull the image '${image}': ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    }
    const wd = info.Config?.WorkingDir ?? '';
    return wd === '' || wd === '/' || wd === '/tmp' ? undefined : wd;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.live].map((s) => s.destroy().catch(() => undefined)));
    await this.network.close().catch(() => undefined);
    await this.apiOnly?.then((n) => n.close()).catch(() => undefined);
    this.watchdog.stop();
    this.engine.close();
  }
}
