import {
  ArgumentsHost,
  BadRequestException,
  ForbiddenException,
  HttpException,
  InternalServerErrorException,
  NotFoundException,
  PayloadTooLargeException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { ThrottlerException } from '@nestjs/throttler';
import { QueryFailedError } from 'typeorm';
import { RequestValidationException, RetryableUnavailableException } from './common.errors';
import { ProblemDetailsFilter } from './problem-details.filter';
import { ProblemException } from './problem.exception';

/** Shaped like auth's errors, which the filter must handle without knowing auth. */
class KeysUnavailableException extends RetryableUnavailableException {
  constructor() {
    super('The signing keys cannot be fetched right now; retry later.', 5, { logged: true });
  }
}

function unauthorized(challenge: string): ProblemException {
  return new ProblemException(401, 'The bearer token was rejected.', {
    headers: { 'www-authenticate': challenge },
  });
}

interface Sent {
  status: number;
  headers: Record<string, string>;
  contentType: string;
  body: Record<string, unknown>;
}

/** The Fastify request and reply calls the filter makes, recorded. */
function harness(url = '/api/todos/42?verbose=1') {
  const log = { error: jest.fn(), warn: jest.fn() };
  const request = { url, id: 'req-1', log };
  const sent: Partial<Sent> & { headers: Record<string, string> } = { headers: {} };
  const reply = {
    status(code: number) {
      sent.status = code;
      return reply;
    },
    headers(values: Record<string, string>) {
      Object.assign(sent.headers, values);
      return reply;
    },
    type(value: string) {
      sent.contentType = value;
      return reply;
    },
    send(payload: string) {
      sent.body = JSON.parse(payload) as Record<string, unknown>;
      return reply;
    },
  };
  const host: ArgumentsHost = new ExecutionContextHost([request, reply]);
  return {
    log,
    handle(exception: unknown): Sent {
      new ProblemDetailsFilter().catch(exception, host);
      return sent as Sent;
    },
  };
}

/** An error shaped like the ones Fastify raises itself (e.g. from its content-type parser). */
function fastifyError(code: string, statusCode: number, message: string): Error {
  return Object.assign(new Error(message), { code, statusCode });
}

const SECRET_TEXT = 'relation "todos" violates SELECT * FROM users WHERE password = $1';

describe('ProblemDetailsFilter', () => {
  it('answers an HttpException with an RFC 9457 body and its own message', () => {
    const { handle, log } = harness();
    const sent = handle(new NotFoundException('Todo not found.'));
    expect(sent).toEqual({
      status: 404,
      headers: {},
      contentType: 'application/problem+json',
      body: {
        type: 'about:blank',
        title: 'Not Found',
        status: 404,
        detail: 'Todo not found.',
        instance: '/api/todos/42',
        requestId: 'req-1',
      },
    });
    expect(log.error).not.toHaveBeenCalled();
  });

  it('keeps 4xx messages, including the array form of a BadRequestException', () => {
    const { handle } = harness();
    expect(handle(new ForbiddenException('Not yours.')).body.detail).toBe('Not yours.');
    expect(handle(new BadRequestException(['a is bad', 'b is bad'])).body.detail).toBe(
      'a is bad; b is bad',
    );
    expect(handle(new HttpException('Precondition Failed', 412)).body).toMatchObject({
      status: 412,
      title: 'Precondition Failed',
      detail: 'Precondition Failed',
    });
  });

  it('answers validation failures with 400 and one entry per field', () => {
    const { handle } = harness();
    const sent = handle(
      new RequestValidationException([
        { field: 'title', message: 'title must be shorter than or equal to 200 characters' },
        { field: 'completed', message: 'completed must be a boolean value' },
      ]),
    );
    expect(sent.status).toBe(400);
    expect(sent.contentType).toBe('application/problem+json');
    expect(sent.body).toMatchObject({
      title: 'Bad Request',
      detail: 'Request validation failed: title, completed.',
      errors: [
        { field: 'title', message: 'title must be shorter than or equal to 200 characters' },
        { field: 'completed', message: 'completed must be a boolean value' },
      ],
    });
  });

  it.each([
    ['a plain Error', new Error(SECRET_TEXT)],
    [
      'a TypeError from a bug',
      new TypeError(`Cannot read properties of undefined (${SECRET_TEXT})`),
    ],
    ['an InternalServerErrorException', new InternalServerErrorException(SECRET_TEXT)],
    ['a QueryFailedError', new QueryFailedError('SELECT 1', [], new Error(SECRET_TEXT))],
    ['a thrown string', SECRET_TEXT],
  ])('hides the message of %s behind a generic 500 and logs it with the request id', (_, error) => {
    const { handle, log } = harness();
    const sent = handle(error);
    expect(sent.status).toBe(500);
    expect(sent.body).toMatchObject({ title: 'Internal Server Error', requestId: 'req-1' });
    expect(sent.body.detail).toMatch(/unexpected error/);
    expect(JSON.stringify(sent)).not.toMatch(/SELECT|password|relation|undefined/);
    expect(log.error).toHaveBeenCalledTimes(1);
    expect(log.error).toHaveBeenCalledWith({ err: error }, 'request failed');
  });

  it('hides the message of any 5xx HttpException', () => {
    const { handle, log } = harness();
    const sent = handle(new HttpException(SECRET_TEXT, 502));
    expect(sent.status).toBe(502);
    expect(JSON.stringify(sent.body)).not.toContain('SELECT');
    expect(log.error).toHaveBeenCalledTimes(1);
  });

  it('answers a ProblemException with its status, detail and headers, logging a 503 once', () => {
    const { handle, log } = harness();
    const sent = handle(
      new ProblemException(503, 'The database is unavailable; retry shortly.', {
        headers: { 'retry-after': '5' },
        cause: Object.assign(new Error(SECRET_TEXT), { code: 'ECONNREFUSED' }),
      }),
    );
    expect(sent.status).toBe(503);
    expect(sent.headers).toEqual({ 'retry-after': '5' });
    expect(sent.contentType).toBe('application/problem+json');
    expect(sent.body).toMatchObject({
      title: 'Service Unavailable',
      detail: 'The database is unavailable; retry shortly.',
    });
    expect(JSON.stringify(sent.body)).not.toMatch(/SELECT|password/);
    // A dependency outage is not a bug: one warning, with the cause, no error-level stack trace.
    expect(log.error).not.toHaveBeenCalled();
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(log.warn).toHaveBeenCalledWith({ reason: SECRET_TEXT }, 'dependency unavailable');
  });

  it('does not log a 503 again when the code that threw it already did', () => {
    const { handle, log } = harness();
    expect(handle(new KeysUnavailableException()).status).toBe(503);
    expect(log.warn).not.toHaveBeenCalled();
    expect(log.error).not.toHaveBeenCalled();
  });

  it('knows no driver error: an unclassified connection error is a 500 like any other bug', () => {
    const { handle } = harness();
    const error = Object.assign(new Error(SECRET_TEXT), { code: 'ECONNREFUSED' });
    expect(handle(error).status).toBe(500);
  });

  it('answers keys-unavailable with 503 and its own Retry-After and message', () => {
    const { handle } = harness();
    const sent = handle(new KeysUnavailableException());
    expect(sent.status).toBe(503);
    expect(sent.headers).toEqual({ 'retry-after': '5' });
    expect(sent.body.detail).toMatch(/signing keys/);
  });

  it('answers a bare ServiceUnavailableException with the generic 503 text', () => {
    const { handle } = harness();
    const sent = handle(new ServiceUnavailableException(SECRET_TEXT));
    expect(sent.status).toBe(503);
    expect(sent.body.detail).toBe('The service is temporarily unavailable; retry shortly.');
  });

  it('adds the RFC 6750 challenge to 401s', () => {
    const { handle } = harness();
    expect(handle(unauthorized('Bearer realm="api"')).headers).toEqual({
      'www-authenticate': 'Bearer realm="api"',
    });
    const invalid = handle(
      unauthorized('Bearer realm="api", error="invalid_token", error_description="token expired"'),
    );
    expect(invalid.status).toBe(401);
    expect(invalid.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="invalid_token", error_description="token expired"',
    );
  });

  it('answers the throttler with 429 and its own wording', () => {
    const { handle } = harness();
    const sent = handle(new ThrottlerException());
    expect(sent.status).toBe(429);
    expect(sent.body).toMatchObject({ title: 'Too Many Requests', detail: /slow down/ });
  });

  it.each([
    ['FST_ERR_CTP_BODY_TOO_LARGE', 413, 'The request body exceeds the 64 KiB limit.'],
    ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, 'Unsupported Content-Type: send application/json.'],
    ['FST_ERR_CTP_INVALID_JSON_BODY', 400, 'The request body is not valid JSON.'],
    ['FST_ERR_CTP_EMPTY_JSON_BODY', 400, 'The request body is empty but Content-Type says JSON.'],
    ['FST_ERR_SOMETHING_NEW', 400, 'Bad Request.'],
  ])('answers Fastify error %s with %i and our wording', (code, status, detail) => {
    const { handle } = harness();
    const raw = fastifyError(code, status, `Fastify internals: ${code}`);
    // Fastify's own error, and the same error as Nest hands it over (wrapped, with the cause).
    for (const exception of [raw, new PayloadTooLargeException(raw.message, { cause: raw })]) {
      const sent = handle(exception);
      expect(sent.status).toBe(status);
      expect(sent.body.detail).toBe(detail);
      expect(sent.contentType).toBe('application/problem+json');
    }
  });

  it("answers Fastify's handler timeout (HTTP_HANDLER_TIMEOUT_MS) with 503 and Retry-After", () => {
    const { handle, log } = harness();
    const sent = handle(
      fastifyError('FST_ERR_HANDLER_TIMEOUT', 503, "Request timed out after 3000ms on route '/x'"),
    );
    expect(sent.status).toBe(503);
    expect(sent.headers).toEqual({ 'retry-after': '5' });
    expect(sent.body.detail).toBe('The request took too long to process; retry shortly.');
    expect(log.error).not.toHaveBeenCalled();
    expect(log.warn).toHaveBeenCalledTimes(1);
  });

  it('never takes a 5xx status from an error that only looks like Fastify', () => {
    const { handle } = harness();
    expect(handle(fastifyError('FST_ERR_FAKE', 500, SECRET_TEXT)).body.detail).not.toContain(
      'SELECT',
    );
  });
});
