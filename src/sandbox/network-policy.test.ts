import { describe, expect, it } from 'vitest';
import { DEFAULT_BLOCKED_NETWORKS, inCidr, networkPolicy } from './network-policy.js';

describe('network policy', () => {
  it('blocks private, shared and link-local ranges and lets the internet through by default', () => {
    expect(networkPolicy({})).toEqual({ egress: 'internet', blocked: DEFAULT_BLOCKED_NETWORKS });
    const blocked = (ip: string) => DEFAULT_BLOCKED_NETWORKS.some((c) => inCidr(ip, c));
    for (const ip of ['10.1.2.3', '172.20.0.5', '192.168.1.1', '100.64.0.1', '169.254.169.254'])
      expect(blocked(ip), ip).toBe(true);
    for (const ip of ['8.8.8.8', '172.32.0.1', '192.0.2.2', '1.1.1.1']) expect(blocked(ip), ip).toBe(false);
  });

  it('takes WHIRL_EGRESS and WHIRL_BLOCKED_NETWORKS from the environment, and refuses nonsense', () => {
    expect(
      networkPolicy({ WHIRL_EGRESS: 'none', WHIRL_BLOCKED_NETWORKS: '10.0.0.0/8, 192.168.0.0/16,' }),
    ).toEqual({
      egress: 'none',
      blocked: ['10.0.0.0/8', '192.168.0.0/16'],
    });
    expect(() => networkPolicy({ WHIRL_EGRESS: 'sometimes' })).toThrow(
      /WHIRL_EGRESS must be internet or none/,
    );
  });

  it('matches CIDRs exactly', () => {
    expect(inCidr('10.233.4.5', '10.233.0.0/16')).toBe(true);
    expect(inCidr('10.234.0.1', '10.233.0.0/16')).toBe(false);
    expect(inCidr('1.2.3.4', '0.0.0.0/0')).toBe(true);
    expect(inCidr('::1', '10.0.0.0/8')).toBe(false);
  });
});
