// Admins: response targets (SLAs): which tickets each covers (a team, channels, kinds), how
// soon the first answer, every later answer and the resolution are due, in calendar time or
// business hours. The first target that covers a ticket is its target.
import { useEffect, useState } from 'preact/hooks';
import { api, call, type ChannelSummary, type Schemas } from '../api/client';
import { KIND_WORDS } from '../format';

type Target = Schemas['ResponseTarget'];
type Input = Schemas['ResponseTargetInput'];
type Kind = Schemas['Kind'];

const blank: Input = { name: '', channels: [], kinds: [], first_response_minutes: 60, next_response_minutes: null, resolution_minutes: null, business_hours: false };

/** 90 → "1 h 30 min". */
export function minutes(m: number | null | undefined): string {
  if (m == null) return '—';
  const d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60), r = m % 60;
  return [d && `${d} d`, h && `${h} h`, r && `${r} min`].filter(Boolean).join(' ') || '0 min';
}

export function Targets() {
  const [targets, setTargets] = useState<Target[]>([]);
  const [teams, setTeams] = useState<Schemas['Team'][]>([]);
  const [channels, setChannels] = useState<ChannelSummary[]>([]);
  const [editing, setEditing] = useState<{ id?: string; input: Input } | null>(null);
  const [error, setError] = useState('');
  const load = () => call(api.GET('/api/v1/response-targets')).then(setTargets, (e) => setError(e.message));
  useEffect(() => {
    load();
    call(api.GET('/api/v1/teams')).then(setTeams, () => {});
    call(api.GET('/api/v1/channels')).then(setChannels, () => {});
  }, []);

  const set = (change: Partial<Input>) => editing && setEditing({ ...editing, input: { ...editing.input, ...change } });
  const num = (k: 'first_response_minutes' | 'next_response_minutes' | 'resolution_minutes') => (e: Event) => {
    const v = (e.target as HTMLInputElement).value;
    set({ [k]: v === '' ? null : Number(v) });
  };
  const save = async (e: Event) => {
    e.preventDefault();
    if (!editing) return;
    setError('');
    try {
      const body = editing.input;
      if (editing.id) await call(api.PUT('/api/v1/response-targets/{id}', { params: { path: { id: editing.id } }, body }));
      else await call(api.POST('/api/v1/response-targets', { body }));
      setEditing(null);
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const remove = async (t: Target) => {
    if (!confirm(`Delete the response target “${t.name}”?`)) return;
    await call(api.DELETE('/api/v1/response-targets/{id}', { params: { path: { id: t.id } } })).catch((e) => setError(e.message));
    await load();
  };
  const scope = (t: Target) =>
    [t.team && `team ${teams.find((x) => x.id === t.team)?.name ?? t.team}`, t.channels.length > 0 && t.channels.map((c) => channels.find((x) => x.id === c)?.display_name ?? c).join(', '), t.kinds.length > 0 && t.kinds.map((k) => KIND_WORDS[k]).join(', ')]
      .filter(Boolean)
      .join(' · ') || 'Every ticket';
  const toggle = <T,>(list: T[] | undefined, v: T) => ((list ?? []).includes(v) ? (list ?? []).filter((x) => x !== v) : [...(list ?? []), v]);

  return (
    <main class="admin-page">
      <h1>Response targets</h1>
      <p class="hint">A ticket shows the time left to its target; the inbox filters and sorts by it; reports show how many were met. The first target that covers a ticket applies.</p>
      {error && <p class="error" role="alert">{error}</p>}
      <table class="grid">
        <thead>
          <tr><th>Name</th><th>Covers</th><th>First response</th><th>Next response</th><th>Resolution</th><th>Counted in</th><th /></tr>
        </thead>
        <tbody>
          {targets.map((t) => (
            <tr data-target={t.name}>
              <td>{t.name}</td>
              <td>{scope(t)}</td>
              <td>{minutes(t.first_response_minutes)}</td>
              <td>{minutes(t.next_response_minutes)}</td>
              <td>{minutes(t.resolution_minutes)}</td>
              <td>{t.business_hours ? 'Business hours' : 'Calendar time'}</td>
              <td>
                <button class="link" onClick={() => setEditing({ id: t.id, input: { ...t } })}>Edit</button>{' '}
                <button class="link" onClick={() => remove(t)}>Delete</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {targets.length === 0 && <p class="empty">No response targets yet: tickets are not due.</p>}
      {!editing && <button onClick={() => setEditing({ input: { ...blank } })}>New response target</button>}
      {editing && (
        <form class="team-form" aria-label="Response target" onSubmit={save}>
          <label>Name <input value={editing.input.name} required onInput={(e) => set({ name: (e.target as HTMLInputElement).value })} /></label>
          <label>
            Team
            <select value={editing.input.team ?? ''} onChange={(e) => set({ team: (e.target as HTMLSelectElement).value || null })}>
              <option value="">Any team</option>
              {teams.map((t) => <option value={t.id}>{t.name}</option>)}
            </select>
          </label>
          <fieldset>
            <legend>Channels (none: every channel)</legend>
            {channels.map((c) => (
              <label class="check"><input type="checkbox" checked={editing.input.channels?.includes(c.id)} onChange={() => set({ channels: toggle(editing.input.channels, c.id) })} /> {c.display_name}</label>
            ))}
          </fieldset>
          <fieldset>
            <legend>Kinds (none: every kind)</legend>
            {(Object.keys(KIND_WORDS) as Kind[]).map((k) => (
              <label class="check"><input type="checkbox" checked={editing.input.kinds?.includes(k)} onChange={() => set({ kinds: toggle(editing.input.kinds, k) })} /> {KIND_WORDS[k]}</label>
            ))}
          </fieldset>
          <label>First response within (minutes) <input type="number" min={1} aria-label="First response minutes" value={editing.input.first_response_minutes ?? ''} onInput={num('first_response_minutes')} /></label>
          <label>Next response within (minutes) <input type="number" min={1} aria-label="Next response minutes" value={editing.input.next_response_minutes ?? ''} onInput={num('next_response_minutes')} /></label>
          <label>Resolution within (minutes) <input type="number" min={1} aria-label="Resolution minutes" value={editing.input.resolution_minutes ?? ''} onInput={num('resolution_minutes')} /></label>
          <label class="check"><input type="checkbox" checked={editing.input.business_hours} onChange={(e) => set({ business_hours: (e.target as HTMLInputElement).checked })} /> Count only business hours (the channel's, else its team's)</label>
          <button class="primary" type="submit">Save</button> <button type="button" onClick={() => setEditing(null)}>Cancel</button>
        </form>
      )}
    </main>
  );
}
