import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  AppConfig,
  AuthConfig,
  DatabaseConfig,
  HttpConfig,
  ThrottleConfig,
  TodosConfig,
} from './app-config';

export const APP_CONFIG_NAMESPACE = 'app';

/** Typed, read-only access to the validated configuration. */
@Injectable()
export class AppConfigService {
  private readonly config: AppConfig;

  constructor(configService: ConfigService<{ [APP_CONFIG_NAMESPACE]: AppConfig }, true>) {
    this.config = configService.get(APP_CONFIG_NAMESPACE, { infer: true });
  }

  get nodeEnv(): AppConfig['nodeEnv'] {
    return this.config.nodeEnv;
  }

  get logLevel(): AppConfig['logLevel'] {
    return this.config.logLevel;
  }

  get http(): HttpConfig {
    return this.config.http;
  }

  get database(): DatabaseConfig {
    return this.config.database;
  }

  get auth(): AuthConfig {
    return this.config.auth;
  }

  get throttle(): ThrottleConfig {
    return this.config.throttle;
  }

  get todos(): TodosConfig {
    return this.config.todos;
  }
}
