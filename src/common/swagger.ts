import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ProblemDto } from './problem.dto';

export const BEARER_SCHEME = 'bearer';

/** A change a feature makes to the generated document (e.g. auth marks public operations). */
export type OpenApiPostProcessor = (document: OpenAPIObject) => void;

/** A tag of the document and what its operations are about. */
export interface ApiTag {
  name: string;
  description: string;
}

/** Lists the tags operations use, with their descriptions, in the given order. */
export function describeTags(tags: ApiTag[]): OpenApiPostProcessor {
  return (document) => {
    document.tags = tags.map((tag) => ({ ...tag }));
  };
}

/** Where Swagger UI and the OpenAPI document are served, below no prefix. */
export const DOCS_PATH = '/docs';

/**
 * Serves Swagger UI at /docs and the OpenAPI 3 document at /docs/json. Features pass their own
 * post-processing in, so this file needs to know none of them.
 */
export function setupSwagger(
  app: INestApplication,
  ...postProcessors: OpenApiPostProcessor[]
): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Todo API')
    .setDescription(
      'Each user\'s todos, behind Better Auth JWTs. Click "Authorize" and paste the JWT from ' +
        'GET /api/auth/token on your Better Auth server (`npm run issuer` prints one for a demo user).',
    )
    .setVersion('1.0')
    // Relative: Swagger UI calls the API on the origin that served it, wherever it is deployed.
    .addServer('/')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A Better Auth JWT' },
      BEARER_SCHEME,
    )
    .addSecurityRequirements(BEARER_SCHEME)
    .build();
  const document = SwaggerModule.createDocument(app, config, { extraModels: [ProblemDto] });
  for (const postProcess of postProcessors) postProcess(document);
  SwaggerModule.setup(DOCS_PATH.slice(1), app, document, {
    jsonDocumentUrl: `${DOCS_PATH.slice(1)}/json`,
    yamlDocumentUrl: `${DOCS_PATH.slice(1)}/yaml`,
    // PKCE for the OAuth 2.0 authorization-code flow, when the document declares one.
    swaggerOptions: {
      persistAuthorization: true,
      validatorUrl: null,
      usePkceWithAuthorizationCodeGrant: true,
    },
  });
  return document;
}
