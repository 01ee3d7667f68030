/**
 * What actions may reach on the network, the same for every sandbox backend: the Whirl API always; the
 * host's own services and other sandboxes never; private, shared and link-local ranges (where a cluster's
 * database, broker and controllers live, and cloud metadata) never, except DNS to the host's resolvers; the
 * rest of the world unless egress is `none`. Operators adjust it with two environment variables:
 * `WHIRL_EGRESS=internet|none` and `WHIRL_BLOCKED_NETWORKS=cidr,cidr,...` (replaces the blocked ranges).
 */
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';

export type Egress = 'internet' | 'none';

/** Private (RFC 1918), shared (RFC 6598) and link-local ranges. */
export const DEFAULT_BLOCKED_NETWORKS: readonly string[] = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  '169.254.0.0/16',
];

export interface NetworkPolicy {
  egress: Egress;
  blocked: readonly string[];
}

export function networkPolicy(env: NodeJS.ProcessEnv = process.env): NetworkPolicy {
  const egress = env.WHIRL_EGRESS ?? 'internet';
  if (egress !== 'internet' && egress !== 'none') {
    throw new Error(`WHIRL_EGRESS must be internet or none, got '${egress}'`);
  }
  const blocked = env.WHIRL_BLOCKED_NETWORKS;
  return {
    egress,
    blocked:
      blocked === undefined
        ? DEFAULT_BLOCKED_NETWORKS
        : blocked
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== ''),
  };
}

/** IPv4 CIDR membership (sandbox networks are IPv4 only). */
export function inCidr(ip: string, cidr: string): boolean {
  const [base = '', bits = '32'] = cidr.split('/');
  if (!net.isIPv4(ip) || !net.isIPv4(base)) return false;
  const n = Number(bits);
  const toInt = (a: string) => a.split('.').reduce((acc, x) => (acc << 8) + Number(x), 0) >>> 0;
  const mask = n === 0 ? 0 : (~0 << (32 - n)) >>> 0;
  return (toInt(ip) & mask) === (toInt(base) & mask);
}

/**
 * The host's DNS resolvers that a sandbox can use: loopback ones (systemd-resolved's 127.0.0.53) are out
 * of a sandbox's reach, so their upstreams are taken instead.
 */
export function nameservers(): string[] {
  const found = new Set<string>();
  for (const file of ['/etc/resolv.conf', '/run/systemd/resolve/resolv.conf']) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const m = /^\s*nameserver\s+(\S+)/.exec(line);
      if (m && net.isIPv4(m[1]!) && !m[1]!.startsWith('127.')) found.add(m[1]!);
    }
  }
  return [...found];
}
