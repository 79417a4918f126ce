import { FastifyServerOptions } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { Duplex } from 'node:stream';
import { PROBLEM_CONTENT_TYPE } from './problem-details.filter';

const DETAILS: Record<number, string> = {
  400: 'The request is not valid HTTP.',
  408: 'The request took too long to arrive; the connection is closed.',
  // Node counts the request line (the URL) in the same limit as the headers, and cannot say
  // which one overflowed once the request spans several packets: one answer for both.
  431: 'The request line and headers are too large (16 KiB at most).',
};

/**
 * Answers requests Node refuses before Fastify sees them (malformed HTTP, headers over Node's
 * 16 KiB limit, a client too slow to send its request) with the same problem+json body as every
 * other error, instead of Fastify's own JSON. The connection is closed: its state is unknown.
 */
export const clientErrorHandler: NonNullable<FastifyServerOptions['clientErrorHandler']> = (
  error,
  socket: Duplex,
) => {
  const { code } = error as NodeJS.ErrnoException;
  // A reset connection has no one left to answer.
  if (code === 'ECONNRESET' || socket.destroyed) return;
  const status =
    code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const body = JSON.stringify({
    type: 'about:blank',
    title: STATUS_CODES[status],
    status,
    detail: DETAILS[status],
  });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  }
  socket.destroy(error);
};
