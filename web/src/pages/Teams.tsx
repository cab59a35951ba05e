// Admins: teams of agents with the channels they answer and how their tickets are handed out
// (auto-assignment, capacity, order, giving back on Away, reassigning the unanswered), and the
// away statuses and idle time everyone's availability uses.
import { useEffect, useState } from 'preact/hooks';
import { api, call, type ChannelSummary, type Schemas, type User } from '../api/client';
import { HoursEditor } from '../components/HoursEditor';

type Team = Schemas['Team'];
type TeamInput = Schemas['TeamInput'];

const blank: TeamInput = { name: '', members: [], channels: [], auto_assign: true, capacity: 5, order: 'longest_waiting', return_when_away: true };

export function Teams() {
  const [teams, setTeams] = useState<Team[]>([]);
  const [users, setUsers] = useState<User[]>([]);
  const [channels, setChannels] = useState<ChannelSummary[]>([]);
  const [editing, setEditing] = useState<{ id?: string; input: TeamInput } | null>(null);
  const [statuses, setStatuses] = useState('');
  const [idle, setIdle] = useState(0);
  const [error, setError] = useState('');
  const [saved, setSaved] = useState('');

  const load = () => call(api.GET('/api/v1/teams')).then(setTeams, (e) => setError(e.message));
  useEffect(() => {
    load();
    call(api.GET('/api/v1/users')).then((us) => setUsers(us.filter((u) => !u.disabled)), () => {});
    call(api.GET('/api/v1/channels')).then(setChannels, () => {});
    call(api.GET('/api/v1/availability')).then((a) => {
      setStatuses(a.statuses.filter((s) => s !== 'available' && s !== 'away').join(', '));
      setIdle(a.idle_minutes);
    }, () => {});
  }, []);

  const save = async (e: Event) => {
    e.preventDefault();
    if (!editing) return;
    setError('');
    try {
      const body = editing.input;
      if (editing.id) await call(api.PUT('/api/v1/teams/{id}', { params: { path: { id: editing.id } }, body }));
      else await call(api.POST('/api/v1/teams', { body }));
      setSaved(`Team ${body.name} saved.`);
      setEditing(null);
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const saveAvailability = async (e: Event) => {
    e.preventDefault();
    setError('');
    try {
      const list = statuses.split(',').map((s) => s.trim()).filter(Boolean);
      await call(api.PUT('/api/v1/availability/settings', { body: { statuses: list, idle_minutes: idle } }));
      setSaved('Availability settings saved.');
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const remove = async (t: Team) => {
    if (!confirm(`Delete the team ${t.name}? Its tickets stay as they are.`)) return;
    await call(api.DELETE('/api/v1/teams/{id}', { params: { path: { id: t.id } } })).catch((e) => setError(e.message));
    await load();
  };
  const name = (id: string) => users.find((u) => u.id === id)?.name ?? id;
  const edit = (patch: Partial<TeamInput>) => editing && setEditing({ ...editing, input: { ...editing.input, ...patch } });
  const toggle = (list: string[], v: string) => (list.includes(v) ? list.filter((x) => x !== v) : [...list, v]);
  const num = (v: string) => (v.trim() === '' ? undefined : Number(v));

  return (
    <main class="admin-page">
      <h1>Teams</h1>
      {error && <p class="error" role="alert">{error}</p>}
      {saved && <p class="notice" role="status">{saved}</p>}
      <table class="grid">
        <thead>
          <tr><th>Team</th><th>Members</th><th>Channels</th><th>Auto-assignment</th><th /></tr>
        </thead>
        <tbody>
          {teams.map((t) => (
            <tr data-team={t.name}>
              <td>{t.name}</td>
              <td>{t.members.map(name).join(', ')}</td>
              <td>{t.channels.join(', ')}</td>
              <td>{t.auto_assign ? `on: up to ${t.capacity} each${t.return_when_away ? ', given back on Away' : ''}${t.reassign_after_minutes ? `, reassigned after ${t.reassign_after_minutes} min` : ''}` : 'off'}</td>
              <td>
                <button class="link" onClick={() => setEditing({ id: t.id, input: { ...t } })}>Edit</button>{' '}
                <button class="link" onClick={() => remove(t)}>Delete</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {!editing && <button onClick={() => setEditing({ input: { ...blank } })}>New team</button>}
      {editing && (
        <form class="team-form" onSubmit={save} aria-label="Team">
          <label>Name <input value={editing.input.name} onInput={(e) => edit({ name: (e.target as HTMLInputElement).value })} required /></label>
          <fieldset>
            <legend>Members</legend>
            {users.map((u) => (
              <label><input type="checkbox" checked={editing.input.members?.includes(u.id)} onChange={() => edit({ members: toggle(editing.input.members ?? [], u.id) })} /> {u.name}</label>
            ))}
          </fieldset>
          <fieldset>
            <legend>Channels</legend>
            {channels.map((c) => (
              <label><input type="checkbox" checked={editing.input.channels?.includes(c.id)} onChange={() => edit({ channels: toggle(editing.input.channels ?? [], c.id) })} /> {c.display_name}</label>
            ))}
          </fieldset>
          <label><input type="checkbox" checked={editing.input.auto_assign} onChange={(e) => edit({ auto_assign: (e.target as HTMLInputElement).checked })} /> Hand each waiting ticket to an Available member</label>
          <label>Open tickets per agent <input type="number" min={1} value={editing.input.capacity ?? 5} onInput={(e) => edit({ capacity: num((e.target as HTMLInputElement).value) })} /></label>
          <label>Of them, private conversations at most <input type="number" min={1} value={editing.input.conversation_capacity ?? ''} onInput={(e) => edit({ conversation_capacity: num((e.target as HTMLInputElement).value) })} /></label>
          <label>Of them, comments and reviews at most <input type="number" min={1} value={editing.input.public_capacity ?? ''} onInput={(e) => edit({ public_capacity: num((e.target as HTMLInputElement).value) })} /></label>
          <label>Order
            <select value={editing.input.order} onChange={(e) => edit({ order: (e.target as HTMLSelectElement).value as TeamInput['order'] })}>
              <option value="longest_waiting">Longest waiting first</option>
              <option value="flagged_first">Flagged first, then longest waiting</option>
            </select>
          </label>
          <label><input type="checkbox" checked={editing.input.return_when_away} onChange={(e) => edit({ return_when_away: (e.target as HTMLInputElement).checked })} /> When a member goes Away, their unanswered tickets go back to the queue</label>
          <label>Reassign a ticket not answered within (minutes) <input type="number" min={1} value={editing.input.reassign_after_minutes ?? ''} onInput={(e) => edit({ reassign_after_minutes: num((e.target as HTMLInputElement).value) })} /></label>
          <HoursEditor value={editing.input.business_hours} onChange={(business_hours) => edit({ business_hours })} label="The team has business hours (rules can answer outside them)" />
          <button class="primary" type="submit">Save team</button> <button type="button" onClick={() => setEditing(null)}>Cancel</button>
        </form>
      )}
      <h2>Availability</h2>
      <form class="availability-settings" onSubmit={saveAvailability}>
        <label>Away statuses besides Away (comma-separated) <input aria-label="Away statuses" value={statuses} onInput={(e) => setStatuses((e.target as HTMLInputElement).value)} placeholder="Lunch, Training" /></label>
        <label>Away after this many minutes with no helpdesk page open (0: never) <input type="number" min={0} aria-label="Idle minutes" value={idle} onInput={(e) => setIdle(Number((e.target as HTMLInputElement).value))} /></label>
        <button type="submit">Save availability settings</button>
      </form>
    </main>
  );
}
