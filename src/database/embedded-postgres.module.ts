import { Module } from '@nestjs/common';
import { EmbeddedPostgresService } from './embedded-postgres.service';

@Module({
  providers: [EmbeddedPostgresService],
  exports: [EmbeddedPostgresService],
})
export class EmbeddedPostgresModule {}
