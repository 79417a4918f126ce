import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';

export const IS_PUBLIC_KEY = 'auth:isPublic';

/** OpenAPI extension read by the document builder to mark how an operation authenticates. */
export const AUTH_MODE_EXTENSION = 'x-auth-mode';

/**
 * Opens a route to anonymous callers. Every other route requires a valid token; the same
 * decorator marks the OpenAPI operation so the docs cannot drift from the guard.
 */
export const Public = () =>
  applyDecorators(SetMetadata(IS_PUBLIC_KEY, true), ApiExtension(AUTH_MODE_EXTENSION, 'public'));
