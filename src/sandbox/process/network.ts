/**
 * Network isolation for process sandboxes: each sandbox gets its own network namespace with one veth link
 * to the host and an address in this instance's 10.233.<slot>.0/24. An nftables table of this instance:
 * - lets a sandbox reach the Whirl API, through a relay on the instance's gateway address;
 * - drops everything else addressed to the host itself (databases, buses, any local service);
 * - drops traffic between sandboxes, and to the blocked ranges of the network policy (private, shared and
 *   link-local: a cluster's internal services, cloud metadata) except DNS to the host's resolvers;
 * - masquerades the rest, so the outside world is reachable (unless a sandbox is API-only: no default route).
 * Needs root, `ip` (iproute2) and `nft` (nftables); without them sandboxes share the host's network.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { inCidr, nameservers, type NetworkPolicy } from '../network-policy.js';

const SUBNET = '10.233';

function which(cmd: string): boolean {
  return (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin')
    .split(':')
    .concat(['/usr/sbin', '/sbin'])
    .some((d) => existsSync(join(d, cmd)));
}

/** Runs `ip -batch -` (or nft -f -) with the given commands on stdin. */
function run(cmd: string, args: string[], input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} failed: ${err.trim()}`))));
    child.stdin.end(input);
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Everything a sandbox needs to join the network. */
export interface Attachment {
  iface: string;
  address: string;
  /** `ip -batch` commands the sandbox runs inside its namespace (before dropping privileges). */
  insideCommands: string;
}

export class SandboxNetwork {
  readonly gateway: string;
  private readonly table: string;
  private readonly prefix: string;
  private readonly free: number[] = [];
  private readonly relays = new Map<string, Promise<string>>();
  private readonly servers: net.Server[] = [];
  private seq = 0;

  private constructor(
    private readonly slot: number,
    private readonly policy: NetworkPolicy,
  ) {
    this.gateway = `${SUBNET}.${slot}.1`;
    this.table = `whirl_s${slot}_p${process.pid}`;
    this.prefix = `wh${slot.toString(16).padStart(2, '0')}-`;
    for (let host = 2; host < 255; host++) this.free.push(host);
  }

  /** Sets up this instance's slot and firewall, or says why it cannot. */
  static async open(policy: NetworkPolicy): Promise<SandboxNetwork | { unavailable: string }> {
    if (process.platform !== 'linux' || process.getuid?.() !== 0)
      return { unavailable: 'needs root on Linux' };
    if (!which('ip') || !which('nft')) return { unavailable: 'needs `ip` (iproute2) and `nft` (nftables)' };
    sweepStale();
    const used = new Set(
      (
        spawnSync('ip', ['-4', '-o', 'addr', 'show', 'dev', 'lo'])
          .stdout.toString()
          .match(/10\.233\.\d+\.1\//g) ?? []
      ).map((a) => Number(a.split('.')[2])),
    );
    // Several Whirl instances may share a host (tests do): each takes a free /24, claimed atomically by
    // adding its gateway address (the kernel refuses a duplicate).
    for (let i = 0; i < 256; i++) {
      const slot = (process.pid + i) % 256;
      if (used.has(slot)) continue;
      if (spawnSync('ip', ['addr', 'add', `${SUBNET}.${slot}.1/32`, 'dev', 'lo']).status !== 0) continue;
      const network = new SandboxNetwork(slot, policy);
      try {
        await network.install();
        return network;
      } catch (err) {
        await network.close();
        return { unavailable: (err as Error).message };
      }
    }
    return { unavailable: `no free ${SUBNET}.x.0/24 slot` };
  }

  private async install(): Promise<void> {
    // Forwarding is what lets sandboxes reach the outside through the host.
    writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
    const sandboxes = `iifname "${this.prefix}*"`;
    const deny = outermost([`${SUBNET}.0.0/16`, ...this.policy.blocked]).join(', ');
    const resolvers = nameservers();
    const dns =
      resolvers.length === 0
        ? ''
        : `${sandboxes} ip daddr { ${resolvers.join(', ')} } meta l4proto { tcp, udp } th dport 53 accept`;
    await run(
      'nft',
      ['-f', '-'],
      `table inet ${this.table} {
        chain input {
          type filter hook input priority -10; policy accept;
          ${sandboxes} ct state established,related accept
          ${sandboxes} meta l4proto tcp reject with tcp reset
          ${sandboxes} reject
        }
        chain forward {
          type filter hook forward priority -10; policy accept;
          ${dns}
          ${sandboxes} ip daddr { ${deny} } reject
          ${sandboxes} meta nfproto ipv6 reject
          ${sandboxes} accept
          oifname "${this.prefix}*" ct state established,related accept
          oifname "${this.prefix}*" reject
        }
        chain postrouting {
          type nat hook postrouting priority 100; policy accept;
          ip saddr ${SUBNET}.${this.slot}.0/24 oifname != "${this.prefix}*" masquerade
        }
      }\n`,
    );
    dockerUserRules('-I', this.prefix);
  }

  /**
   * The API host sandboxes should use for `target` (e.g. http://127.0.0.1:3233): a relay on the gateway
   * address, same port, opened in the firewall.
   */
  apiHostFor(target: string): Promise<string> {
    let relay = this.relays.get(target);
    if (relay === undefined) {
      relay = this.openRelay(new URL(target));
      this.relays.set(target, relay);
    }
    return relay;
  }

  private async openRelay(target: URL): Promise<string> {
    const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
    const host = target.hostname.replace(/^\[|\]$/g, '');
    const server = net.createServer((inbound) => {
      const upstream = net.connect({ host, port });
      inbound.pipe(upstream).pipe(inbound);
      const close = () => {
        inbound.destroy();
        upstream.destroy();
      };
      inbound.on('error', close);
      upstream.on('error', close);
    });
    const listenPort = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      // The same port as the API when free on the gateway address, so URLs read alike.
      server.listen(port, this.gateway, () => resolve((server.address() as net.AddressInfo).port));
    }).catch(
      () =>
        new Promise<number>((resolve) =>
          server.listen(0, this.gateway, () => resolve((server.address() as net.AddressInfo).port)),
        ),
    );
    this.servers.push(server);
    await run(
      'nft',
      ['-f', '-'],
      `insert rule inet ${this.table} input iifname "${this.prefix}*" ip daddr ${this.gateway} tcp dport ${listenPort} accept\n`,
    );
    return `${target.protocol}//${this.gateway}:${listenPort}`;
  }

  /** Reserves an address and interface name for a new sandbox. */
  reserve(outbound: boolean): Attachment {
    const host = this.free.shift();
    if (host === undefined) throw new Error('no free sandbox address');
    const address = `${SUBNET}.${this.slot}.${host}`;
    const iface = `${this.prefix}${(this.seq++ % 46656).toString(36)}`;
    const inside = [
      'link set lo up',
      `addr add ${address}/32 dev eth0`,
      'link set eth0 up',
      `route add ${this.gateway} dev eth0`,
      ...(outbound ? [`route add default via ${this.gateway} dev eth0`] : []),
    ];
    return { iface, address, insideCommands: `${inside.join('\n')}\n` };
  }

  /** Creates the veth link into the namespace of `pid` (a process of the sandbox). */
  async attach(a: Attachment, pid: number): Promise<void> {
    await run(
      'ip',
      ['-batch', '-'],
      `link add ${a.iface} type veth peer name eth0 netns ${pid}\nlink set ${a.iface} up\nroute add ${a.address}/32 dev ${a.iface}\n`,
    );
  }

  /** Returns the address (the veth went away with the sandbox's namespace). */
  release(a: Attachment): void {
    const host = Number(a.address.split('.')[3]);
    if (!this.free.includes(host)) this.free.push(host);
  }

  async close(): Promise<void> {
    for (const s of this.servers) s.close();
    spawnSync('nft', ['delete', 'table', 'inet', this.table]);
    spawnSync('ip', ['addr', 'del', `${this.gateway}/32`, 'dev', 'lo']);
    dockerUserRules('-D', this.prefix);
  }
}

