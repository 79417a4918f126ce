import { Logger, Module, OnModuleInit } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { AppConfigService } from '../config/app-config.service';
import { MetricsModule } from '../metrics/metrics.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { AuthRefusalLog } from './auth-refusal-log';
import { AuthMetrics } from './auth.metrics';
import { AuthorizationGuard } from './authorization.guard';
import { JwksKeyStore } from './jwks/jwks-key-store';
import { JwtAuthGuard } from './jwt-auth.guard';
import { JwtStrategy } from './jwt.strategy';
import { OAuthResourceMetadata } from './oauth-resource-metadata';
import { OAuthResourceMetadataController } from './oauth-resource-metadata.controller';
import { TokenVerifier } from './token-verifier.service';

@Module({
  imports: [PassportModule, RateLimitModule, DiscoveryModule, MetricsModule],
  controllers: [OAuthResourceMetadataController],
  providers: [
    AuthMetrics,
    JwksKeyStore,
    TokenVerifier,
    JwtStrategy,
    JwtAuthGuard,
    AuthorizationGuard,
    OAuthResourceMetadata,
    AuthRefusalLog,
  ],
  exports: [JwksKeyStore, JwtAuthGuard, AuthorizationGuard],
})
export class AuthModule implements OnModuleInit {
  private readonly logger = new Logger(AuthModule.name);

  constructor(private readonly config: AppConfigService) {}

  onModuleInit(): void {
    const { issuer, audiences } = this.config.auth;
    if (audiences.includes(issuer)) {
      // Better Auth's default audience is its own URL, so its tokens are not bound to this API:
      // any other service trusting the same issuer would accept them too.
      this.logger.warn(
        `JWT_AUDIENCE includes the issuer (${issuer}), so tokens are not bound to this API. ` +
          `Give the API its own audience: jwt({ jwt: { audience: "https://api.example.com" } }) in Better Auth, ` +
          `and JWT_AUDIENCE=https://api.example.com here.`,
      );
    }
  }
}
