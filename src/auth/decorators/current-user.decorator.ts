import {
  createParamDecorator,
  ExecutionContext,
  InternalServerErrorException,
} from '@nestjs/common';
import { AuthenticatedUser } from '../authenticated-user';

/**
 * Injects the verified caller. Fails loudly when there is none, which only happens when the
 * decorator is used on a @Public() route by mistake; on @OptionalAuth() routes pass
 * `{ optional: true }` to receive undefined for anonymous callers.
 */
export const CurrentUser = createParamDecorator(
  (options: { optional?: boolean } | undefined, context: ExecutionContext) => {
    const user = context.switchToHttp().getRequest<{ user?: AuthenticatedUser }>().user;
    if (!user && !options?.optional) {
      throw new InternalServerErrorException('@CurrentUser() used on a route without a user');
    }
    return user;
  },
);
