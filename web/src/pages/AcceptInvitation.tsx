// Joining by an invitation link (`/invite#<secret>`): the invitee picks their name and password
// and is signed in. The secret stays in the `#` part, which the browser never sends to a server.
import { useEffect, useState } from 'preact/hooks';
import { api, call, type Invitation, type User } from '../api/client';
import { navigate } from '../route';
import { useSignInForm } from './SignIn';

export function AcceptInvitation({ onSignedIn }: { onSignedIn: (u: User) => void }) {
  const secret = location.hash.slice(1);
  const [invitation, setInvitation] = useState<Invitation | null | undefined>(undefined);
  const { submit, busy, error, setError } = useSignInForm(async (v) => {
    const user = await call(api.POST('/api/v1/invitation/accept', { body: { secret, email: v('email'), name: v('name'), password: v('password') } }));
    navigate('/', undefined, true);
    return user;
  }, onSignedIn);

  useEffect(() => {
    call(api.POST('/api/v1/invitation', { body: { secret } })).then(setInvitation, (e) => {
      setInvitation(null);
      setError((e as Error).message);
    });
  }, [secret]);

  if (invitation === undefined) return <div class="loading">Loading…</div>;
  return (
    <main class="signin">
      <form onSubmit={submit} aria-label="Join the helpdesk">
        <h1>Helpdesk</h1>
        {invitation ? (
          <>
            <p class="hint">
              {invitation.invited_by} invited you as {invitation.role === 'admin' ? 'an admin' : 'an agent'}. Choose how you sign in.
            </p>
            <label>
              Your name <input name="name" required autofocus />
            </label>
            <label>
              Email <input name="email" type="email" required autocomplete="username" value={invitation.email ?? ''} />
            </label>
            <label>
              Password <input name="password" type="password" required minLength={8} autocomplete="new-password" />
            </label>
          </>
        ) : null}
        {error && <p class="error" role="alert">{error}</p>}
        {invitation ? (
          <button type="submit" class="primary" disabled={busy}>
            Join and sign in
          </button>
        ) : (
          <a href="/">Sign in instead</a>
        )}
      </form>
    </main>
  );
}
