// Saved replies: everyone's own, and (for admins) the team and global ones, with the variables
// they may use (the contact attributes admins defined too) and files sent with them. The reply
// box inserts them (`/` or its button).
import { useEffect, useState } from 'preact/hooks';
import { api, call, fileSize, uploadFile, type Schemas, type StoredFile, type User } from '../api/client';

type Saved = Schemas['SavedReply'];
type Team = Schemas['Team'];
const VARIABLES = ['contact.name', 'contact.first_name', 'agent.name', 'agent.first_name', 'channel.name', 'ticket.id'];

export function SavedRepliesPage({ me }: { me: User }) {
  const [replies, setReplies] = useState<Saved[]>([]);
  const [teams, setTeams] = useState<Team[]>([]);
  const [editing, setEditing] = useState<{ id?: string; title: string; text: string; scope: string; files: StoredFile[] } | null>(null);
  const [error, setError] = useState('');
  const [uploading, setUploading] = useState(false);
  const [attributes, setAttributes] = useState<string[]>([]);
  const load = () => call(api.GET('/api/v1/saved-replies')).then(setReplies, (e) => setError(e.message));
  useEffect(() => {
    load();
    call(api.GET('/api/v1/teams')).then(setTeams, () => {});
    call(api.GET('/api/v1/contact-attributes')).then((d) => setAttributes(d.attributes.map((a) => `contact.${a.key}`)), () => {});
  }, []);
  const attach = async (list: FileList | null) => {
    if (!list?.length || !editing) return;
    setUploading(true);
    setError('');
    try {
      const added: StoredFile[] = [];
      for (const f of Array.from(list)) added.push(await uploadFile(f));
      setEditing((e) => e && { ...e, files: [...e.files, ...added] });
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setUploading(false);
    }
  };

  const scopeOf = (s: string): Saved['scope'] => (s === 'global' ? { type: 'global' } : s.startsWith('team:') ? { type: 'team', id: s.slice(5) } : { type: 'personal', id: me.id });
  const scopeKey = (s: Saved['scope']) => (s.type === 'global' ? 'global' : s.type === 'team' ? `team:${s.id}` : 'personal');
  const scopeName = (s: Saved['scope']) => (s.type === 'global' ? 'Everyone' : s.type === 'team' ? `Team ${teams.find((t) => t.id === s.id)?.name ?? s.id}` : 'Mine');
  const save = async (e: Event) => {
    e.preventDefault();
    if (!editing) return;
    setError('');
    try {
      const body = { title: editing.title, text: editing.text, scope: scopeOf(editing.scope), files: editing.files.map((f) => f.id) };
      if (editing.id) await call(api.PUT('/api/v1/saved-replies/{id}', { params: { path: { id: editing.id } }, body }));
      else await call(api.POST('/api/v1/saved-replies', { body }));
      setEditing(null);
      await load();
      location.reload(); // the reply box reads them once per page
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const remove = async (r: Saved) => {
    if (!confirm(`Delete the saved reply “${r.title}”?`)) return;
    await call(api.DELETE('/api/v1/saved-replies/{id}', { params: { path: { id: r.id } } })).catch((e) => setError(e.message));
    await load();
  };
  const canEdit = (r: Saved) => r.scope.type === 'personal' || me.role === 'admin';

  return (
    <main class="admin-page">
      <h1>Saved replies</h1>
      <p class="hint">Type / in an empty reply box to insert one. Variables: {[...VARIABLES, ...attributes].map((v) => `{{${v}}}`).join(', ')}.</p>
      {error && <p class="error" role="alert">{error}</p>}
      <table class="grid">
        <thead>
          <tr><th>Title</th><th>Text</th><th>Files</th><th>For</th><th /></tr>
        </thead>
        <tbody>
          {replies.map((r) => (
            <tr data-saved={r.title}>
              <td>{r.title}</td>
              <td>{r.text}</td>
              <td>
                {r.files.map((f) => (
                  <div>
                    <a href={`/api/v1/files/${f.id}`} target="_blank" rel="noopener">{f.name}</a> <span class="muted">{fileSize(f.size)}</span>
                  </div>
                ))}
              </td>
              <td>{scopeName(r.scope)}</td>
              <td>
                {canEdit(r) && (
                  <>
                    <button class="link" onClick={() => setEditing({ id: r.id, title: r.title, text: r.text, scope: scopeKey(r.scope), files: r.files })}>Edit</button>{' '}
                    <button class="link" onClick={() => remove(r)}>Delete</button>
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {!editing && <button onClick={() => setEditing({ title: '', text: '', scope: 'personal', files: [] })}>New saved reply</button>}
      {editing && (
        <form class="team-form" aria-label="Saved reply" onSubmit={save}>
          <label>Title <input value={editing.title} required onInput={(e) => setEditing({ ...editing, title: (e.target as HTMLInputElement).value })} /></label>
          <label>Text <textarea value={editing.text} required rows={5} onInput={(e) => setEditing({ ...editing, text: (e.target as HTMLTextAreaElement).value })} /></label>
          <div>
            Files{' '}
            <ul class="reply-files" aria-label="Files sent with it">
              {editing.files.map((f) => (
                <li data-saved-file={f.name}>
                  📎 {f.name} <span class="muted">{fileSize(f.size)}</span>{' '}
                  <button type="button" class="link" aria-label={`Remove ${f.name}`} onClick={() => setEditing({ ...editing, files: editing.files.filter((x) => x.id !== f.id) })}>
                    ×
                  </button>
                </li>
              ))}
            </ul>
            <label class="button">
              {uploading ? 'Uploading…' : 'Add a file'}
              <input type="file" multiple hidden aria-label="Add a file" disabled={uploading} onChange={(e) => void attach((e.target as HTMLInputElement).files)} />
            </label>{' '}
            <span class="hint">Pictures and documents, up to 10 MB each: sent with the reply where the channel takes files.</span>
          </div>
          <label>
            For
            <select value={editing.scope} onChange={(e) => setEditing({ ...editing, scope: (e.target as HTMLSelectElement).value })}>
              <option value="personal">Me</option>
              {me.role === 'admin' && <option value="global">Everyone</option>}
              {me.role === 'admin' && teams.map((t) => <option value={`team:${t.id}`}>Team {t.name}</option>)}
            </select>
          </label>
          <button class="primary" type="submit" disabled={uploading}>Save</button> <button type="button" onClick={() => setEditing(null)}>Cancel</button>
        </form>
      )}
    </main>
  );
}