/**
 * Docker sets the host's iptables FORWARD policy to DROP when it enables forwarding itself, which would
 * drop sandbox traffic our own table accepted; DOCKER-USER is where Docker lets others accept theirs.
 */
function dockerUserRules(op: '-I' | '-D', prefix: string): void {
  if (spawnSync('iptables', ['-S', 'DOCKER-USER']).status !== 0) return;
  spawnSync('iptables', [op, 'DOCKER-USER', '-i', `${prefix}+`, '-j', 'ACCEPT']);
  spawnSync('iptables', [
    op,
    'DOCKER-USER',
    '-o',
    `${prefix}+`,
    '-m',
    'conntrack',
    '--ctstate',
    'RELATED,ESTABLISHED',
    '-j',
    'ACCEPT',
  ]);
}

/** The ranges not inside another one of the list (nftables refuses overlapping set elements). */
function outermost(cidrs: string[]): string[] {
  const bits = (c: string) => Number(c.split('/')[1] ?? 32);
  return [...new Set(cidrs)].filter(
    (c) => !cidrs.some((o) => o !== c && bits(o) < bits(c) && inCidr(c.split('/')[0]!, o)),
  );
}

/** Removes tables and addresses left by Whirl processes that died without cleaning up (kill -9). */
function sweepStale(): void {
  const tables = spawnSync('nft', ['list', 'tables']).stdout.toString();
  for (const m of tables.matchAll(/table inet (whirl_s(\d+)_p(\d+))/g)) {
    if (pidAlive(Number(m[3]))) continue;
    spawnSync('nft', ['delete', 'table', 'inet', m[1]!]);
    spawnSync('ip', ['addr', 'del', `${SUBNET}.${m[2]}.1/32`, 'dev', 'lo']);
    dockerUserRules('-D', `wh${Number(m[2]).toString(16).padStart(2, '0')}-`);
  }
}
