import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { AppConfigService } from '../config/app-config.service';
import { SCOPES_KEY } from './decorators/scopes.decorator';

/** OAuth 2.0 Protected Resource Metadata (RFC 9728 §2). */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported: string[];
  bearer_methods_supported: string[];
}

/**
 * What this API tells OAuth clients about itself. The scopes are read off the routes' @Scopes()
 * once the app has started, so the list can never drift from what the guard enforces.
 */
@Injectable()
export class OAuthResourceMetadata implements OnApplicationBootstrap {
  private scopes: string[] = [];

  constructor(
    private readonly config: AppConfigService,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  onApplicationBootstrap(): void {
    const scopes = new Set<string>();
    for (const wrapper of this.discovery.getControllers()) {
      const { metatype } = wrapper;
      if (typeof metatype !== 'function') continue;
      const prototype = metatype.prototype as object;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = (prototype as Record<string, unknown>)[name] as () => unknown;
        const declared = this.reflector.getAllAndOverride<string[] | undefined>(SCOPES_KEY, [
          handler,
          metatype,
        ]);
        for (const scope of declared ?? []) scopes.add(scope);
      }
    }
    this.scopes = [...scopes].sort();
  }

  /** Undefined when OAUTH_RESOURCE is unset: access tokens are off, so there is nothing to say. */
  get(): ProtectedResourceMetadata | undefined {
    const oauth = this.config.auth.oauth;
    if (!oauth) return undefined;
    return {
      resource: oauth.resource,
      authorization_servers: [oauth.issuer],
      scopes_supported: this.scopes,
      // Only the Authorization header is read: no query string, no form body, no cookie.
      bearer_methods_supported: ['header'],
    };
  }
}
