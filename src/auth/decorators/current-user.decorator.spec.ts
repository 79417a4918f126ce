import { ExecutionContext, InternalServerErrorException } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import type { AuthenticatedUser } from '../authenticated-user';
import { sessionUser } from '../authenticated-user.fixture';
import { CurrentUser } from './current-user.decorator';

interface ParamMetadata {
  index: number;
  data: unknown;
  factory: (data: unknown, context: ExecutionContext) => unknown;
}

class ExampleController {
  required(@CurrentUser() _user: AuthenticatedUser): void {}

  optional(@CurrentUser({ optional: true }) _user: AuthenticatedUser | undefined): void {}
}

/** Resolves the decorator as Nest does: its factory, called with the data given at the use site. */
function resolve(method: keyof ExampleController, request: object): unknown {
  const metadata = Reflect.getMetadata(ROUTE_ARGS_METADATA, ExampleController, method) as Record<
    string,
    ParamMetadata
  >;
  const [param] = Object.values(metadata);
  return param.factory(param.data, new ExecutionContextHost([request, {}]));
}

const ALICE = sessionUser({
  email: 'alice@example.com',
  name: 'Alice',
  emailVerified: true,
  roles: ['admin'],
  claims: { sub: 'alice-id', role: 'admin' },
});

describe('@CurrentUser()', () => {
  it('returns the verified user the guard put on the request', () => {
    expect(resolve('required', { user: ALICE })).toBe(ALICE);
  });

  it('fails loudly (500) when there is no user, instead of handing the handler undefined', () => {
    expect(() => resolve('required', {})).toThrow(InternalServerErrorException);
    expect(() => resolve('required', {})).toThrow(/without a user/);
  });

  it('with { optional: true } returns undefined for an anonymous caller', () => {
    expect(resolve('optional', {})).toBeUndefined();
  });

  it('with { optional: true } still returns the user when there is one', () => {
    expect(resolve('optional', { user: ALICE })).toBe(ALICE);
  });
});
