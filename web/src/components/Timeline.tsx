// The ticket's history in one column: messages (newest at the bottom), internal notes and
// what agents did. Customer text is rendered as text, never as HTML.
import { MessageSentiment } from './Sentiment';
import { MessageTranslation } from './Translate';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { api, call, type ActionKind, type Activity, type ChannelSummary, type Message, type Note, type TicketDetail, type User } from '../api/client';
import { ago, stars, when } from '../format';
import { Attachments } from './Attachments';
import { Highlight, matchesAny, searchWords } from './Highlight';
import { useLanguages } from '../languages';
import { FollowUp, openConsult } from './Consult';

// The note itself shows an answer; the history keeps who was consulted.
const QUIET = ['action.reply', 'action.private_reply', 'consult.answered'];
/** Runs of more agent changes than this in a row show only their newest ones, the rest folded. */
const RUN = 3;

/** A time as "5 min", the full date and time on hover. */
function Ago({ at }: { at: number }) {
  return (
    <time dateTime={new Date(at).toISOString()} title={when(at)}>
      {ago(at)}
    </time>
  );
}

/** Consecutive activity lines past `RUN` folded into one "N earlier changes" line. */
function fold(entries: Entry[]): (Entry | Entry[])[] {
  const out: (Entry | Entry[])[] = [];
  let run: Entry[] = [];
  const flush = () => {
    if (run.length > RUN) out.push(run.slice(0, run.length - RUN), ...run.slice(run.length - RUN));
    else out.push(...run);
    run = [];
  };
  for (const e of entries) {
    if (e.activity) run.push(e);
    else {
      flush();
      out.push(e);
    }
  }
  flush();
  return out;
}

const ACTION_WORDS: Partial<Record<ActionKind, string>> = {
  like: 'Like',
  unlike: 'Unlike',
  react: 'React 👍',
  hide: 'Hide',
  unhide: 'Unhide',
  delete: 'Delete',
  block: 'Block author',
  unblock: 'Unblock author',
  mark_read: 'Mark read',
  follow: 'Follow',
  repost: 'Repost',
  unrepost: 'Undo repost',
  mute: 'Mute',
  unmute: 'Unmute',
  pin: 'Pin',
  unpin: 'Unpin',
  publish: 'Publish',
  reject: 'Reject',
  unfollow: 'Unfollow',
};

const VISIBILITY_WORDS: Record<string, string> = { held_for_review: 'Held for review', likely_spam: 'Likely spam' };

type Entry = { at: number; message?: Message; note?: Note; activity?: Activity };

interface Props {
  detail: TicketDetail;
  me: User;
  /** The team, to name whom a ticket was assigned to. */
  users: User[];
  channel?: ChannelSummary;
  onAction: (type: ActionKind, m: Message, extra?: Record<string, unknown>) => void;
  onNotesChanged: () => void;
  /// Earlier messages than `detail.messages` exist; `onLoadOlder` fetches the next page back.
  hasOlder: boolean;
  onLoadOlder: () => Promise<void>;
}

