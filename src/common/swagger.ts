import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { AUTH_MODE_EXTENSION } from '../auth/decorators/public.decorator';
import { ProblemDto } from './problem.dto';

export const BEARER_SCHEME = 'bearer';
const PROBLEM_REF = { $ref: '#/components/schemas/ProblemDto' };

/** Serves Swagger UI at /docs and the OpenAPI 3 document at /docs/json. */
export function setupSwagger(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Todo API')
    .setDescription(
      'Each user\'s todos, behind Better Auth JWTs. Click "Authorize" and paste the JWT from ' +
        'GET /api/auth/token on your Better Auth server (`npm run issuer` prints one for a demo user).',
    )
    .setVersion('1.0')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A Better Auth JWT' },
      BEARER_SCHEME,
    )
    .addSecurityRequirements(BEARER_SCHEME)
    .build();
  const document = SwaggerModule.createDocument(app, config, { extraModels: [ProblemDto] });
  applyAuthModes(document);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs/json',
    yamlDocumentUrl: 'docs/yaml',
    swaggerOptions: { persistAuthorization: true, validatorUrl: null },
  });
  return document;
}

const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } },
};

/**
 * Every operation requires the bearer token unless @Public() or @OptionalAuth() marked it:
 * the same metadata the guard reads, so the document cannot drift from the guard. Protected
 * operations also document their 401, 429 and 503 answers here, once.
 */
function applyAuthModes(document: OpenAPIObject): void {
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
      const problem = { 'application/problem+json': { schema: PROBLEM_REF } };
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
