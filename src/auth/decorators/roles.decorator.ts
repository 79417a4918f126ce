import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';

export const ROLES_KEY = 'auth:roles';
/** OpenAPI extension naming the roles an operation needs. */
export const ROLES_EXTENSION = 'x-required-roles';

/**
 * The caller needs one of these roles, read from the `role` claim that Better Auth's admin
 * plugin puts on the user (a comma-separated list; no claim means no role). Applies to session
 * JWTs and access tokens alike; the OpenAPI operation says which roles it needs.
 */
export const Roles = (...roles: [string, ...string[]]) =>
  applyDecorators(SetMetadata(ROLES_KEY, roles), ApiExtension(ROLES_EXTENSION, roles));
