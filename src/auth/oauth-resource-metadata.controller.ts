import { Controller, Get, Header, NotFoundException, Req } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Public } from './decorators/public.decorator';
import { OAuthResourceMetadata } from './oauth-resource-metadata';
import type { ProtectedResourceMetadata } from './oauth-resource-metadata';

/** Where RFC 9728 puts the metadata: at the host's root, outside the /api prefix. */
export const PROTECTED_RESOURCE_METADATA_PATH = '.well-known/oauth-protected-resource';

/**
 * Protected-resource metadata for OAuth clients (RFC 9728). It is discovery, not part of the
 * API, so it stays out of the OpenAPI document.
 */
@ApiExcludeController()
@Controller(PROTECTED_RESOURCE_METADATA_PATH)
export class OAuthResourceMetadataController {
  constructor(private readonly metadata: OAuthResourceMetadata) {}

  @Get()
  @Public()
  @Header('cache-control', 'public, max-age=3600')
  get(@Req() request: FastifyRequest): ProtectedResourceMetadata {
    const metadata = this.metadata.get();
    // Answered like any unknown route, so a server without OAuth does not look like one.
    if (!metadata) throw new NotFoundException(`Cannot GET ${request.url.split('?')[0]}`);
    return metadata;
  }
}
