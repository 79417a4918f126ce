import { ProblemException } from '../common/problem.exception';
import {
  InvalidTokenException,
  KEYS_RETRY_AFTER_SECONDS,
  KeysUnavailableException,
  MissingTokenException,
} from './auth.errors';

describe('auth errors', () => {
  it('answer a missing token with 401 and the RFC 6750 challenge', () => {
    const error = new MissingTokenException();
    expect(error).toBeInstanceOf(ProblemException);
    expect(error.getStatus()).toBe(401);
    expect(error.headers).toEqual({ 'www-authenticate': 'Bearer realm="api"' });
  });

  it('name the failed check of a bad token in the challenge', () => {
    const error = new InvalidTokenException('token expired');
    expect(error.getStatus()).toBe(401);
    expect(error.message).toBe('The bearer token was rejected: token expired.');
    expect(error.headers).toEqual({
      'www-authenticate':
        'Bearer realm="api", error="invalid_token", error_description="token expired"',
    });
    expect(error.challenge).toBe(error.headers['www-authenticate']);
  });

  it('answer unavailable keys with 503 and Retry-After, already logged by the guard', () => {
    const error = new KeysUnavailableException();
    expect(error.getStatus()).toBe(503);
    expect(error.headers).toEqual({ 'retry-after': String(KEYS_RETRY_AFTER_SECONDS) });
    expect(error.message).toMatch(/signing keys/);
    expect(error.logged).toBe(true);
  });
});
