import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import { FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { DEFAULT_RETRY_AFTER_SECONDS } from './common.errors';
import { problemBody } from './problem-example';
import { FieldError, ProblemException } from './problem.exception';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

interface Problem {
  status: number;
  detail: string;
  headers?: Readonly<Record<string, string>>;
  errors?: readonly FieldError[];
}

/** The detail of every 429, whichever limit was hit. */
export const TOO_MANY_REQUESTS_DETAIL =
  'Too many requests; slow down and retry after the indicated delay.';

/** Messages for errors Fastify raises itself, before a request reaches Nest. */
export const FASTIFY_ERRORS: Record<string, string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Unsupported Content-Type: send application/json.',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'Content-Length does not match the body.',
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request body exceeds the 64 KiB limit.',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'The request body is empty but Content-Type says JSON.',
  FST_ERR_CTP_INVALID_JSON_BODY: 'The request body is not valid JSON.',
  FST_ERR_CTP_EMPTY_TYPE: 'The Content-Type header is empty.',
  FST_ERR_CTP_INVALID_TYPE: 'The Content-Type header is invalid.',
  FST_ERR_BAD_URL: 'The request URL is malformed.',
  FST_ERR_ASYNC_CONSTRAINT: 'The request could not be routed.',
};

/**
 * Turns every exception into an RFC 9457 problem. It knows only the shared ProblemException
 * (which features extend in their own folders), Nest's HttpException, the throttler's exception
 * and Fastify's own errors. Anything else is a bug: logged with the request id and answered
 * with a generic text, so no stack trace, SQL or library message ever reaches a client.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const context = host.switchToHttp();
    sendProblem(
      exception,
      context.getRequest<FastifyRequest>(),
      context.getResponse<FastifyReply>(),
    );
  }
}

/** Shared by the Nest filter and Fastify's own error handler (errors raised before routing). */
export function sendProblem(exception: unknown, request: FastifyRequest, reply: FastifyReply) {
  const problem = toProblem(exception);
  if (problem.status >= 500 && problem.status !== 503) {
    request.log.error({ err: exception }, 'request failed');
  } else if (
    problem.status === 503 &&
    !(exception instanceof ProblemException && exception.logged)
  ) {
    // An outage is not a bug: one warning, no stack trace. Logged once: code that already logged
    // the event says so on the exception.
    request.log.warn({ reason: describe(exception) }, 'dependency unavailable');
  }
  const body = problemBody(
    problem.status,
    problem.detail,
    request.url.split('?')[0],
    String(request.id),
    problem.errors,
  );
  void reply
    .status(problem.status)
    .headers(problem.headers ?? {})
    .type(PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(body));
}

function toProblem(exception: unknown): Problem {
  if (exception instanceof ProblemException) {
    return {
      status: exception.getStatus(),
      detail: exception.message,
      headers: exception.headers,
      errors: exception.fieldErrors,
    };
  }
  if (exception instanceof ThrottlerException) {
    return { status: 429, detail: TOO_MANY_REQUESTS_DETAIL };
  }
  if ((exception as { code?: unknown } | null)?.code === 'FST_ERR_HANDLER_TIMEOUT') {
    // HTTP_HANDLER_TIMEOUT_MS passed: a dependency (in practice the database) is not answering.
    return {
      status: 503,
      detail: 'The request took too long to process; retry shortly.',
      headers: { 'retry-after': String(DEFAULT_RETRY_AFTER_SECONDS) },
    };
  }
  // Nest wraps Fastify's own 4xx errors (bad JSON, 413, 415) in an HttpException whose message
  // is Fastify's; answer with our wording instead.
  const fastify = fastifyError(exception instanceof HttpException ? exception.cause : exception);
  if (fastify) return fastify;
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    return {
      status,
      detail: status >= 500 ? genericDetail(status) : httpExceptionDetail(exception),
    };
  }
  return { status: 500, detail: genericDetail(500) };
}

function fastifyError(exception: unknown): Problem | undefined {
  const { statusCode, code } = (exception ?? {}) as { statusCode?: unknown; code?: unknown };
  if (typeof code !== 'string' || !code.startsWith('FST_')) return undefined;
  if (typeof statusCode !== 'number' || statusCode < 400 || statusCode >= 500) return undefined;
  return { status: statusCode, detail: FASTIFY_ERRORS[code] ?? `${STATUS_CODES[statusCode]}.` };
}

function httpExceptionDetail(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : exception.message;
}

function genericDetail(status: number): string {
  return status === Number(HttpStatus.SERVICE_UNAVAILABLE)
    ? 'The service is temporarily unavailable; retry shortly.'
    : 'An unexpected error occurred. Quote the requestId when reporting it.';
}

/** The underlying failure's message when there is one (e.g. the driver's), for the log only. */
function describe(exception: unknown): string {
  const failure =
    exception instanceof Error && exception.cause !== undefined ? exception.cause : exception;
  return failure instanceof Error ? failure.message : String(failure);
}
