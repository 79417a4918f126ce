import { FastifyRequest } from 'fastify';
import { clientIp } from './client-ip';

function request(remoteAddress: string | undefined, forwardedFor?: string | string[]) {
  return {
    raw: { socket: { remoteAddress } },
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  } as unknown as FastifyRequest;
}

describe('clientIp', () => {
  describe('with no trusted proxy (TRUST_PROXY=false)', () => {
    it('uses the socket address', () => {
      expect(clientIp(request('203.0.113.7'), 0)).toBe('203.0.113.7');
    });

    it('ignores X-Forwarded-For, which any client can write', () => {
      expect(clientIp(request('203.0.113.7', '198.51.100.1'), 0)).toBe('203.0.113.7');
    });

    it('strips the IPv4-mapped IPv6 prefix', () => {
      expect(clientIp(request('::ffff:203.0.113.7'), 0)).toBe('203.0.113.7');
    });

    it('groups IPv6 clients by their /64', () => {
      const a = clientIp(request('2001:db8:1:2:aaaa::1'), 0);
      const b = clientIp(request('2001:db8:1:2:bbbb::2'), 0);
      const other = clientIp(request('2001:db8:1:3::1'), 0);
      expect(a).toBe('2001:db8:1:2::/64');
      expect(b).toBe(a);
      expect(other).not.toBe(a);
    });

    it('keeps IPv6 loopback as one address', () => {
      expect(clientIp(request('::1'), 0)).toBe('::1');
    });

    it('falls back to a fixed key when the socket has no address (already closed)', () => {
      expect(clientIp(request(undefined), 0)).toBe('unknown');
    });
  });

  describe('behind trusted proxies', () => {
    it('with one hop, takes the address the proxy saw (the last X-Forwarded-For entry)', () => {
      expect(clientIp(request('10.0.0.2', '198.51.100.1'), 1)).toBe('198.51.100.1');
    });

    it('with one hop, ignores entries the client prepended itself', () => {
      expect(clientIp(request('10.0.0.2', '1.1.1.1, 2.2.2.2, 198.51.100.1'), 1)).toBe(
        '198.51.100.1',
      );
    });

    it('with two hops, takes the address the outer proxy saw', () => {
      expect(clientIp(request('10.0.0.2', 'spoofed, 198.51.100.1, 10.0.0.1'), 2)).toBe(
        '198.51.100.1',
      );
    });

    it('joins repeated X-Forwarded-For headers in order', () => {
      expect(clientIp(request('10.0.0.2', ['spoofed', '198.51.100.1']), 1)).toBe('198.51.100.1');
    });

    it('tolerates spaces and empty entries', () => {
      expect(clientIp(request('10.0.0.2', ' , 198.51.100.1 ,, '), 1)).toBe('198.51.100.1');
    });

    it('uses the socket address when the proxy sent no X-Forwarded-For', () => {
      expect(clientIp(request('10.0.0.2'), 1)).toBe('10.0.0.2');
    });

    it('uses the leftmost entry when the chain is shorter than the hop count', () => {
      expect(clientIp(request('10.0.0.2', '198.51.100.1'), 3)).toBe('198.51.100.1');
    });

    it('normalises forwarded IPv6 addresses to their /64 too', () => {
      expect(clientIp(request('10.0.0.2', '2001:db8:9:9::1234'), 1)).toBe('2001:db8:9:9::/64');
      expect(clientIp(request('10.0.0.2', '::ffff:198.51.100.1'), 1)).toBe('198.51.100.1');
    });
  });
});
