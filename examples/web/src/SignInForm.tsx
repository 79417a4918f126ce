import { useState, type FormEvent } from 'react';
import { formText } from './form-text';
import type { AuthClient } from './services';

/** Email and password sign-up and sign-in through Better Auth's client. */
export function SignInForm({ auth }: { auth: AuthClient }) {
  const [mode, setMode] = useState<'sign-in' | 'sign-up'>('sign-in');
  const [error, setError] = useState<string>();

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = formText(form, 'email');
    const password = formText(form, 'password');
    const result =
      mode === 'sign-up'
        ? await auth.signUp.email({ email, password, name: formText(form, 'name') })
        : await auth.signIn.email({ email, password });
    setError(result.error ? (result.error.message ?? 'Could not sign in.') : undefined);
  };

  return (
    <form onSubmit={(event) => void submit(event)} aria-label={mode}>
      <h2>{mode === 'sign-up' ? 'Create an account' : 'Sign in'}</h2>
      {mode === 'sign-up' && (
        <label>
          Name
          <input type="text" name="name" required autoComplete="name" />
        </label>
      )}
      <label>
        Email
        <input type="email" name="email" required autoComplete="email" />
      </label>
      <label>
        Password
        <input
          type="password"
          name="password"
          required
          minLength={8}
          autoComplete={mode === 'sign-up' ? 'new-password' : 'current-password'}
        />
      </label>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit">{mode === 'sign-up' ? 'Sign up' : 'Sign in'}</button>
      <button
        type="button"
        onClick={() => {
          setError(undefined);
          setMode(mode === 'sign-up' ? 'sign-in' : 'sign-up');
        }}
      >
        {mode === 'sign-up' ? 'I have an account' : 'Create an account'}
      </button>
    </form>
  );
}
