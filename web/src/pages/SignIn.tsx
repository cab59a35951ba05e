// Sign in, or on a fresh install create the first admin with the setup code the server printed.
import { useEffect, useState } from 'preact/hooks';
import { api, call, type User } from '../api/client';

export function SignIn({ onSignedIn }: { onSignedIn: (u: User) => void }) {
  const [setup, setSetup] = useState(false);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    call(api.GET('/api/v1/setup')).then((s) => setSetup(s.needs_first_admin), () => {});
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const v = (k: string) => String(f.get(k) ?? '');
    setBusy(true);
    setError('');
    try {
      const user = setup
        ? await call(api.POST('/api/v1/setup', { body: { setup_code: v('code'), email: v('email'), name: v('name'), password: v('password') } }))
        : await call(api.POST('/api/v1/session', { body: { email: v('email'), password: v('password') } }));
      onSignedIn(user);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

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
