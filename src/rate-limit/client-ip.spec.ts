import { FastifyRequest } from 'fastify';
import { clientIp, UNKNOWN_CLIENT } from './client-ip';

/** A request as Fastify hands it over: `ip` already resolved through trustProxy. */
function request(ip: string | undefined, peer: string | undefined = ip) {
  return { ip, raw: { socket: { remoteAddress: peer } } } as unknown as FastifyRequest;
}

describe('clientIp', () => {
  it("uses Fastify's request.ip", () => {
    expect(clientIp(request('198.51.100.1', '10.0.0.2'), 64)).toBe('198.51.100.1');
  });

  it.each(['unknown', 'garbage', '198.51.100.1:443', '', '1.2.3.4.5', '[::1]', '_hidden'])(
    'never keys on a forwarded entry that is not an IP address (%j): the peer address instead',
    (forwarded) => {
      expect(clientIp(request(forwarded, '10.0.0.2'), 64)).toBe('10.0.0.2');
    },
  );

  it('falls back to a fixed key when the socket has no address (already closed)', () => {
    expect(clientIp(request(undefined, undefined), 64)).toBe(UNKNOWN_CLIENT);
    expect(clientIp(request('garbage', undefined), 64)).toBe(UNKNOWN_CLIENT);
  });

  it('counts an IPv4-mapped IPv6 address as the IPv4 address', () => {
    expect(clientIp(request('::ffff:203.0.113.7'), 64)).toBe('203.0.113.7');
  });

  it('groups IPv6 clients by /64 by default', () => {
    const a = clientIp(request('2001:db8:1:2:aaaa::1'), 64);
    const b = clientIp(request('2001:db8:1:2:bbbb::2'), 64);
    const other = clientIp(request('2001:db8:1:3::1'), 64);
    expect(a).toBe('2001:db8:1:2::/64');
    expect(b).toBe(a);
    expect(other).not.toBe(a);
  });

  it('groups IPv6 clients by the configured prefix', () => {
    expect(clientIp(request('2001:db8:1:2ff::1'), 56)).toBe('2001:db8:1:200::/56');
    expect(clientIp(request('2001:db8:1:2ff::1'), 128)).toBe('2001:db8:1:2ff::1/128');
  });

  it('ignores an IPv6 zone id', () => {
    expect(clientIp(request('fe80::1:2:3:4%eth0'), 64)).toBe('fe80::/64');
  });

  it('keeps IPv6 loopback as one address', () => {
    expect(clientIp(request('::1'), 64)).toBe('::1');
  });
});
