import { normalizeIp } from '@nestjs/throttler';
import { FastifyRequest } from 'fastify';
import { isIP } from 'node:net';

/** The key of a request whose address cannot be known (its socket already closed). */
export const UNKNOWN_CLIENT = 'unknown';

/**
 * The client's address for rate limiting. It is Fastify's `request.ip`, which follows
 * X-Forwarded-For only as far as the `trustProxy` option (TRUST_PROXY) allows, so nothing here
 * parses the header. A forwarded entry that is not an IP address (a proxy's "unknown", a
 * client's garbage) never becomes a key: each distinct string would be a fresh bucket, so the
 * peer address is used instead. IPv6 clients are grouped by `ipv6Prefix` bits, the block one
 * client usually controls; IPv4-mapped IPv6 addresses count as the IPv4 address they carry.
 */
export function clientIp(request: FastifyRequest, ipv6Prefix: number): string {
  const forwarded = request.ip;
  const address = isIP(forwarded) !== 0 ? forwarded : request.raw.socket.remoteAddress;
  if (address === undefined || isIP(address) === 0) return UNKNOWN_CLIENT;
  return normalizeIp(address, ipv6Prefix);
}