export function Timeline({ detail, me, users, channel, onAction, onNotesChanged, hasOlder, onLoadOlder }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const bottom = useRef<HTMLDivElement>(null);
  const top = useRef<HTMLButtonElement>(null);
  const [loading, setLoading] = useState(false);
  // Notes and activity from before the oldest loaded message wait until its page is loaded.
  const since = hasOlder ? (detail.messages[0]?.created_at ?? 0) : -Infinity;
  const entries: Entry[] = [
    ...detail.messages.map((m): Entry => ({ at: m.created_at, message: m })),
    ...detail.notes.map((n): Entry => ({ at: n.created_at, note: n })),
    // A sent reply is the message itself; only a failed one needs its own line.
    ...detail.activity.filter((a) => !a.what.startsWith('note.') && !(a.ok && QUIET.includes(a.what))).map((a): Entry => ({ at: a.at, activity: a })),
  ]
    .filter((e) => e.message || e.at >= since)
    .sort((a, b) => a.at - b.at);

  const newest = detail.messages[detail.messages.length - 1]?.id;
  const newestInboundId = [...detail.messages].reverse().find((m) => m.direction === 'inbound')?.id;
  // The list's search, marked in the thread it led to.
  const words = searchWords(new URLSearchParams(location.search).get('q'));
  // Open on the newest message, or on the first one a search found.
  useEffect(() => {
    const found = words.length > 0 ? box.current?.querySelector('.message.match') : null;
    if (found) found.scrollIntoView({ block: 'center' });
    else bottom.current?.scrollIntoView({ block: 'end' });
  }, [newest, detail.notes.length]);

  // Older messages go above what the agent is reading: keep it in place.
  const heightBefore = useRef<number | null>(null);
  const loadOlder = async () => {
    if (loading) return;
    setLoading(true);
    heightBefore.current = box.current?.scrollHeight ?? null;
    try {
      await onLoadOlder();
    } finally {
      setLoading(false);
    }
  };
  useLayoutEffect(() => {
    if (heightBefore.current !== null && box.current) {
      box.current.scrollTop += box.current.scrollHeight - heightBefore.current;
      heightBefore.current = null;
    }
  }, [detail.messages.length]);
  // Scrolling up to the top loads the page before.
  useEffect(() => {
    if (!hasOlder || !top.current) return;
    const seen = new IntersectionObserver((e) => e.some((x) => x.isIntersecting) && loadOlder(), { root: box.current });
    seen.observe(top.current);
    return () => seen.disconnect();
  }, [hasOlder, detail.messages.length, loading]);

  const platform = channel?.platform_name ?? detail.ticket.platform;
  // The customer's messages take the actions offered on any message; ours only those the
  // platform offers on our own (deleting our answer), and the customer's never those.
  const actionsFor = (m: Message) => {
    const cap = detail.capabilities.find((c) => c.kind === m.kind);
    if (!cap || m.removed) return [];
    const only = (cap.action_only ?? {}) as Partial<Record<ActionKind, string>>;
    return cap.actions.filter((a) => a in ACTION_WORDS && (only[a] ? only[a] === m.direction : m.direction === 'inbound'));
  };

  return (
    <div class="timeline" aria-label="Conversation" ref={box}>
      {hasOlder && (
        <button class="link older" ref={top} onClick={loadOlder} disabled={loading}>
          {loading ? 'Loading earlier messages…' : 'Earlier messages'}
        </button>
      )}
      {fold(entries).map((e) =>
        Array.isArray(e) ? (
          <details class="activity folded" key={`fold-${e[0].activity!.id}`}>
            <summary>
              {e.length} earlier {e.length === 1 ? 'change' : 'changes'}
            </summary>
            {e.map((x) => (
              <ActivityLine a={x.activity!} users={users} />
            ))}
          </details>
        ) : e.message ? (
          <MessageItem
            key={e.message.id}
            m={e.message}
            actions={actionsFor(e.message)}
            notes={detail.capabilities.find((c) => c.kind === e.message!.kind)?.action_notes ?? {}}
            platform={platform}
            onAction={onAction}
            words={words}
            newestInbound={e.message.id === newestInboundId}
            publicThread={!['private_message', 'group_message'].includes(detail.ticket.kind)}
          />
        ) : e.note ? (
          <NoteItem key={e.note.id} note={e.note} mine={e.note.author_id === me.id} ticketId={detail.ticket.id} onChanged={onNotesChanged} />
        ) : (
          <ActivityLine a={e.activity!} users={users} />
        ),
      )}
      <div ref={bottom} />
    </div>
  );
}

function ActivityLine({ a, users }: { a: Activity; users: User[] }) {
  return (
    <div class={`activity ${a.ok ? '' : 'failed'}`} key={a.id} data-activity={a.what}>
      {a.actor} · {describe(a, users)} · <Ago at={a.at} />
    </div>
  );
}

function describe(a: Activity, users: User[]): string {
  const [what, arg] = a.what.split(/[.:](.*)/s);
  if (what === 'action') return a.ok ? `${arg.replace('_', ' ')}: done` : `${arg.replace('_', ' ')} failed: ${a.detail}`;
  if (what === 'queue') return `moved to ${arg}`;
  if (what === 'tags') return arg ? `tags: ${arg}` : 'removed all tags';
  if (what === 'assignee') return arg === 'none' ? 'unassigned' : `assigned to ${users.find((u) => u.id === arg)?.name ?? arg}`;
  if (what === 'team') return arg === 'none' ? 'back to its channel\'s team' : `routed to team ${arg}`;
  if (what === 'snoozed') return `snoozed until ${when(Number(arg))}`;
  if (what === 'snooze') return `back in New: ${arg.replace(/^ended:/, '')}`;
  if (a.what === 'consult.sent') return `consulted ${a.detail} by email`;
  if (what === 'consult') return a.detail;
  return a.what;
}

