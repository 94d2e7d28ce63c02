import { BlockList } from 'node:net';
import { describe, expect, it } from 'vitest';
import { hookAliasSchema } from './config.js';
import { peerAllowed } from './gateways.js';

describe('the alias allow-list', () => {
  const list = new BlockList();
  list.addAddress('10.0.3.7', 'ipv4');
  list.addSubnet('10.0.4.0', 24, 'ipv4');
  list.addSubnet('fd00:1::', 64, 'ipv6');

  it('matches addresses and ranges, IPv4 peers on a dual-stack socket too', () => {
    expect(peerAllowed(list, '10.0.3.7')).toBe(true);
    expect(peerAllowed(list, '::ffff:10.0.3.7')).toBe(true);
    expect(peerAllowed(list, '10.0.4.200')).toBe(true);
    expect(peerAllowed(list, 'fd00:1::42')).toBe(true);
    expect(peerAllowed(list, '10.0.3.8')).toBe(false);
    expect(peerAllowed(list, '10.0.5.1')).toBe(false);
    expect(peerAllowed(list, 'fd00:2::1')).toBe(false);
    expect(peerAllowed(list, 'not-an-address')).toBe(false);
    expect(peerAllowed(new BlockList(), '10.0.3.7')).toBe(false);
  });

  it('the config refuses "everyone" and what is not an address', () => {
    const ok = (allowFrom: string[]) => hookAliasSchema.safeParse({ target: 'webhook1', allowFrom }).success;
    expect(ok(['10.0.3.7', '10.0.4.0/24', 'fd00:1::/64', '10.0.0.0/8'])).toBe(true);
    expect(ok(['0.0.0.0/0'])).toBe(false);
    expect(ok(['10.0.0.0/7'])).toBe(false);
    expect(ok(['::/0'])).toBe(false);
    expect(ok(['10.0.3.7/33'])).toBe(false);
    expect(ok(['alertmanager.internal'])).toBe(false);
    expect(ok(['10.0.3.7/24/1'])).toBe(false);
    expect(hookAliasSchema.safeParse({ target: '1st', allowFrom: [] }).success).toBe(false);
    // No allowFrom: the alias exists and asks for the route's credentials.
    expect(hookAliasSchema.parse({ target: 'webhook1' }).allowFrom).toEqual([]);
  });
});
