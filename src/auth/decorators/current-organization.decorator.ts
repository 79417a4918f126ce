import {
  createParamDecorator,
  ExecutionContext,
  HttpStatus,
  InternalServerErrorException,
} from '@nestjs/common';
import { ApiProblemResponse } from '../../common/api-problem-response.decorator';
import { problemExample } from '../../common/problem-example';
import { OrganizationAccessException } from '../auth.errors';
import { ActiveOrganization, AuthenticatedUser } from '../authenticated-user';

/**
 * Injects the caller's active organization (`id` and the member's `roles`). A caller whose token
 * names none gets 403: the route cannot serve them without one. Like @CurrentUser(), it fails
 * loudly when used on a route without a user.
 */
export const CurrentOrganization = createParamDecorator(
  (_options: undefined, context: ExecutionContext): ActiveOrganization => {
    const user = context.switchToHttp().getRequest<{ user?: AuthenticatedUser }>().user;
    if (!user) {
      throw new InternalServerErrorException(
        '@CurrentOrganization() used on a route without a user',
      );
    }
    if (!user.organization) throw OrganizationAccessException.noActiveOrganization();
    return user.organization;
  },
);

/** Documents the 403 that @CurrentOrganization() answers when the token names no organization. */
export const ApiActiveOrganizationRequired = (path: string) =>
  ApiProblemResponse(HttpStatus.FORBIDDEN, {
    description: 'The token names no active organization.',
    examples: {
      noActiveOrganization: problemExample(
        'No active organization in the token',
        OrganizationAccessException.noActiveOrganization(),
        path,
      ),
    },
  });