function MessageItem({
  m,
  actions,
  notes,
  platform,
  onAction,
  words,
  newestInbound,
  publicThread,
}: {
  newestInbound: boolean;
  /** The ticket is a public thread (a comment, post, mention, review). */
  publicThread: boolean;
  m: Message;
  actions: ActionKind[];
  notes: Partial<Record<ActionKind, string[]>>;
  platform: string;
  onAction: Props['onAction'];
  words: string[];
}) {
  const languages = useLanguages();
  // One button per state: Like or Unlike, Hide or (with a badge) Unhide; what cannot be undone
  // or is rare behind "…".
  const offered = actions.filter((a) => {
    if (a === 'like') return !m.liked || !actions.includes('unlike');
    if (a === 'unlike') return m.liked;
    if (a === 'hide') return !m.hidden || !actions.includes('unhide');
    if (a === 'unhide') return m.hidden;
    if (a === 'mark_read') return newestInbound;
    if (a === 'pin') return !m.pinned;
    if (a === 'unpin') return m.pinned;
    // Publish releases what the platform holds or what was rejected; on the rest it is moot.
    if (a === 'publish') return m.visibility === 'held_for_review' || m.visibility === 'likely_spam' || m.visibility === 'hidden';
    if (a === 'reject') return m.visibility !== 'hidden';
    return true;
  });
  const RARE: ActionKind[] = ['delete', 'block', 'unblock', 'mute', 'unmute', 'reject', 'unfollow'];
  const shown = offered.filter((a) => !RARE.includes(a));
  const rare = offered.filter((a) => RARE.includes(a));
  const confirmAndAct = (a: ActionKind) => {
    if (a === 'delete' && !confirm(`Delete this message on ${platform}? This cannot be undone.`)) return;
    if (a === 'block' && !confirm(`Block ${m.author.name} on ${platform}?`)) return;
    if (a === 'reject' && !confirm(`Reject this comment on ${platform}? It and its replies leave the video.`)) return;
    onAction(a, m, a === 'react' ? { emoji: '👍' } : {});
  };
  return (
    <article class={`message ${m.direction} ${m.removed ? 'removed' : ''} ${matchesAny(m.text, words) ? 'match' : ''}`} data-message-id={m.id}>
      <header>
        <span class="author">{m.direction === 'outbound' ? m.sent_by ?? m.author.name ?? 'Us' : m.author.name}</span>
        <Ago at={m.created_at} />
        {publicThread && m.direction === 'outbound' && (
          // Under a comment, what we sent privately (a message to their inbox) is not what everyone sees.
          <span class={`badge ${m.kind === 'private_message' ? 'private-badge' : ''}`} data-reply={m.kind === 'private_message' ? 'private' : 'public'}>
            {m.kind === 'private_message' ? 'Private reply' : 'Public reply'}
          </span>
        )}
        {m.edited_at && m.edited_at > m.created_at && <span class="muted">edited</span>}
        {m.language && m.direction === 'inbound' && <span class="badge lang-badge" data-language={m.language} title={languages[m.language] ?? m.language}>{languages[m.language] ?? m.language}</span>}
        {m.direction === 'inbound' && !m.removed && <MessageSentiment m={m} />}
        {m.removed && <span class="muted">removed on the platform</span>}
        {m.hidden && (
          <span class="badge hidden-badge" data-hidden>
            Hidden
          </span>
        )}
        {m.liked && (
          <span class="badge" data-liked>
            Liked
          </span>
        )}
        {m.pinned && (
          <span class="badge" data-pinned>
            Pinned
          </span>
        )}
        {m.visibility && VISIBILITY_WORDS[m.visibility] && (
          <span class="badge held-badge" data-visibility={m.visibility}>
            {VISIBILITY_WORDS[m.visibility]}
          </span>
        )}
        {m.rating != null && (
          <span class="stars" data-rating={m.rating} aria-label={`${m.rating} of 5 stars`}>
            {stars(m.rating)}
          </span>
        )}
        {m.found_by && (
          <span class="badge" data-found-by={m.found_by} title="Found by keyword listening, not a mention of the account">
            found by “{m.found_by}”
          </span>
        )}
        {m.automated && (
          <span class="badge" data-automated={m.automated} title="No person wrote this: it does not reopen the ticket and rules do not answer it">
            {m.automated === 'bounce' ? 'Delivery report' : 'Auto-reply'}
          </span>
        )}
        {m.delivery && <span class={`delivery d-${m.delivery.state}`}>{m.delivery.state}{m.delivery.error ? `: ${m.delivery.error}` : ''}</span>}
        {m.permalink && /^https?:/.test(m.permalink) && (
          <a href={m.permalink} target="_blank" rel="noopener noreferrer">
            open on {platform}
          </a>
        )}
      </header>
      <p class="text">
        <Highlight text={m.text} words={words} />
      </p>
      {m.folded && (
        <details class="folded" data-folded>
          <summary>Show the quoted text</summary>
          <p class="text muted">{m.folded}</p>
        </details>
      )}
      <MessageTranslation m={m} />
      {(m.history ?? []).length > 0 && (
        <details class="history">
          <summary>Show the earlier {m.history!.length === 1 ? 'version' : `${m.history!.length} versions`}</summary>
          {m.history!.map((r) => (
            <p class="text muted">
              <span class="version">{r.edited_at ? `edited ${when(r.edited_at)}` : 'original'}:</span> {r.text}
            </p>
          ))}
        </details>
      )}
      {(m.reactions ?? []).length > 0 && (
        <div class="reactions" aria-label="Reactions">
          {(m.reactions ?? []).map((r) => (
            <span class="reaction" title={`${r.author_name}, ${when(r.at)}`}>
              {r.emoji} {r.author_name}
            </span>
          ))}
        </div>
      )}
      <Attachments message={m} />
      {(actions.length > 0 || !m.removed) && (
        <div class="message-actions" aria-label="Message actions">
          {shown.map((a) => (
            <button class="small" data-action={a} title={notes[a]?.join('; ')} onClick={() => confirmAndAct(a)}>
              {ACTION_WORDS[a]}
            </button>
          ))}
          {rare.length > 0 && (
            <details class="more-actions">
              <summary aria-label="More actions">…</summary>
              {rare.map((a) => (
                <button class="small" data-action={a} title={notes[a]?.join('; ')} onClick={() => confirmAndAct(a)}>
                  {ACTION_WORDS[a]}
                </button>
              ))}
            </details>
          )}
          <button class="small" data-consult title="Ask someone outside the helpdesk about this message, by email" onClick={() => openConsult(m)}>
            Consult…
          </button>
        </div>
      )}
    </article>
  );
}

