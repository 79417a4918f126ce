import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';

export const ORG_ROLES_KEY = 'auth:organizationRoles';
/** OpenAPI extension naming the organization roles an operation needs. */
export const ORG_ROLES_EXTENSION = 'x-required-organization-roles';

/**
 * The caller needs an active organization and one of these roles in it, read from the
 * `activeOrganizationId` and `organizationRole` claims (see the README for the Better Auth
 * `definePayload` that adds them).
 */
export const OrgRoles = (...roles: [string, ...string[]]) =>
  applyDecorators(SetMetadata(ORG_ROLES_KEY, roles), ApiExtension(ORG_ROLES_EXTENSION, roles));
