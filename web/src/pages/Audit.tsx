// Admins: the audit log, newest first: sign-ins and failures, people and roles, channels and
// their settings, rules, saved replies, teams, targets, and every action on a platform (with
// what a delete or hide took away). Filters, the next page, CSV, and how long it is kept.
import { useEffect, useState } from 'preact/hooks';
import { api, call, type Schemas } from '../api/client';
import { when } from '../format';
import { setParams, type Route } from '../route';

type Entry = Schemas['AuditEntry'];
type Kind = Schemas['AuditKind'];

const KINDS: [Kind, string][] = [
  ['sign_in', 'Sign-ins'], ['sign_in_failed', 'Failed sign-ins'], ['sign_out', 'Sign-outs'], ['setup', 'Set-up'], ['user', 'People'],
  ['invitation', 'Invitations'], ['token', 'API tokens'], ['channel', 'Channels'], ['plugin', 'Plugins'], ['rule', 'Rules'],
  ['saved_reply', 'Saved replies'], ['contact', 'Contacts'], ['team', 'Teams'], ['response_target', 'Response targets'], ['settings', 'Settings'], ['platform_action', 'Platform actions'],
];
const PAGE = 100;

export function Audit({ route }: { route: Route }) {
  const p = route.params;
  const [entries, setEntries] = useState<Entry[]>([]);
  const [more, setMore] = useState(false);
  const [error, setError] = useState('');
  const [days, setDays] = useState(365);
  const day = (k: string, end: boolean) => {
    const v = p.get(k);
    if (!v) return undefined;
    const t = new Date(`${v}T00:00:00`).getTime();
    return Number.isNaN(t) ? undefined : end ? t + 86_400_000 : t;
  };
  const query = { kind: p.get('kind') || undefined, actor: p.get('actor') || undefined, from: day('from', false), to: day('to', true), limit: PAGE };
  const qs = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)])).toString();
  const load = (before?: number) =>
    call(api.GET('/api/v1/audit', { params: { query: { ...query, before } } })).then((es) => {
      setEntries((old) => (before ? [...old, ...es] : es));
      setMore(es.length === PAGE);
    }, (e) => setError(e.message));
  useEffect(() => {
    setError('');
    load();
  }, [qs]);
  useEffect(() => {
    call(api.GET('/api/v1/audit/settings')).then((s) => setDays(s.retention_days), () => {});
  }, []);
  const saveRetention = async (e: Event) => {
    e.preventDefault();
    setError('');
    await call(api.PUT('/api/v1/audit/settings', { body: { retention_days: days } })).then(() => load(), (err) => setError(err.message));
  };
  const set = (k: string) => (e: Event) => setParams({ [k]: (e.target as HTMLInputElement).value }, true);

  return (
    <main class="admin-page">
      <h1>Audit log</h1>
      <form class="report-controls" aria-label="Audit filters" onSubmit={(e) => e.preventDefault()}>
        <select aria-label="What" value={p.get('kind') ?? ''} onChange={set('kind')}>
          <option value="">Everything</option>
          {KINDS.map(([k, w]) => <option value={k}>{w}</option>)}
        </select>
        <input aria-label="Who" placeholder="Who" value={p.get('actor') ?? ''} onChange={set('actor')} />
        <label>From <input type="date" aria-label="From" value={p.get('from') ?? ''} onChange={set('from')} /></label>
        <label>To <input type="date" aria-label="To" value={p.get('to') ?? ''} onChange={set('to')} /></label>
        <a class="button" href={`/api/v1/audit?${qs}&format=csv`} download>Download CSV</a>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      <table class="grid audit">
        <thead>
          <tr><th>When</th><th>Who</th><th>What</th><th>On</th><th>Outcome</th><th>Detail</th></tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr data-audit={e.kind} class={e.ok ? '' : 'failed'}>
              <td>{when(e.at)}</td>
              <td>{e.actor}</td>
              <td>{KINDS.find(([k]) => k === e.kind)?.[1] ?? e.kind}<div class="hint">{e.action}</div></td>
              <td>{e.target ?? ''}</td>
              <td>{e.ok ? 'done' : `failed (${e.status})`}</td>
              <td>
                <code class="detail">{e.detail}</code>
                {e.content != null && <div class="removed" data-removed>Removed from the platform: “{e.content}”</div>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {entries.length === 0 && <p class="empty">Nothing recorded for these filters.</p>}
      {more && <button onClick={() => load(entries[entries.length - 1]?.at)}>Load more</button>}
      <form class="inline" aria-label="Audit retention" onSubmit={saveRetention}>
        <label>Keep entries for <input type="number" min={1} max={3650} aria-label="Retention days" value={days} onInput={(e) => setDays(Number((e.target as HTMLInputElement).value))} /> days</label> <button type="submit">Save</button>
      </form>
    </main>
  );
}
