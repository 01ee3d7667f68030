/**
 * The network actions run on, and what they can reach from it.
 *
 * Each invoker instance gets its own Docker bridge network, `whirl-<instance>` (and, when an action asks
 * for no outbound access, `whirl-<instance>-api`), on a bridge interface Whirl names (`whd<hash>`), with
 * inter-container traffic off (`enable_icc=false`: actions cannot talk to each other). On top of Docker's own rules Whirl installs two iptables chains for that interface:
 *
 * - `WHIRL-IN-<hash>`, jumped to from INPUT for packets arriving from the bridge, i.e. for anything a
 *   container sends to an address of the host itself (the gateway, eth0, loopback aliases...): only
 *   replies and the API relay's port are accepted, everything else is rejected. Services the host runs
 *   (PostgreSQL, NATS, Redis, the machine's other daemons), whatever address they listen on, are out of
 *   reach; 127.0.0.1 inside a container is the container's own loopback.
 * - `WHIRL-FWD-<hash>`, jumped to from DOCKER-USER (FORWARD) for packets the host would route onwards:
 *   private, link-local (cloud metadata) and shared address ranges are rejected — where a cluster's
 *   database, broker and controllers live — except DNS to the host's resolvers; the rest of the world is
 *   reachable (egress `internet`, the default) or not (egress `none`).
 *
 * The Whirl API is reached through a relay (relay.ts) listening on the gateway: `__OW_API_HOST` values
 * that point at the host or at a blocked range are rewritten to it, so actions can call Whirl whatever
 * address it listens on, and nothing else.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import { DockerError, type DockerEngine } from './engine.js';
import { TcpRelay } from './relay.js';
import { inCidr, nameservers, type Egress } from '../network-policy.js';

export interface NetworkOptions {
  instance: string;
  /** Labels naming the owner (see sweep.ts). */
  labels: Record<string, string>;
  /** The Docker network's name (unique per instance and egress). */
  name: string;
  egress: Egress;
  blocked: readonly string[];
}

interface NetworkInspect {
  Id: string;
  IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] };
}

function run(cmd: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ ok: err === null, out: `${stdout}${stderr}`.trim() }),
    );
  });
}

function localAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(a.address);
  return out;
}

/** Names the bridge and the firewall chains of a network. */
export function networkHash(name: string): string {
  return createHash('sha256').update(name).digest('hex').slice(0, 10);
}

export class SandboxNetwork {
  private readonly relays = new Map<string, Promise<TcpRelay>>();
  private readonly resolved = new Map<string, Promise<string[]>>();
  private readonly hash: string;

  private constructor(
    private readonly engine: DockerEngine,
    private readonly o: NetworkOptions,
    readonly name: string,
    readonly bridge: string,
    readonly subnet: string,
    readonly gateway: string,
    /** The iptables rules are in place (root, iptables present). */
    readonly firewall: boolean,
    readonly notes: string[],
  ) {
    this.hash = bridge.slice(3);
  }

  private get inChain(): string {
    return `WHIRL-IN-${this.hash}`;
  }

  /**
   * Creates the instance's network afresh (a leftover of an earlier run is replaced: its containers were
   * removed before) and installs the firewall rules.
   */
  static async open(engine: DockerEngine, o: NetworkOptions): Promise<SandboxNetwork> {
    const hash = networkHash(o.name);
    const name = o.name;
    // Interface names have at most 15 characters.
    const bridge = `whd${hash}`;
    try {
      await engine.call('DELETE', `/networks/${encodeURIComponent(name)}`);
    } catch (err) {
      if (!(err instanceof DockerError && err.status === 404)) throw err;
    }
    await removeRules(hash);
    await createNetwork(engine, {
      Name: name,
      CheckDuplicate: true,
      Driver: 'bridge',
      Internal: false,
      EnableIPv6: false,
      Options: {
        'com.docker.network.bridge.name': bridge,
        'com.docker.network.bridge.enable_icc': 'false',
        'com.docker.network.bridge.enable_ip_masquerade': 'true',
      },
      Labels: o.labels,
    });
    const info = await engine.json<NetworkInspect>('GET', `/networks/${encodeURIComponent(name)}`);
    const ipam = info.IPAM?.Config?.[0];
    if (ipam?.Gateway === undefined || ipam.Subnet === undefined) {
      throw new Error(`docker network ${name} has no IPv4 gateway`);
    }
    const notes: string[] = [];
    const firewall = await installRules(hash, bridge, o, notes);
    return new SandboxNetwork(engine, o, name, bridge, ipam.Subnet, ipam.Gateway, firewall, notes);
  }

