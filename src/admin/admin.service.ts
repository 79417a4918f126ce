import { Injectable } from '@nestjs/common';
import { AdminStatsDto } from './admin-stats.dto';
import { AdminRepository } from './admin.repository';

@Injectable()
export class AdminService {
  constructor(private readonly repository: AdminRepository) {}

  stats(): Promise<AdminStatsDto> {
    return this.repository.todoStats();
  }
}
