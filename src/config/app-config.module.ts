import { DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AppConfig } from './app-config';
import { APP_CONFIG_NAMESPACE, AppConfigService } from './app-config.service';

/**
 * Registers the already validated configuration with @nestjs/config. Validation happens once,
 * in loadAppConfig(), before Nest starts: the HTTP adapter and logger need it before DI exists,
 * and a bad value must stop the process before anything (the embedded database included) starts.
 */
@Global()
@Module({})
export class AppConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppConfigModule,
      imports: [
        ConfigModule.forRoot({
          ignoreEnvFile: true,
          validatePredefined: false,
          skipProcessEnv: true,
          load: [() => ({ [APP_CONFIG_NAMESPACE]: config })],
        }),
      ],
      providers: [AppConfigService],
      exports: [AppConfigService],
    };
  }
}
