// Admins: who can sign in, with which role; add people, change roles, reset passwords, disable accounts.
import { useEffect, useState } from 'preact/hooks';
import { api, call, type Invitation, type Role, type User } from '../api/client';

export function Users({ me }: { me: User }) {
  const [users, setUsers] = useState<User[]>([]);
  const [error, setError] = useState('');
  const [added, setAdded] = useState('');
  const load = () => call(api.GET('/api/v1/users')).then(setUsers, (e) => setError(e.message));
  useEffect(() => void load(), []);

  const update = async (u: User, body: { role?: Role; disabled?: boolean; password?: string }) => {
    setError('');
    // Taking away your own admin rights cannot be undone from here: ask, then leave the page.
    const demotingMyself = u.id === me.id && body.role !== undefined && body.role !== 'admin';
    if (demotingMyself && !confirm('You will no longer be an admin, and only another admin can make you one again. Go on?')) return false;
    try {
      await call(api.PATCH('/api/v1/users/{id}', { params: { path: { id: u.id } }, body }));
      if (demotingMyself) return void (location.href = '/');
      await load();
      return true;
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const add = async (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const f = new FormData(form);
    setError('');
    try {
      const u = await call(
        api.POST('/api/v1/users', {
          body: { email: String(f.get('email')), name: String(f.get('name')), role: String(f.get('role')) as Role, password: String(f.get('password')) },
        }),
      );
      setAdded(`${u.name} can now sign in as ${u.email}.`);
      form.reset();
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <main class="admin-page">
      <h1>Users</h1>
      {error && <p class="error" role="alert">{error}</p>}
      <table class="grid">
        <thead>
          <tr>
            <th>Name</th>
            <th>Email</th>
            <th>Role</th>
            <th>Status</th>
          </tr>
        </thead>
        <tbody>
          {users.map((u) => (
            <tr data-user={u.email}>
              <td>
                {u.name}
                {u.id === me.id && <span class="muted"> (you)</span>}
              </td>
              <td>{u.email}</td>
              <td>
                <select aria-label={`Role of ${u.name}`} value={u.role} onChange={(e) => {
                    const el = e.target as HTMLSelectElement;
                    update(u, { role: el.value as Role }).then((done) => done !== true && (el.value = u.role));
                  }}>
                  <option value="agent">Agent</option>
                  <option value="admin">Admin</option>
                </select>
              </td>
              <td>
                {u.disabled ? 'Disabled ' : 'Active '}
                <button onClick={() => update(u, { disabled: !u.disabled })}>{u.disabled ? 'Enable' : 'Disable'}</button>{' '}
                {u.id !== me.id && (
                  <button
                    aria-label={`Reset the password of ${u.name}`}
                    onClick={async () => {
                      const password = prompt(`A new password for ${u.name} (at least 8 characters). Their other sessions end.`);
                      if (password && (await update(u, { password }))) setAdded(`${u.name}'s password is changed: tell them the new one.`);
                    }}
                  >
                    Reset password
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Add a user</h2>
      <form class="add-user" onSubmit={add}>
        <input name="name" placeholder="Name" aria-label="Name" required />
        <input name="email" type="email" placeholder="Email" aria-label="Email" required />
        <select name="role" aria-label="Role">
          <option value="agent">Agent</option>
          <option value="admin">Admin</option>
        </select>
        <input name="password" type="password" placeholder="Initial password (8+ characters)" aria-label="Initial password" minLength={8} required />
        <button class="primary" type="submit">Add user</button>
      </form>
      {added && <p class="ok">{added}</p>}
      <Invitations />
    </main>
  );
}

/** Links that let a teammate make their own account, with the role given here. */
function Invitations() {
  const [pending, setPending] = useState<Invitation[]>([]);
  const [link, setLink] = useState('');
  const [error, setError] = useState('');
  const load = () => call(api.GET('/api/v1/invitations')).then(setPending, (e) => setError(e.message));
  useEffect(() => void load(), []);

  const invite = async (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const f = new FormData(form);
    setError('');
    try {
      const email = String(f.get('email') ?? '').trim();
      const made = await call(api.POST('/api/v1/invitations', { body: { role: String(f.get('role')) as Role, email: email || undefined } }));
      setLink(made.url);
      form.reset();
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const revoke = async (i: Invitation) => {
    await call(api.DELETE('/api/v1/invitations/{id}', { params: { path: { id: i.id } } })).catch((e) => setError(e.message));
    await load();
  };

  return (
    <section aria-label="Invitations">
      <h2>Invite by link</h2>
      <form class="add-user" onSubmit={invite}>
        <input name="email" type="email" placeholder="Their email (optional)" aria-label="Invitee's email" />
        <select name="role" aria-label="Invitee's role">
          <option value="agent">Agent</option>
          <option value="admin">Admin</option>
        </select>
        <button class="primary" type="submit">Make an invitation link</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {link && (
        <p class="ok">
          Send this link (it works once, for 7 days; it is not shown again):{' '}
          <input class="invite-link" readOnly value={link} aria-label="Invitation link" onFocus={(e) => (e.target as HTMLInputElement).select()} />{' '}
          <button type="button" onClick={() => navigator.clipboard?.writeText(link)}>
            Copy
          </button>
        </p>
      )}
      {pending.length > 0 && (
        <ul class="invitations">
          {pending.map((i) => (
            <li data-invitation={i.id}>
              {i.email ?? 'Anyone with the link'} as {i.role}, by {i.invited_by}, until {new Date(i.expires_at).toLocaleDateString()}{' '}
              <button type="button" onClick={() => revoke(i)} aria-label={`Revoke the invitation for ${i.email ?? 'anyone'}`}>
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
