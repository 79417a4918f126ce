import { DynamicModule, Module, ValidationPipe } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { AdminModule } from './admin/admin.module';
import { AuthModule } from './auth/auth.module';
import { AuthorizationGuard } from './auth/authorization.guard';
import { JwtAuthGuard } from './auth/jwt-auth.guard';
import { ProblemDetailsFilter } from './common/problem-details.filter';
import { RequestValidationException } from './common/common.errors';
import { AppConfig } from './config/app-config';
import { AppConfigModule } from './config/app-config.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { OrganizationModule } from './organization/organization.module';
import { ProfileModule } from './profile/profile.module';
import { RateLimitGuard } from './rate-limit/rate-limit.guard';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { TodosModule } from './todos/todos.module';

/**
 * Wires the feature modules and the global pipeline. Global enhancers are providers here (not
 * `app.useGlobal*`) so every app instance, tests included, gets the same pipeline.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        MetricsModule,
        DatabaseModule,
        AuthModule,
        RateLimitModule,
        HealthModule,
        ProfileModule,
        TodosModule,
        OrganizationModule,
        AdminModule,
      ],
      providers: [
        // Order matters: authenticate first, so the rate limit can key on the user; authorize
        // last, so refused requests still count against the caller's limit.
        { provide: APP_GUARD, useExisting: JwtAuthGuard },
        { provide: APP_GUARD, useExisting: RateLimitGuard },
        { provide: APP_GUARD, useExisting: AuthorizationGuard },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        {
          provide: APP_PIPE,
          useValue: new ValidationPipe({
            whitelist: true,
            // Unknown and server-owned fields are refused, not silently dropped (mass assignment).
            forbidNonWhitelisted: true,
            transform: true,
            transformOptions: { enableImplicitConversion: false },
            validationError: { target: false, value: false },
            exceptionFactory: (errors) => RequestValidationException.fromValidationErrors(errors),
          }),
        },
      ],
    };
  }
}
