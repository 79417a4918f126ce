import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import { AUTH_MODE_EXTENSION } from './public.decorator';

export const IS_OPTIONAL_AUTH_KEY = 'auth:isOptional';

/**
 * The route works without a token, and sees the user when one is sent. A token that is sent
 * must still be valid: a bad token is 401, never silently treated as anonymous.
 */
export const OptionalAuth = () =>
  applyDecorators(
    SetMetadata(IS_OPTIONAL_AUTH_KEY, true),
    ApiExtension(AUTH_MODE_EXTENSION, 'optional'),
  );
