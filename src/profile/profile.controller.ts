import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { CurrentUser } from '../auth/decorators/current-user.decorator';
import { Scopes } from '../auth/decorators/scopes.decorator';
import { ProfileDto } from './profile.dto';

@ApiTags('profile')
@Controller('profile')
export class ProfileController {
  @Get()
  // `openid` alone also opens the profile: it is what an OIDC client asks for to know the user.
  @Scopes('profile', 'openid')
  @ApiOperation({
    operationId: 'getProfile',
    summary: "The caller's profile, read from the token's claims (no database).",
  })
  @ApiOkResponse({ type: ProfileDto, description: 'Who the token says the caller is.' })
  profile(@CurrentUser() user: AuthenticatedUser): ProfileDto {
    return {
      id: user.id,
      email: user.email,
      name: user.name,
      emailVerified: user.emailVerified,
      image: user.image,
    };
  }
}
