import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ActiveOrganization } from '../auth/authenticated-user';
import {
  ApiActiveOrganizationRequired,
  CurrentOrganization,
} from '../auth/decorators/current-organization.decorator';
import { OrgRoles } from '../auth/decorators/org-roles.decorator';
import { OrganizationDto } from './organization.dto';

/**
 * The caller's active organization, from the token's claims (no database). Access tokens are
 * refused here (no scope declared): Better Auth's access tokens carry no organization.
 */
@ApiTags('organization')
@Controller('organization')
export class OrganizationController {
  @Get()
  @ApiOperation({
    operationId: 'getOrganization',
    summary: "The caller's active organization and their roles in it.",
  })
  @ApiOkResponse({ type: OrganizationDto })
  @ApiActiveOrganizationRequired('/api/organization')
  current(@CurrentOrganization() organization: ActiveOrganization): OrganizationDto {
    return { id: organization.id, roles: [...organization.roles] };
  }

  @Get('admin-check')
  @OrgRoles('owner', 'admin')
  @ApiOperation({
    operationId: 'checkOrganizationAdmin',
    summary: 'Answers 200 when the caller is an owner or admin of the active organization.',
  })
  @ApiOkResponse({ type: OrganizationDto })
  adminCheck(@CurrentOrganization() organization: ActiveOrganization): OrganizationDto {
    return { id: organization.id, roles: [...organization.roles] };
  }
}
