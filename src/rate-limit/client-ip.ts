import { normalizeIp } from '@nestjs/throttler';
import { FastifyRequest } from 'fastify';

/**
 * The client's address for rate limiting. X-Forwarded-For is honoured only for as many hops as
 * TRUST_PROXY says: a client can write anything into that header, so with no trusted proxy it
 * is ignored, and with N proxies only the address the outermost trusted proxy saw is used.
 * IPv6 addresses are grouped by /64, the block one client usually controls.
 */
export function clientIp(request: FastifyRequest, trustedProxyHops: number): string {
  const socketAddress = request.raw.socket.remoteAddress ?? 'unknown';
  let address = socketAddress;
  if (trustedProxyHops > 0) {
    const header = request.headers['x-forwarded-for'];
    const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
    const chain = [...forwarded, socketAddress];
    address = chain[Math.max(0, chain.length - 1 - trustedProxyHops)];
  }
  return normalizeIp(address.replace(/^::ffff:/, ''));
}
