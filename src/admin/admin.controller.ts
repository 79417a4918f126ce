import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/decorators/roles.decorator';
import { AdminStatsDto } from './admin-stats.dto';
import { AdminService } from './admin.service';

/**
 * Operator views. Every route needs Better Auth's admin-plugin role `admin`, and none declares
 * a scope, so no OAuth client can reach them even with an administrator's consent.
 */
@ApiTags('admin')
@Controller('admin')
@Roles('admin')
export class AdminController {
  constructor(private readonly admin: AdminService) {}

  @Get('stats')
  @Header('cache-control', 'no-store')
  @ApiOperation({
    operationId: 'getAdminStats',
    summary: 'Counts across all users (role admin): never any user content.',
  })
  @ApiOkResponse({ type: AdminStatsDto })
  stats(): Promise<AdminStatsDto> {
    return this.admin.stats();
  }
}