  /**
   * The API host as containers must see it: unchanged when they can reach it, else the address of a relay
   * to it on the gateway. Values that are not http(s) URLs are left alone.
   */
  async apiHostFor(value: string): Promise<string> {
    let u: URL;
    try {
      u = new URL(value);
    } catch {
      return value;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return value;
    const host = u.hostname.replace(/^\[|\]$/g, '');
    if (!(await this.unreachable(host))) return value;
    const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
    const relay = await this.relay(host, port);
    const rest = u.pathname === '/' && !value.endsWith('/') ? '' : `${u.pathname}${u.search}${u.hash}`;
    return `${u.protocol}//${this.gateway}:${relay.port}${rest}`;
  }

  /** True when containers cannot reach this host directly: the host itself, loopback, a blocked range. */
  private async unreachable(host: string): Promise<boolean> {
    let addresses: string[];
    if (net.isIP(host) !== 0) addresses = [host];
    else if (host === 'localhost') addresses = ['127.0.0.1'];
    else {
      let p = this.resolved.get(host);
      if (p === undefined) {
        p = lookup(host, { all: true }).then(
          (rs) => rs.map((r) => r.address),
          () => [],
        );
        this.resolved.set(host, p);
      }
      addresses = await p;
    }
    const local = localAddresses();
    return addresses.some(
      (a) =>
        a.startsWith('127.') || a === '::1' || local.has(a) || this.o.blocked.some((cidr) => inCidr(a, cidr)),
    );
  }

  private relay(host: string, port: number): Promise<TcpRelay> {
    const key = `${host}|${port}`;
    let p = this.relays.get(key);
    if (p === undefined) {
      p = (async () => {
        const relay = await TcpRelay.open(this.gateway, { host, port });
        if (this.firewall) {
          const args = ['-p', 'tcp', '-d', this.gateway, '--dport', String(relay.port), '-j', 'ACCEPT'];
          const r = await run('iptables', ['-w', '-I', this.inChain, '1', ...args]);
          if (!r.ok) {
            await relay.close();
            throw new Error(`cannot open the API relay in the firewall: ${r.out}`);
          }
        }
        return relay;
      })();
      this.relays.set(key, p);
      p.catch(() => this.relays.delete(key));
    }
    return p;
  }

  /** Closes the relays, removes the rules and the network (its containers must be gone). */
  async close(): Promise<void> {
    await Promise.all([...this.relays.values()].map((p) => p.then((r) => r.close()).catch(() => undefined)));
    this.relays.clear();
    await removeRules(this.hash);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.engine.call('DELETE', `/networks/${encodeURIComponent(this.name)}`);
        return;
      } catch (err) {
        if (err instanceof DockerError && err.status === 404) return;
        // Endpoints of just-removed containers can linger for a moment.
        if (attempt >= 10) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}

async function createNetwork(engine: DockerEngine, body: Record<string, unknown>): Promise<void> {
  try {
    await engine.json('POST', '/networks/create', { body });
  } catch (err) {
    if (err instanceof DockerError && /available|overlapping/i.test(err.message)) {
      // Docker's default address pools hold about thirty bridge networks.
      throw new Error(
        `Docker has no address range left for network ${String(body.Name)} (${err.message}): remove unused networks (\`docker network prune\`; networks named whirl-* left by crashed Whirl instances are safe to remove when no container uses them)`,
      );
    }
    throw err;
  }
}

async function iptablesUsable(notes: string[]): Promise<boolean> {
  if (process.getuid?.() !== 0) {
    notes.push('not running as root: no firewall rules; containers can reach services on the host');
    return false;
  }
  const probe = await run('iptables', ['-w', '-S', 'INPUT']);
  if (!probe.ok) {
    notes.push(`iptables unusable (${probe.out.slice(0, 200)}): containers can reach services on the host`);
    return false;
  }
  return true;
}

async function installRules(
  hash: string,
  bridge: string,
  o: NetworkOptions,
  notes: string[],
): Promise<boolean> {
  if (!(await iptablesUsable(notes))) return false;
  const inChain = `WHIRL-IN-${hash}`;
  const fwdChain = `WHIRL-FWD-${hash}`;
  const rules: string[][] = [
    ['-N', inChain],
    ['-A', inChain, '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT'],
    // Reset or "unreachable" rather than a silent drop: a blocked connection fails at once, not by timeout.
    ['-A', inChain, '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset'],
    ['-A', inChain, '-j', 'REJECT', '--reject-with', 'icmp-port-unreachable'],
    ['-N', fwdChain],
    ['-A', fwdChain, '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'RETURN'],
  ];
  for (const ns of nameservers()) {
    for (const proto of ['udp', 'tcp'])
      rules.push(['-A', fwdChain, '-d', ns, '-p', proto, '--dport', '53', '-j', 'RETURN']);
  }
  const reject = (match: string[]) => [
    ['-A', fwdChain, ...match, '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset'],
    ['-A', fwdChain, ...match, '-j', 'REJECT', '--reject-with', 'icmp-net-unreachable'],
  ];
  for (const cidr of o.blocked) rules.push(...reject(['-d', cidr]));
  if (o.egress === 'none') rules.push(...reject([]));
  // Docker evaluates DOCKER-USER before its own forwarding rules; without it (dockerd --iptables=false),
  // FORWARD itself.
  const forward = (await run('iptables', ['-w', '-S', 'DOCKER-USER'])).ok ? 'DOCKER-USER' : 'FORWARD';
  rules.push(['-I', 'INPUT', '1', '-i', bridge, '-j', inChain]);
  rules.push(['-I', forward, '1', '-i', bridge, '-j', fwdChain]);
  for (const r of rules) {
    const res = await run('iptables', ['-w', ...r]);
    if (!res.ok) {
      notes.push(
        `firewall rule failed (iptables ${r.join(' ')}: ${res.out}); containers can reach host services`,
      );
      await removeRules(hash);
      return false;
    }
  }
  notes.push(
    `network ${o.egress === 'none' ? 'without egress' : 'with internet egress'}: host services and ${o.blocked.join(', ')} unreachable, the Whirl API relayed; no traffic between containers`,
  );
  return true;
}

/** Removes the instance's chains and every jump to them (idempotent; leftovers of a crash included). */
export async function removeRules(hash: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  for (const chain of [`WHIRL-IN-${hash}`, `WHIRL-FWD-${hash}`]) {
    for (const parent of ['INPUT', 'FORWARD', 'DOCKER-USER']) {
      const listed = await run('iptables', ['-w', '-S', parent]);
      if (!listed.ok) continue;
      for (const line of listed.out.split('\n')) {
        if (!line.startsWith('-A ') || !line.endsWith(`-j ${chain}`)) continue;
        await run('iptables', ['-w', '-D', ...line.slice(3).split(' ')]);
      }
    }
    await run('iptables', ['-w', '-F', chain]);
    await run('iptables', ['-w', '-X', chain]);
  }
}
