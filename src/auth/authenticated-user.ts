import { JWTPayload } from 'jose';

/** The caller, as the verified token describes them. Only `id` (the `sub` claim) is guaranteed. */
export interface AuthenticatedUser {
  readonly id: string;
  readonly email: string | null;
  readonly name: string | null;
  readonly emailVerified: boolean | null;
  readonly image: string | null;
  /** Every claim of the verified token, for claims an app adds with `definePayload`. */
  readonly claims: Readonly<JWTPayload>;
}