function NoteItem({ note, mine, ticketId, onChanged }: { note: Note; mine: boolean; ticketId: string; onChanged: () => void }) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(note.text);
  const [error, setError] = useState('');
  const [writing, setWriting] = useState(false);
  const path = { params: { path: { id: ticketId, note_id: note.id } } };
  const save = async () => {
    try {
      await call(api.PATCH('/api/v1/tickets/{id}/notes/{note_id}', { ...path, body: { text } }));
      setEditing(false);
      onChanged();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const remove = async () => {
    if (!confirm('Delete this note?')) return;
    try {
      await call(api.DELETE('/api/v1/tickets/{id}/notes/{note_id}', path));
      onChanged();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <article class={`note ${note.email ? 'consultant' : ''}`} data-note-id={note.id} data-consultation={note.consultation_id ?? undefined}>
      <header>
        <span class="author">{note.author_name}</span>{' '}
        {note.email ? (
          <span class="badge" data-by-email={note.email} title="An answer by email to a consultation: only the team sees it">
            answered by email · {note.email}
          </span>
        ) : note.consultation_id ? (
          <span class="badge" data-consult-question title="Sent by email to someone outside the helpdesk">
            asked by email
          </span>
        ) : (
          <span class="muted">internal note</span>
        )}
        <Ago at={note.created_at} />
        {note.edited_at && <span class="muted">edited</span>}
        {note.consultation_id && !writing && (
          <button class="link" onClick={() => setWriting(true)}>
            Write again
          </button>
        )}
        {mine && !editing && !note.consultation_id && (
          <>
            <button class="link" onClick={() => setEditing(true)}>
              Edit
            </button>
            <button class="link" onClick={remove}>
              Delete
            </button>
          </>
        )}
      </header>
      {editing ? (
        <div>
          <textarea aria-label="Edit note" value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
          <button onClick={save}>Save</button> <button onClick={() => setEditing(false)}>Cancel</button>
        </div>
      ) : (
        <p class="text">{note.text}</p>
      )}
      {writing && note.consultation_id && <FollowUp ticketId={ticketId} consultationId={note.consultation_id} onDone={() => (setWriting(false), onChanged())} />}
      {error && <p class="error">{error}</p>}
    </article>
  );
}
