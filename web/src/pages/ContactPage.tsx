// One person across platforms: their contacts on every channel (blocked, opted out), their
// tickets together, tags, notes about them, attributes; contacts suggested as the same person
// (a phone, email or handle matches) to link, links to undo. Live as teammates change it.
import { useEffect, useState } from 'preact/hooks';
import { api, call, type ChannelSummary, type Schemas, type TicketRow, type User } from '../api/client';
import { subscribe } from '../live';
import { ago, handle, KIND_WORDS, platformName, when } from '../format';
import { navigate } from '../route';
import { Avatar, PlatformIcon } from '../components/Avatar';
import { Tags } from '../components/Tags';
import { ContactAttributes } from '../components/ContactAttributes';

type Page = Schemas['ContactPage'];
type Merge = Schemas['ContactMerge'];

/** `phone:4915112345678` → "the phone number +4915112345678". */
export function matchWords(key: string): string {
  const [kind, value] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
  if (kind === 'phone') return `phone number +${value}`;
  if (kind === 'email') return `email ${value}`;
  if (kind === 'handle') return `handle @${value}`;
  return key;
}

export function ContactPage({ id, me }: { id: string; me: User }) {
  const [page, setPage] = useState<Page | null>(null);
  const [defs, setDefs] = useState<Schemas['AttributeDef'][]>([]);
  const [tickets, setTickets] = useState<TicketRow[]>([]);
  const [channels, setChannels] = useState<ChannelSummary[]>([]);
  const [error, setError] = useState('');
  const [note, setNote] = useState('');

  const load = async () => {
    try {
      const p = await call(api.GET('/api/v1/contacts/{id}', { params: { path: { id } } }));
      setPage(p);
      const t = await call(api.GET('/api/v1/tickets', { params: { query: { person: id, queue: 'all', limit: 50 } } }));
      setTickets(t.tickets);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  useEffect(() => {
    setPage(null);
    setError('');
    load();
    call(api.GET('/api/v1/contact-attributes')).then((d) => setDefs(d.attributes), () => {});
    call(api.GET('/api/v1/channels')).then(setChannels, () => {});
  }, [id]);
  const mine = new Set(page?.contacts.map((c) => c.id) ?? [id]);
  useEffect(
    () =>
      subscribe((e) => {
        if (e.type === 'contact_updated' && (mine.has(e.contact.id) || e.contact.person === page?.contact.person)) load();
        if ((e.type === 'ticket_created' || e.type === 'ticket_updated') && mine.has(e.ticket.contact_id)) load();
        if (e.type === 'resync') load();
      }),
    [id, page],
  );

  const run = async (f: () => Promise<unknown>) => {
    setError('');
    try {
      await f();
    } catch (e) {
      setError((e as Error).message);
    }
    await load();
  };

  if (!page) return <main class="admin-page contact-page">{error ? <p class="error">{error}</p> : <p class="loading">Loading…</p>}</main>;

  const c = page.contact;
  const channelName = (ch: string) => channels.find((x) => x.id === ch)?.display_name ?? ch;
  const platformOf = (ch: string) => channels.find((x) => x.id === ch)?.platform ?? ch;

  // Tags are kept per contact: one added goes on this contact, one removed leaves all of them.
  const setTags = (tags: string[]) =>
    run(async () => {
      for (const x of page.contacts) {
        const next = x.id === c.id ? [...new Set([...x.tags.filter((t) => tags.includes(t)), ...tags.filter((t) => !page.tags.includes(t))])] : x.tags.filter((t) => tags.includes(t));
        if (next.length !== x.tags.length || next.some((t) => !x.tags.includes(t))) {
          await call(api.PATCH('/api/v1/contacts/{id}', { params: { path: { id: x.id } }, body: { tags: next } }));
        }
      }
    });

  return (
    <main class="admin-page contact-page" aria-label="Contact" data-contact={c.id} data-person={c.person ?? ''}>
      <header class="ticket-head">
        <Avatar name={c.author.name} url={c.author.avatar_url} />
        <div class="who">
          <h1>{c.author.name}</h1>
          <div class="row-meta">
            {page.contacts.length > 1 ? `One person on ${page.contacts.length} channels` : `On ${channelName(c.channel)}`}
          </div>
        </div>
      </header>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}

      <section aria-label="Contacts of this person">
        <h2>Contacts</h2>
        <ul class="contact-list">
          {page.contacts.map((x) => (
            <li data-linked-contact={x.id}>
              <PlatformIcon platform={platformOf(x.channel)} label />
              <strong>{x.author.name}</strong>
              <span class="muted">{channelName(x.channel)}</span>
              {x.author.handle && x.author.handle !== x.author.name && <span>{handle(x.author.handle)}</span>}
              {x.author.profile_url && /^https?:/.test(x.author.profile_url) && (
                <a href={x.author.profile_url} target="_blank" rel="noopener noreferrer">
                  profile
                </a>
              )}
              {x.blocked_us && <span class="warn">has blocked {platformName(platformOf(x.channel))} messages from you</span>}
              {x.opted_out && (
                <span class="warn" data-opted-out>
                  opted out of messages
                </span>
              )}
              {page.contacts.length > 1 && (
                <button class="link" onClick={() => run(() => call(api.DELETE('/api/v1/contacts/{id}/person', { params: { path: { id: x.id } } })))}>
                  Unlink
                </button>
              )}
            </li>
          ))}
        </ul>
      </section>

      {page.suggestions.length > 0 && (
        <section aria-label="Maybe the same person" class="suggestions">
          <h2>Maybe the same person</h2>
          <ul class="contact-list">
            {page.suggestions.map((s) => (
              <li data-suggestion={s.contact.id}>
                <PlatformIcon platform={platformOf(s.contact.channel)} label />
                <strong>{s.contact.author.name}</strong>
                <span class="muted">{channelName(s.contact.channel)}</span>
                <span>same {s.matched.map(matchWords).join(', ')}</span>
                <button onClick={() => run(() => call(api.POST('/api/v1/contacts/{id}/links', { params: { path: { id: c.id } }, body: { contact: s.contact.id } })))}>
                  Link as the same person
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}

      <section aria-label="Attributes">
        <h2>Attributes</h2>
        {defs.some((d) => d.shown) ? (
          <ContactAttributes contactId={c.id} defs={defs} values={page.attributes as Record<string, unknown>} onSaved={load} />
        ) : (
          <p class="empty">No contact attributes are defined{me.role === 'admin' ? ' (Admin → Contact attributes)' : ''}.</p>
        )}
      </section>

      <section aria-label="Tags">
        <h2>Tags</h2>
        <Tags label="Contact tag" tags={page.tags} onChange={setTags} />
      </section>

      <section aria-label="Tickets of this person">
        <h2>Tickets</h2>
        <ul class="contact-tickets">
          {tickets.map((t) => (
            <li data-person-ticket={t.id} data-platform={t.platform}>
              <a href={`/?ticket=${t.id}&view=all`} onClick={(e) => (e.preventDefault(), navigate('/', { view: 'all', ticket: t.id }))}>
                <PlatformIcon platform={t.platform} kind={t.kind} /> {channelName(t.channel)} · {KIND_WORDS[t.kind]} · {t.queue} · {ago(t.last_message_at)}: {t.preview}
              </a>
            </li>
          ))}
        </ul>
        {tickets.length === 0 && <p class="empty">No tickets.</p>}
      </section>

      <section aria-label="Notes about this person">
        <h2>Notes</h2>
        <ul class="contact-notes">
          {page.notes.map((n) => (
            <li data-contact-note={n.id}>
              <p>{n.text}</p>
              <span class="muted">
                {n.author_name} · {when(n.created_at)}
              </span>{' '}
              {(n.author_id === me.id || me.role === 'admin') && (
                <button class="link" onClick={() => run(() => call(api.DELETE('/api/v1/contacts/{id}/notes/{note_id}', { params: { path: { id: c.id, note_id: n.id } } })))}>
                  Delete
                </button>
              )}
            </li>
          ))}
        </ul>
        <form
          aria-label="Add a note about this person"
          onSubmit={(e) => {
            e.preventDefault();
            const text = note;
            run(async () => {
              await call(api.POST('/api/v1/contacts/{id}/notes', { params: { path: { id: c.id } }, body: { text } }));
              setNote('');
            });
          }}
        >
          <textarea aria-label="Note about this person" rows={2} value={note} onInput={(e) => setNote((e.target as HTMLTextAreaElement).value)} />
          <button type="submit" disabled={!note.trim()}>
            Add note
          </button>
        </form>
      </section>

      {page.merges.length > 0 && (
        <section aria-label="Link history">
          <h2>Link history</h2>
          <ul class="merges">
            {page.merges.map((m: Merge) => (
              <li data-merge={m.id} data-undone={m.undone_at ? 'yes' : 'no'}>
                {m.by} linked {m.linked_name} to {m.into_name} · {when(m.at)}
                {m.matched.length > 0 && <span class="muted"> (same {m.matched.map(matchWords).join(', ')})</span>}
                {m.undone_at ? (
                  <span class="muted">
                    {' '}
                    · undone by {m.undone_by} · {when(m.undone_at)}
                  </span>
                ) : (
                  <>
                    {' '}
                    <button class="link" onClick={() => run(() => call(api.POST('/api/v1/contact-merges/{id}/undo', { params: { path: { id: m.id } } })))}>
                      Undo
                    </button>
                  </>
                )}
              </li>
            ))}
          </ul>
        </section>
      )}
    </main>
  );
}
