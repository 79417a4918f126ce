import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';

export const SCOPES_KEY = 'auth:scopes';
/** OpenAPI extension naming the scopes an operation accepts (any one of them). */
export const SCOPES_EXTENSION = 'x-required-scopes';

/**
 * OAuth access tokens may call the route when they carry any one of these scopes. A route
 * without @Scopes() refuses every access token (deny by default). Session JWTs are not limited
 * by scopes: they act for the user themself.
 */
export const Scopes = (...scopes: [string, ...string[]]) =>
  applyDecorators(SetMetadata(SCOPES_KEY, scopes), ApiExtension(SCOPES_EXTENSION, scopes));
