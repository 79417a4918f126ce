import { OpenAPIObject } from '@nestjs/swagger';
import { problemContent } from '../common/api-problem-response.decorator';
import { BEARER_SCHEME } from '../common/swagger';
import { AUTH_MODE_EXTENSION } from './decorators/public.decorator';

const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } },
};

/**
 * Every operation requires the bearer token unless @Public() or @OptionalAuth() marked it:
 * the same metadata the guard reads, so the document cannot drift from the guard. Protected
 * operations also document their 401, 429 and 503 answers here, once.
 */
export function documentAuthModes(document: OpenAPIObject): void {
  for (const pathItem of Object.values(document.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const operation = pathItem[method];
      if (!operation) continue;
      const extensions = operation as unknown as Record<string, unknown>;
      const mode = extensions[AUTH_MODE_EXTENSION];
      delete extensions[AUTH_MODE_EXTENSION];
      if (mode === 'public') {
        operation.security = [];
        continue;
      }
      operation.security =
        mode === 'optional' ? [{}, { [BEARER_SCHEME]: [] }] : [{ [BEARER_SCHEME]: [] }];
      const problem = problemContent();
      operation.responses['401'] ??= {
        description: 'Missing or invalid bearer token (see the WWW-Authenticate header).',
        headers: {
          'WWW-Authenticate': {
            description: 'Bearer realm="api", with error and error_description for a bad token.',
            schema: { type: 'string' },
          },
        },
        content: problem,
      };
      operation.responses['429'] ??= {
        description: 'Too many requests (per user, or per address for failed authentication).',
        headers: RETRY_AFTER,
        content: problem,
      };
      operation.responses['503'] ??= {
        description: 'Signing keys or the database are unavailable; retry after Retry-After.',
        headers: RETRY_AFTER,
        content: problem,
      };
    }
  }
}
