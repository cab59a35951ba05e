// Am I Available? The agent's own status (Available, Away, or an away status the admins
// added), teammates' statuses live, and notices of what is the agent's to do: a ticket the
// queue handed them, a customer's new message in their ticket, a note that @mentions them, a
// ticket of theirs about to miss its response target (with a browser notification and a short sound when the tab is hidden and they allowed it),
// each as the agent's own preferences say, and none from the channels they muted.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, call, type Schemas, type User } from '../api/client';
import { subscribe } from '../live';
import { navigate } from '../route';
import { forgetTranslation, useTranslation } from '../translation';
import { useLanguages } from '../languages';

type Person = Schemas['Availability'];
type Prefs = Schemas['NotificationPrefs'];
type What = 'Assigned to you' | 'New message' | 'Mentioned you' | 'Breaching soon';
const PREF: Record<What, 'assigned' | 'customer_message' | 'mention' | 'breach'> = { 'Assigned to you': 'assigned', 'New message': 'customer_message', 'Mentioned you': 'mention', 'Breaching soon': 'breach' };

export function Availability({ me }: { me: User }) {
  const [people, setPeople] = useState<Person[]>([]);
  const [statuses, setStatuses] = useState<string[]>(['available', 'away']);
  const [names, setNames] = useState<Record<string, string>>({});
  // The tickets the queue handed me since I last looked, the newest customer message first.
  const [notices, setNotices] = useState<{ id: string; who: string; at: number; what: string; key: string }[]>([]);
  const seenAt = useRef(new Map<string, number>());
  // Each ticket's channel, for muted channels (a note's event names only its ticket).
  const channelOf = useRef(new Map<string, string>());
  const [prefs, setPrefs] = useState<Prefs>({ assigned: true, customer_message: true, mention: true, breach: true, sound: true, muted_channels: [], email_digest: false });
  const prefsRef = useRef(prefs);
  prefsRef.current = prefs;
  const [channels, setChannels] = useState<{ id: string; display_name: string }[]>([]);
  const [showPrefs, setShowPrefs] = useState(false);
  const tell = (n: { id: string; who: string; at: number; what: What }, body: string) => {
    const p = prefsRef.current;
    const channel = channelOf.current.get(n.id);
    if (!p[PREF[n.what]] || (channel && p.muted_channels.includes(channel))) return;
    const key = `${n.what}:${n.id}`;
    setNotices((ns) => [{ ...n, key }, ...ns.filter((x) => x.key !== key)].sort((a, b) => b.at - a.at));
    if (document.hidden && 'Notification' in window && Notification.permission === 'granted') {
      new Notification(`${n.what}: ${n.who}`, { body, tag: key });
      if (p.sound) chime();
    }
  };
  const savePrefs = async (p: Prefs) => {
    setPrefs(p);
    await call(api.PUT('/api/v1/me/notifications', { body: p })).then(setPrefs, (e) => setError(e.message));
  };
  const [error, setError] = useState('');
  const mine = useRef(new Set<string>());

  const load = () =>
    call(api.GET('/api/v1/availability')).then((a) => {
      setPeople(a.people);
      setStatuses(a.statuses);
    }, () => {});

  useEffect(() => {
    load();
    call(api.GET('/api/v1/users')).then((us) => setNames(Object.fromEntries(us.map((u) => [u.id, u.name]))), () => {});
    call(api.GET('/api/v1/me/notifications')).then(setPrefs, () => {});
    call(api.GET('/api/v1/channels')).then(setChannels, () => {});
    return subscribe((e) => {
      if (e.type === 'availability') setPeople((ps) => [...ps.filter((p) => p.user_id !== e.availability.user_id), e.availability]);
      if (e.type === 'resync') load();
      if (e.type === 'ticket_created' || e.type === 'ticket_updated') {
        const t = e.ticket;
        channelOf.current.set(t.id, t.channel);
        const isMine = t.assignee === me.id && t.queue !== 'resolved' && t.queue !== 'archived';
        if (isMine && !mine.current.has(t.id) && t.auto_assigned) tell({ id: t.id, who: t.contact.name, at: t.last_message_at, what: 'Assigned to you' }, t.preview);
        // The customer wrote again in a ticket that was already mine.
        const before = seenAt.current.get(t.id);
        if (isMine && mine.current.has(t.id) && before !== undefined && t.last_message_at > before && !t.last_from_us && t.unseen > 0) {
          tell({ id: t.id, who: t.contact.name, at: t.last_message_at, what: 'New message' }, t.preview);
        }
        seenAt.current.set(t.id, t.last_message_at);
        if (isMine) mine.current.add(t.id);
        else {
          mine.current.delete(t.id);
          setNotices((ns) => (ns.some((n) => n.id === t.id) ? ns.filter((n) => n.id !== t.id) : ns));
        }
      }
      // My ticket is about to miss its response target.
      if (e.type === 'breach_soon' && e.ticket.assignee === me.id) {
        channelOf.current.set(e.ticket.id, e.ticket.channel);
        tell({ id: e.ticket.id, who: e.ticket.contact.name, at: e.ticket.due?.at ?? Date.now(), what: 'Breaching soon' }, e.ticket.preview);
      }
      if (e.type === 'note' && !e.deleted && e.note.mentions.includes(me.id) && e.note.author_id !== me.id) {
        const n = { id: e.ticket_id, who: e.note.author_name, at: e.note.edited_at ?? e.note.created_at, what: 'Mentioned you' as const };
        // A ticket this page has not seen yet: its channel first (muted channels say nothing).
        if (channelOf.current.has(e.ticket_id)) tell(n, e.note.text);
        else call(api.GET('/api/v1/tickets/{id}', { params: { path: { id: e.ticket_id } } })).then((v) => (channelOf.current.set(e.ticket_id, v.ticket.channel), tell(n, e.note.text)), () => tell(n, e.note.text));
      }
    });
  }, [me.id]);

  const self = people.find((p) => p.user_id === me.id);
  const set = async (status: string) => {
    setError('');
    try {
      const a = await call(api.PUT('/api/v1/availability/me', { body: { status, default_status: status === 'available' || status === 'away' ? status : undefined } }));
      setPeople((ps) => [...ps.filter((p) => p.user_id !== me.id), a]);
      if (status === 'available' && 'Notification' in window && Notification.permission === 'default') Notification.requestPermission().catch(() => {});
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const label = (s: string) => (s === 'available' ? 'Available' : s === 'away' ? 'Away' : s);
  const teammates = people.filter((p) => p.user_id !== me.id && names[p.user_id]).sort((a, b) => names[a.user_id].localeCompare(names[b.user_id]));

  return (
    <div class="availability">
      <label class="my-status">
        <span class={`dot ${self?.status === 'available' ? 'on' : 'off'}`} aria-hidden="true" />
        <select aria-label="My status" value={self?.status ?? 'available'} data-my-status={self?.status ?? 'available'} onChange={(e) => set((e.target as HTMLSelectElement).value)}>
          {statuses.map((s) => (
            <option value={s}>{label(s)}</option>
          ))}
        </select>
      </label>
      <button class="link" aria-expanded={showPrefs} onClick={() => setShowPrefs(!showPrefs)}>Notifications</button>
      {showPrefs && (
        <fieldset class="notification-prefs" aria-label="Notify me of">
          {(['assigned', 'customer_message', 'mention', 'breach', 'sound'] as const).map((k) => (
            <label>
              <input type="checkbox" checked={prefs[k]} data-pref={k} onChange={(e) => savePrefs({ ...prefs, [k]: (e.target as HTMLInputElement).checked })} />{' '}
              {{ assigned: 'Tickets assigned to me', customer_message: 'New messages in my tickets', mention: 'Mentions of me', breach: 'My tickets breaching their response target soon', sound: 'With a sound' }[k]}
            </label>
          ))}
          <label title="Sent through the helpdesk's own mail (Settings → Email) to your sign-in address">
            <input type="checkbox" checked={prefs.email_digest} data-pref="email_digest" onChange={(e) => savePrefs({ ...prefs, email_digest: (e.target as HTMLInputElement).checked })} />{' '}
            While I am away, email me a digest of what I missed
          </label>
          <TranslationPrefs />
          {channels.length > 1 && <span class="hint">Nothing from:</span>}
          {channels.length > 1 && channels.map((c) => (
            <label>
              <input type="checkbox" data-mute={c.id} checked={prefs.muted_channels.includes(c.id)}
                onChange={(e) => savePrefs({ ...prefs, muted_channels: (e.target as HTMLInputElement).checked ? [...prefs.muted_channels, c.id] : prefs.muted_channels.filter((x) => x !== c.id) })} />{' '}
              {c.display_name}
            </label>
          ))}
        </fieldset>
      )}
      {self?.idle && <span class="hint">Set Away while no helpdesk page was open</span>}
      {error && <span class="error" role="alert">{error}</span>}
      {teammates.length > 0 && (
        <ul class="teammates" aria-label="Teammates">
          {teammates.map((p) => (
            <li data-teammate={p.user_id} data-status={p.status}>
              <span class={`dot ${p.status === 'available' ? 'on' : 'off'}`} aria-hidden="true" />
              {names[p.user_id]} <span class="hint">{label(p.status)}</span>
            </li>
          ))}
        </ul>
      )}
      {notices.slice(0, 3).map((n) => (
        <p class="assigned-notice" role="status" data-notice={n.what} data-assigned={n.what === 'Assigned to you' ? n.id : undefined}>
          {n.what === 'Assigned to you' ? `Assigned to you: ${n.who}` : n.what === 'New message' ? `New message from ${n.who}` : n.what === 'Breaching soon' ? `Breaching soon: ${n.who}` : `${n.who} mentioned you`}{' '}
          <button class="link" onClick={() => (navigate('/', new URLSearchParams({ view: 'all', ticket: n.id })), setNotices((ns) => ns.filter((x) => x.key !== n.key)))}>Open</button>{' '}
          <button class="link" aria-label="Dismiss" onClick={() => setNotices((ns) => ns.filter((x) => x.key !== n.key))}>×</button>
        </p>
      ))}
      {notices.length > 3 && (
        <p class="hint">
          and {notices.length - 3} more <button class="link" onClick={() => setNotices([])}>Dismiss all</button>
        </p>
      )}
    </div>
  );
}

/** A short, quiet two-note chime (no sound file to fetch). */
function chime() {
  try {
    const ctx = new AudioContext();
    const gain = ctx.createGain();
    gain.gain.value = 0.05;
    gain.connect(ctx.destination);
    [660, 880].forEach((f, i) => {
      const o = ctx.createOscillator();
      o.frequency.value = f;
      o.connect(gain);
      o.start(ctx.currentTime + i * 0.12);
      o.stop(ctx.currentTime + i * 0.12 + 0.1);
    });
    setTimeout(() => ctx.close(), 500);
  } catch {
    // No audio here: the notice and the notification remain.
  }
}

/** My language, and whether customers' messages are translated into it as I open them. */
function TranslationPrefs() {
  const tr = useTranslation();
  const names = useLanguages();
  const [p, setP] = useState<{ language: string; auto: boolean } | null>(null);
  useEffect(() => setP({ language: tr.language, auto: tr.auto }), [tr.language, tr.auto]);
  if (!tr.configured || !p) return null;
  const save = (next: { language: string; auto: boolean }) => {
    setP(next);
    call(api.PUT('/api/v1/me/translation', { body: next })).then(() => forgetTranslation(), () => {});
  };
  return (
    <>
      <label>
        My language{' '}
        <select aria-label="My language" value={p.language} onChange={(e) => save({ ...p, language: (e.target as HTMLSelectElement).value })}>
          {Object.entries(names).sort((a, b) => a[1].localeCompare(b[1])).map(([code, name]) => <option value={code}>{name}</option>)}
        </select>
      </label>
      <label>
        <input type="checkbox" data-pref="auto_translate" checked={p.auto} onChange={(e) => save({ ...p, auto: (e.target as HTMLInputElement).checked })} /> Translate customers' messages into it
      </label>
    </>
  );
}
