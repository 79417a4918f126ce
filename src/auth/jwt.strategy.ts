import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import { AuthenticatedUser } from './authenticated-user';
import { extractBearerToken } from './bearer-token';
import { TokenVerifier } from './token-verifier.service';

export const JWT_STRATEGY = 'better-auth-jwt';

/**
 * The Passport strategy for Better Auth JWTs. It is a passport-custom strategy rather than
 * passport-jwt because passport-jwt verifies through jsonwebtoken, which cannot check EdDSA
 * (Better Auth's default); TokenVerifier does the checking with jose.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, JWT_STRATEGY) {
  constructor(private readonly verifier: TokenVerifier) {
    super();
  }

  validate(request: FastifyRequest): Promise<AuthenticatedUser> {
    return this.verifier.verify(extractBearerToken(request));
  }
}
