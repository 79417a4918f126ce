import { ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { PROBLEM_CONTENT_TYPE } from './problem-details.filter';
import { ProblemDto } from './problem.dto';

/** The body of every error answer, as OpenAPI content: application/problem+json (RFC 9457). */
export function problemContent() {
  return { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: getSchemaPath(ProblemDto) } } };
}

/** A response header, e.g. Retry-After. */
interface ProblemHeader {
  description: string;
  schema: { type: 'integer' | 'string' };
}

/** Documents an error answer as what it is on the wire, with the headers that come with it. */
export const ApiProblemResponse = (
  status: number,
  description: string,
  headers?: Record<string, ProblemHeader>,
) =>
  ApiResponse({ status, description, ...(headers ? { headers } : {}), content: problemContent() });
