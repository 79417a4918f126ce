import { useMemo, useState } from 'react';
import type { AppConfig } from './config';
import { createServices } from './services';
import { SignInForm } from './SignInForm';
import { Todos } from './Todos';

export function App({ config }: { config: AppConfig }) {
  const [notice, setNotice] = useState<string>();
  const services = useMemo(
    () =>
      createServices(config, {
        onRetry: (delayMs) =>
          setNotice(`The service is busy; retrying in ${Math.round(delayMs / 1000)} s…`),
        onSignedOut: () => setNotice('Your session has ended; please sign in again.'),
      }),
    [config],
  );
  const session = services.auth.useSession();
  const user = session.data?.user;

  const signOut = async () => {
    await services.auth.signOut();
    services.api.clearToken();
  };

  return (
    <main>
      <header>
        <h1>Todos</h1>
        {user && (
          <span>
            {user.email} <button onClick={() => void signOut()}>Sign out</button>
          </span>
        )}
      </header>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {session.isPending ? (
        <p>Loading…</p>
      ) : user ? (
        <Todos key={user.id} api={services.api} onNotice={setNotice} />
      ) : (
        <SignInForm auth={services.auth} />
      )}
    </main>
  );
}
