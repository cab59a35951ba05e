// Sign in, or on a fresh install create the first admin with the setup code the server printed.
import { useEffect, useState } from 'preact/hooks';
import { api, call, type User } from '../api/client';

/** A form that signs someone in: its fields (`v(name)`) go to `send`; its error shows in words. */
export function useSignInForm(send: (v: (name: string) => string) => Promise<User>, onSignedIn: (u: User) => void) {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    setBusy(true);
    setError('');
    try {
      onSignedIn(await send((k) => String(f.get(k) ?? '')));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return { submit, busy, error, setError };
}

export function SignIn({ onSignedIn }: { onSignedIn: (u: User) => void }) {
  const [setup, setSetup] = useState(false);
  const { submit, busy, error } = useSignInForm(
    (v) =>
      setup
        ? call(api.POST('/api/v1/setup', { body: { setup_code: v('code'), email: v('email'), name: v('name'), password: v('password') } }))
        : call(api.POST('/api/v1/session', { body: { email: v('email'), password: v('password') } })),
    onSignedIn,
  );

  useEffect(() => {
    call(api.GET('/api/v1/setup')).then((s) => setSetup(s.needs_first_admin), () => {});
  }, []);

  return (
    <main class="signin">
      <form onSubmit={submit} aria-label={setup ? 'Create the first admin' : 'Sign in'}>
        <h1>Helpdesk</h1>
        {setup && <p class="hint">A fresh install: create the first admin. The setup code is in the server's output.</p>}
        {setup && (
          <label>
            Setup code <input name="code" required autocomplete="off" />
          </label>
        )}
        {setup && (
          <label>
            Your name <input name="name" required />
          </label>
        )}
        <label>
          Email <input name="email" type="email" required autocomplete="username" autofocus />
        </label>
        <label>
          Password <input name="password" type="password" required minLength={setup ? 8 : undefined} autocomplete={setup ? 'new-password' : 'current-password'} />
        </label>
        {error && <p class="error" role="alert">{error}</p>}
        <button type="submit" class="primary" disabled={busy}>
          {setup ? 'Create admin and sign in' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
