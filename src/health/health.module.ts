import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';
import { ShutdownDelayService } from './shutdown-delay.service';

@Module({
  imports: [AuthModule],
  controllers: [HealthController],
  providers: [HealthService, ShutdownDelayService],
})
export class HealthModule {}
