// Saved replies in the reply box: `/` (or the button) opens a search over their titles and
// texts; Enter inserts the chosen one with its variables filled in (the contact's attributes
// too), asking for any the ticket has no value for, and its files join the reply. Several can
// go into one reply.
import { useEffect, useState } from 'preact/hooks';
import { api, call, type ChannelSummary, type Schemas, type StoredFile, type TicketDetail } from '../api/client';

type Saved = Schemas['SavedReply'];

let cache: Promise<Saved[]> | null = null;
let me: Promise<string> | null = null;

/** The saved replies, fetched once per page (and again after an edit elsewhere reloads). */
export function savedReplies(): Promise<Saved[]> {
  cache ??= call(api.GET('/api/v1/saved-replies')).catch(() => []);
  return cache;
}

/** Words of `q` all found in the title or text, in any order: a forgiving search. */
function matches(r: Saved, q: string): boolean {
  const hay = `${r.title} ${r.text}`.toLowerCase();
  return q.toLowerCase().split(/\s+/).filter(Boolean).every((w) => hay.includes(w));
}

/** What the ticket knows of each variable; missing ones are asked for. */
async function known(detail: TicketDetail, channel?: ChannelSummary): Promise<Record<string, string | undefined>> {
  me ??= call(api.GET('/api/v1/me')).then((u) => u.name, () => '');
  const agent = await me;
  const contact = detail.ticket.contact.name;
  // A number or an id is no first name.
  const first = /^[\p{L}]/u.test(contact) ? contact.split(/\s+/)[0] : undefined;
  // The person's attributes (`{{contact.order_number}}`), as the contact page resolves them.
  const page = await call(api.GET('/api/v1/contacts/{id}', { params: { path: { id: detail.ticket.contact_id } } })).catch(() => null);
  const attributes: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(page?.attributes ?? {})) {
    if (value !== null && value !== undefined && value !== '') attributes[`contact.${key}`] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return {
    ...attributes,
    'contact.name': contact,
    'contact.first_name': first,
    'agent.name': agent || undefined,
    'agent.first_name': agent ? agent.split(/\s+/)[0] : undefined,
    'channel.name': channel?.display_name,
    'ticket.id': detail.ticket.id,
  };
}

export function fill(text: string, values: Record<string, string | undefined>): string {
  return text.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_, name) => values[name] ?? '');
}

interface Props {
  detail: TicketDetail;
  channel?: ChannelSummary;
  query: string;
  onInsert: (text: string, files: StoredFile[]) => void;
  onClose: () => void;
}

export function SavedReplyPicker({ detail, channel, query, onInsert, onClose }: Props) {
  const [all, setAll] = useState<Saved[]>([]);
  const [at, setAt] = useState(0);
  const [asking, setAsking] = useState<{ reply: Saved; values: Record<string, string | undefined>; missing: string[] } | null>(null);
  useEffect(() => void savedReplies().then(setAll), []);
  const found = all.filter((r) => matches(r, query)).slice(0, 8);
  useEffect(() => setAt(0), [query]);

  const choose = async (r: Saved) => {
    const values = await known(detail, channel);
    const missing = r.variables.filter((v) => !values[v]);
    if (missing.length) setAsking({ reply: r, values, missing });
    else onInsert(fill(r.text, values), r.files);
  };

  useEffect(() => {
    if (asking) return;
    const keys = (e: KeyboardEvent) => {
      if (e.key === 'ArrowDown') (e.preventDefault(), setAt((n) => Math.min(n + 1, found.length - 1)));
      else if (e.key === 'ArrowUp') (e.preventDefault(), setAt((n) => Math.max(n - 1, 0)));
      else if (e.key === 'Enter' && !e.ctrlKey && !e.metaKey && found[at]) (e.preventDefault(), e.stopPropagation(), choose(found[at]));
      else if (e.key === 'Escape') (e.preventDefault(), onClose());
    };
    window.addEventListener('keydown', keys, true);
    return () => window.removeEventListener('keydown', keys, true);
  }, [found.map((r) => r.id).join(), at, asking]);

  if (asking) {
    return (
      <form
        class="saved-replies asking"
        aria-label="Fill in the saved reply"
        onSubmit={(e) => {
          e.preventDefault();
          const f = new FormData(e.target as HTMLFormElement);
          const values = { ...asking.values };
          for (const v of asking.missing) values[v] = String(f.get(v) ?? '');
          onInsert(fill(asking.reply.text, values), asking.reply.files);
        }}
      >
        <p>“{asking.reply.title}” needs:</p>
        {asking.missing.map((v, n) => (
          <label>
            {v} <input name={v} required autoFocus={n === 0} />
          </label>
        ))}
        <button class="primary" type="submit">Insert</button> <button type="button" onClick={onClose}>Cancel</button>
      </form>
    );
  }
  return (
    <div class="saved-replies" role="listbox" aria-label="Saved replies">
      {found.length === 0 && <p class="hint">{all.length ? 'No saved reply matches.' : 'No saved replies yet.'}</p>}
      {found.map((r, n) => (
        <div role="option" aria-selected={n === at} class={n === at ? 'active' : ''} data-saved-reply={r.title} onMouseDown={(e) => (e.preventDefault(), choose(r))}>
          <strong>{r.title}</strong> <span class="hint">{r.text.slice(0, 80)}</span>
          {r.files.length > 0 && <span class="hint"> · 📎 {r.files.length === 1 ? r.files[0].name : `${r.files.length} files`}</span>}
        </div>
      ))}
      <p class="hint">↑↓ to choose, Enter to insert, Esc to close</p>
    </div>
  );
}
