// One ticket: its conversation or comment thread, live; who else is here; what can be done.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, call, type ActionKind, type ChannelSummary, type Message, type Schemas, type TicketDetail, type TicketRow, type User, type Viewer } from '../api/client';
import { subscribe, view } from '../live';
import { ago, handle, KIND_WORDS, platformName, when } from '../format';
import { navigate, setParams } from '../route';
import { ContactAttributes } from '../components/ContactAttributes';
import { Due } from '../components/Due';
import { SentimentSelect } from '../components/Sentiment';
import { Avatar, PlatformIcon } from '../components/Avatar';
import { Tags } from '../components/Tags';
import { Timeline } from '../components/Timeline';
import { Attachments } from '../components/Attachments';
import { ReplyBox } from '../components/ReplyBox';
import { ConsultDialog, openConsult, type ConsultAbout } from '../components/Consult';

interface Props {
  id: string;
  me: User;
  users: User[];
  channels: ChannelSummary[];
  onClose: () => void;
}

export function TicketView({ id, me, users, channels, onClose }: Props) {
  const [detail, setDetail] = useState<TicketDetail | null>(null);
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [viewers, setViewers] = useState<Viewer[]>([]);
  const [drafting, setDrafting] = useState(false);
  // Pages of older messages the agent scrolled back to, and the page before them.
  const [older, setOlder] = useState<Message[]>([]);
  const [olderPage, setOlderPage] = useState<number | null | undefined>(undefined);
  const [consulting, setConsulting] = useState<ConsultAbout | null>(null);
  const [consulted, setConsulted] = useState('');

  // Reloads can overlap (a live event, then an action's answer): only the newest one's answer
  // is shown, so a slow, older one never puts back what was just changed.
  const latest = useRef(0);
  const reload = () => {
    const mine = ++latest.current;
    return call(api.GET('/api/v1/tickets/{id}', { params: { path: { id } } })).then(
      (d) => {
        if (mine !== latest.current) return;
        setDetail(d);
        setError('');
        // What the agent has in front of them is seen (not a tab left in the background).
        if (d.ticket.unseen > 0 && document.visibilityState === 'visible') {
          call(api.POST('/api/v1/tickets/{id}/seen', { params: { path: { id } } })).catch(() => {});
        }
      },
      (e) => mine === latest.current && setError(e.message),
    );
  };

  useEffect(() => {
    const ask = (e: Event) => (setConsulted(''), setConsulting((e as CustomEvent<ConsultAbout>).detail));
    window.addEventListener('helpdesk:consult', ask);
    return () => window.removeEventListener('helpdesk:consult', ask);
  }, []);

  useEffect(() => {
    setConsulting(null);
    setConsulted('');
    setOlder([]);
    setOlderPage(undefined);
    reload();
    view(id);
    return () => view(null);
  }, [id]);

  useEffect(
    () =>
      subscribe((e) => {
        if (e.type === 'presence' && e.ticket_id === id) setViewers(e.viewers);
        if ((e.type === 'ticket_updated' || e.type === 'ticket_created') && e.ticket.id === id) {
          if (drafting && e.message?.direction === 'inbound') {
            setNotice(`${e.message.author.name} wrote a new message while you were typing. Read it before sending.`);
          }
          reload();
        }
        if ((e.type === 'note' || e.type === 'activity') && e.ticket_id === id) reload();
        if (e.type === 'contact_updated' && e.contact.id === detail?.contact?.id) reload();
        if (e.type === 'resync') reload();
      }),
    [id, drafting, detail?.contact?.id],
  );

  if (!detail) return <section class="ticket-pane">{error ? <p class="error">{error}</p> : <p class="loading">Loading…</p>}</section>;

  const t = detail.ticket;
  const comments = detail.thread.filter((o) => o.kind !== 'post');
  const nextOlder = olderPage === undefined ? detail.older_page : olderPage;
  const newestIds = new Set(detail.messages.map((m) => m.id));
  const shown = { ...detail, messages: [...older.filter((m) => !newestIds.has(m.id)), ...detail.messages] };
  const loadOlder = async () => {
    if (nextOlder === null || nextOlder === undefined) return;
    const page = await call(api.GET('/api/v1/tickets/{id}/messages', { params: { path: { id }, query: { page: nextOlder } } }));
    setOlder((have) => [...page.messages, ...have]);
    setOlderPage(page.older_page ?? null);
  };
  const channel = channels.find((c) => c.id === t.channel);
  const patch = async (body: Record<string, unknown>) => {
    try {
      await call(api.PATCH('/api/v1/tickets/{id}', { params: { path: { id } }, body }));
      await reload();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const act = async (type: ActionKind, message?: Message, extra: Record<string, unknown> = {}) => {
    setError('');
    try {
      const body = { type, message_id: message?.id ?? null, ...extra };
      await call(api.POST('/api/v1/tickets/{id}/actions', { params: { path: { id } }, body, headers: idempotencyKey(id, body) }));
      actionKeys.delete(JSON.stringify([id, body]));
    } catch (e) {
      setError(`${type.replace('_', ' ')} failed: ${(e as Error).message}`);
    }
    await reload();
  };
  const others = viewers.filter((v) => v.user_id !== me.id);

  return (
    <section class="ticket-pane" aria-label="Ticket" data-ticket={id}>
      <header class="ticket-head">
        <Avatar name={t.contact.name} url={t.contact.avatar_url} />
        <div class="who">
          <h2>{t.contact.name}</h2>
          <div class="row-meta">
            <PlatformIcon platform={t.platform} kind={t.kind} label />
            <span>{detail.channel_name}</span>
            <span class="kind">{KIND_WORDS[t.kind]}</span>
            {t.contact.handle && t.contact.handle !== t.contact.name && <span>{handle(t.contact.handle)}</span>}
            {t.contact.profile_url && /^https?:/.test(t.contact.profile_url) && (
              <a href={t.contact.profile_url} target="_blank" rel="noopener noreferrer">
                profile
              </a>
            )}
            {detail.contact?.blocked_us && <span class="warn">has blocked {platformName(t.platform)} messages from you</span>}
            {detail.contact?.opted_out && <span class="warn" data-opted-out>has opted out of messages: replies will not reach them</span>}
            {t.due && <Due due={t.due} now={Date.now()} />}
          </div>
        </div>
        <button class="link close" onClick={onClose} aria-label="Close ticket">
          ✕
        </button>
      </header>

      <div class="toolbar" role="toolbar" aria-label="Ticket actions">
        <span class={`queue q-${t.queue}`} data-queue={t.queue}>
          {t.queue}
        </span>
        {t.queue === 'resolved' || t.queue === 'archived' ? (
          <button onClick={() => patch({ queue: 'new' })}>Reopen</button>
        ) : (
          <button onClick={() => patch({ queue: 'resolved' })}>Resolve</button>
        )}
        {t.queue !== 'archived' && <button onClick={() => patch({ queue: 'archived' })}>Archive</button>}
        {t.snoozed_until != null ? (
          <span class="snoozed" data-snoozed-until={t.snoozed_until}>
            Snoozed until {when(t.snoozed_until)} <button class="link" onClick={() => patch({ snooze_until: null })}>Wake now</button>
          </span>
        ) : (
          t.queue !== 'resolved' &&
          t.queue !== 'archived' && (
            <select
              aria-label="Snooze"
              value=""
              onChange={(e) => {
                const until = snoozeChoice((e.target as HTMLSelectElement).value);
                if (until === 'reply') patch({ queue: 'pending' });
                else if (until) patch({ snooze_until: until });
              }}
            >
              <option value="">Snooze…</option>
              <option value="1h">For an hour</option>
              <option value="3h">For 3 hours</option>
              <option value="tomorrow">Until tomorrow, 9:00</option>
              <option value="monday">Until Monday, 9:00</option>
              <option value="reply">Until the customer answers</option>
            </select>
          )
        )}
        <button aria-pressed={t.flagged} onClick={() => patch({ flagged: !t.flagged })}>
          {t.flagged ? '⚑ Flagged' : 'Flag'}
        </button>
        <SentimentSelect value={t.sentiment} marked={t.sentiment_marked} label="Ticket sentiment" onMark={(s) => patch({ sentiment: s })} />
        <button onClick={() => openConsult(null)} title="Ask someone outside the helpdesk about this conversation, by email">
          Consult by email
        </button>
        <label>
          Assignee{' '}
          <select aria-label="Assign to" value={t.assignee ?? ''} onChange={(e) => patch({ assignee: (e.target as HTMLSelectElement).value })}>
            <option value="">Nobody</option>
            {users.map((u) => (
              <option value={u.id}>{u.id === me.id ? `${u.name} (me)` : u.name}</option>
            ))}
          </select>
        </label>
      </div>

      <div class="tag-lines">
        <div>
          <span class="label">Ticket tags</span>
          <Tags label="Ticket tag" tags={t.tags} onChange={(tags) => patch({ tags })} />
        </div>
        {detail.contact && (
          <div>
            <span class="label">Contact tags</span>
            <Tags
              label="Contact tag"
              tags={detail.contact.tags}
              onChange={async (tags) => {
                try {
                  await call(api.PATCH('/api/v1/contacts/{id}', { params: { path: { id: detail.contact!.id } }, body: { tags } }));
                  await reload();
                } catch (e) {
                  setError((e as Error).message);
                }
              }}
            />
          </div>
        )}
      </div>

      <div class="presence" aria-live="polite" data-presence>
        {others.map((v) => (
          <span class={`viewer ${v.typing ? 'typing' : ''}`} data-viewer={v.name}>
            {v.typing ? `${v.name} is typing a reply…` : `${v.name} is viewing`}
          </span>
        ))}
      </div>

      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}

      {consulting && (
        <ConsultDialog
          ticketId={id}
          about={consulting}
          onClose={() => setConsulting(null)}
          onSent={(to) => (setConsulting(null), setConsulted(`Sent to ${to}. Their answer will appear here as a note.`), reload())}
        />
      )}
      {consulted && (
        <p class="saved" role="status">
          {consulted}
        </p>
      )}

      {detail.contact && <ContactSide contactId={detail.contact.id} version={detail.contact.updated_at} />}

      <OtherTickets contactId={t.contact_id} name={t.contact.name} current={t.id} />

      {detail.post && <PostContext post={detail.post} platform={platformName(t.platform)} />}

      {comments.length > 0 && (
        <details class="thread-context">
          <summary>
            {t.kind === 'review'
              ? `${comments.length} other ${comments.length === 1 ? 'review' : 'reviews'} of the same place`
              : `${comments.length} other ${comments.length === 1 ? 'comment' : 'comments'} under the same post`}
          </summary>
          <ul>
            {comments.map((o) => (
              <li>
                <a href={`?ticket=${o.id}`} onClick={(e) => (e.preventDefault(), history.pushState(null, '', `/?ticket=${o.id}`), dispatchEvent(new PopStateEvent('popstate')))}>
                  {o.contact.name}: {o.preview}
                </a>
              </li>
            ))}
          </ul>
        </details>
      )}

      <Timeline
        detail={shown}
        me={me}
        users={users}
        channel={channel}
        onAction={act}
        onNotesChanged={reload}
        hasOlder={nextOlder !== null && nextOlder !== undefined}
        onLoadOlder={loadOlder}
      />

      <ReplyBox
        detail={detail}
        teammates={users.filter((u) => !u.disabled).map((u) => u.name)}
        channel={channel}
        notice={notice}
        onDismissNotice={() => setNotice('')}
        onDrafting={setDrafting}
        onSend={async (mode, text, resolve, files) => {
          if (mode === 'note') {
            await call(api.POST('/api/v1/tickets/{id}/notes', { params: { path: { id } }, body: { text } }));
          } else {
            const body = { type: mode, text, files };
            await call(api.POST('/api/v1/tickets/{id}/actions', { params: { path: { id } }, body, headers: idempotencyKey(id, body) }));
            actionKeys.delete(JSON.stringify([id, body]));
          }
          if (resolve) await call(api.PATCH('/api/v1/tickets/{id}', { params: { path: { id } }, body: { queue: 'resolved' } }));
          setNotice('');
          await reload();
        }}
      />
    </section>
  );
}

/** One key per intended action: sending the same action again after a failure (a timeout, a
 * lost connection) reuses its key, so the server performs it once however often it arrives. */
const actionKeys = new Map<string, string>();
function idempotencyKey(ticketId: string, body: Record<string, unknown>): Record<string, string> {
  const intent = JSON.stringify([ticketId, body]);
  let key = actionKeys.get(intent);
  if (!key) {
    // getRandomValues, unlike randomUUID, also works on pages served over plain http.
    key = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
    actionKeys.set(intent, key);
  }
  return { 'Idempotency-Key': key };
}

/** When a snooze choice ends, in the agent's time zone; `reply` leaves it to the customer. */
function snoozeChoice(choice: string, now = new Date()): number | 'reply' | null {
  const at9 = (days: number) => {
    const d = new Date(now);
    d.setDate(d.getDate() + days);
    d.setHours(9, 0, 0, 0);
    return d.getTime();
  };
  switch (choice) {
    case '1h':
      return now.getTime() + 3_600_000;
    case '3h':
      return now.getTime() + 3 * 3_600_000;
    case 'tomorrow':
      return at9(1);
    case 'monday':
      return at9(((8 - now.getDay()) % 7) || 7);
    case 'reply':
      return 'reply';
    default:
      return null;
  }
}

/** The post (or ad) a comment is under, as the customer saw it. */
function PostContext({ post, platform }: { post: Message; platform: string }) {
  return (
    <section class="post-context" aria-label={post.from_ad ? 'The ad this comment is under' : 'What this is about'}>
      {post.title && <h3 class="post-title">{post.title}</h3>}
      <header>
        {post.author.name !== post.title && <strong>{post.author.name}</strong>}
        {post.from_ad && <span class="tag">Ad</span>}
        <span class="muted">{when(post.created_at)}</span>
        {post.permalink && /^https?:/.test(post.permalink) && (
          <a href={post.permalink} target="_blank" rel="noopener noreferrer">
            Open on {platform}
          </a>
        )}
      </header>
      {post.text && <p class="post-text">{post.text}</p>}
      <Attachments message={post} />
    </section>
  );
}

/** Who the customer is: the attributes agents keep (editable here), and the way to their page
 * with every channel of theirs and contacts that may be them too. */
function ContactSide({ contactId, version }: { contactId: string; version: number }) {
  const [page, setPage] = useState<Schemas['ContactPage'] | null>(null);
  const [defs, setDefs] = useState<Schemas['AttributeDef'][]>([]);
  const load = () => call(api.GET('/api/v1/contacts/{id}', { params: { path: { id: contactId } } })).then(setPage, () => {});
  useEffect(() => void load(), [contactId, version]);
  useEffect(() => void call(api.GET('/api/v1/contact-attributes')).then((d) => setDefs(d.attributes), () => {}), []);
  if (!page) return null;
  const others = page.contacts.length - 1;
  return (
    <section class="contact-side" aria-label="About the contact">
      <a href={`/contacts/${encodeURIComponent(contactId)}`} onClick={(e) => (e.preventDefault(), navigate(`/contacts/${encodeURIComponent(contactId)}`))}>
        View contact{others > 0 ? ` (on ${others + 1} channels)` : ''}
      </a>
      {page.suggestions.length > 0 && (
        <span class="muted" data-suggestions={page.suggestions.length}>
          {' '}· {page.suggestions.length} {page.suggestions.length === 1 ? 'contact' : 'contacts'} may be the same person
        </span>
      )}
      {page.notes.length > 0 && <span class="muted"> · {page.notes.length} {page.notes.length === 1 ? 'note' : 'notes'}</span>}
      <ContactAttributes contactId={contactId} defs={defs} values={page.attributes as Record<string, unknown>} onSaved={load} />
    </section>
  );
}

/** The person's other tickets (conversations, comments) on every channel of theirs, newest first. */
function OtherTickets({ contactId, name, current }: { contactId: string; name: string; current: string }) {
  const [others, setOthers] = useState<TicketRow[] | null>(null);
  useEffect(() => {
    call(api.GET('/api/v1/tickets', { params: { query: { person: contactId, queue: 'all', limit: 11 } } })).then(
      (page) => setOthers(page.tickets.filter((o) => o.id !== current).slice(0, 10)),
      () => setOthers([]),
    );
  }, [contactId, current]);
  if (!others || others.length === 0) return null;
  return (
    <details class="thread-context other-tickets" data-other-tickets={others.length}>
      <summary>
        {others.length} other {others.length === 1 ? 'ticket' : 'tickets'} from {name}
      </summary>
      <ul>
        {others.map((o) => (
          <li>
            <a href={`?ticket=${o.id}`} onClick={(e) => (e.preventDefault(), setParams({ ticket: o.id }))}>
              {KIND_WORDS[o.kind]} · {o.queue} · {ago(o.last_message_at)}: {o.preview}
            </a>
          </li>
        ))}
      </ul>
    </details>
  );
}
