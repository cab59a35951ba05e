// Admins: the installation's own mail (not a channel's): the address agents consult people
// from and their answers come back to, its SMTP and IMAP servers, the password (sealed, never
// shown again), how reading the mailbox goes, and how often away agents get their digests.
import { useEffect, useState } from 'preact/hooks';
import { api, call, type Schemas } from '../api/client';

export function MailSettings() {
  const [view, setView] = useState<Schemas['MailView'] | null>(null);
  const [form, setForm] = useState({ address: '', display_name: '', smtp_server: 'smtps://', imap_server: 'imaps://', username: '', folder: 'INBOX', poll_seconds: 30, digest_minutes: 60 });
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [saved, setSaved] = useState('');
  const load = () =>
    call(api.GET('/api/v1/mail/settings')).then((v) => {
      setView(v);
      if (v.settings) {
        const { address, display_name, smtp_server, imap_server, username, folder, poll_seconds, digest_minutes } = v.settings;
        setForm({ address, display_name, smtp_server, imap_server, username, folder, poll_seconds, digest_minutes });
      }
    }, (e) => setError(e.message));
  useEffect(() => void load(), []);
  const field = (name: keyof typeof form) => ({
    value: String(form[name]),
    onInput: (e: Event) => setForm({ ...form, [name]: name === 'poll_seconds' || name === 'digest_minutes' ? Number((e.target as HTMLInputElement).value) : (e.target as HTMLInputElement).value }),
  });
  const save = async (e: Event) => {
    e.preventDefault();
    setError('');
    setSaved('');
    try {
      await call(api.PUT('/api/v1/mail/settings', { body: { ...form, password: password || null } }));
      setPassword('');
      const check = await call(api.POST('/api/v1/mail/settings/check'));
      if (check.ok) setSaved(`Saved and checked: ${check.detail}.`);
      else setError(`Saved, but the check failed: ${check.detail}`);
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const status = view?.status;
  return (
    <main class="admin-page">
      <h1>Email</h1>
      <p class="hint">
        The helpdesk's own mailbox: agents consult people outside from it, and their answers come back to it (as <code>address+token</code>, which
        mail servers deliver to the address). Give it a mailbox of its own, not an email channel's.
      </p>
      {error && <p class="error" role="alert">{error}</p>}
      {saved && <p class="saved" role="status">{saved}</p>}
      {status?.error && <p class="error" data-mail-status="failing">Reading the mailbox fails: {status.error}</p>}
      {status?.read_at && !status.error && <p class="muted" data-mail-status="ok">Mailbox read {new Date(status.read_at).toLocaleTimeString()}.</p>}
      <form class="team-form" aria-label="Mail settings" onSubmit={save}>
        <label>Address <input type="email" required {...field('address')} /></label>
        <label>Sender name <input {...field('display_name')} placeholder="Support" /></label>
        <label>SMTP server <input required {...field('smtp_server')} placeholder="smtps://mail.example.com:465" /></label>
        <label>IMAP server <input required {...field('imap_server')} placeholder="imaps://mail.example.com:993" /></label>
        <label>Login <input {...field('username')} placeholder="the address" /></label>
        <label>
          Password{' '}
          <input type="password" autoComplete="off" value={password} placeholder={view?.settings?.password_set ? 'stored (type to replace)' : ''} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        </label>
        <label>Folder <input {...field('folder')} /></label>
        <label>Check every (seconds, when the server has no IDLE) <input type="number" min={5} max={3600} {...field('poll_seconds')} /></label>
        <label>Digests to away agents who ask for them, every (minutes) <input type="number" min={5} max={10080} {...field('digest_minutes')} /></label>
        <button class="primary" type="submit">Save and check</button>
      </form>
    </main>
  );
}
