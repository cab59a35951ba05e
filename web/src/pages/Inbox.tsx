// The inbox: a queue or search on the left, the open ticket on the right, kept live.
// Live changes never move what is under the agent's pointer or selection: tickets that
// arrive while the list is in use wait behind a "new tickets" button.
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, call, type ChannelSummary, type Ticket, type TicketQuery, type TicketRow, type User } from '../api/client';
import { subscribe } from '../live';
import { setParams, type Route } from '../route';
import { Filters } from '../components/Filters';
import { TicketList } from '../components/TicketList';
import { ShortcutSheet } from '../components/ShortcutSheet';
import { CommandPalette, type Command } from '../components/CommandPalette';
import { TicketView } from './TicketView';
import { VIEWS } from '../components/Sidebar';
import { setBadge } from '../badge';
import { searchWords } from '../components/Highlight';

const PAGE = 50;

/** The API query for the view in the URL. */
export function queryOf(params: URLSearchParams, me: User): TicketQuery {
  const view = params.get('view') ?? 'new';
  const q: TicketQuery = { limit: PAGE };
  // Mine: what is still my work, waiting on us (New) or on the customer (Pending).
  if (view === 'mine') Object.assign(q, { assignee: me.id, queue: 'open' });
  else if (view === 'flagged') Object.assign(q, { flagged: true, queue: 'all' });
  // A search looks in every queue unless narrowed to one ("In:" beside the filters).
  else q.queue = params.get('q') ? (params.get('in') ?? 'all') : view;
  for (const k of ['q', 'platform', 'channel', 'kind', 'rating', 'tag', 'assignee', 'language', 'team', 'sentiment'] as const) {
    const v = params.get(k);
    if (v) q[k] = v;
  }
  if (params.get('flagged') === 'true') q.flagged = true;
  const sort = params.get('sort');
  if (sort === 'oldest' || sort === 'waiting' || sort === 'due') q.sort = sort;
  const breach = params.get('breach');
  if (breach === 'soon' || breach === 'breached') q.breach = breach;
  const day = (k: string, end: boolean) => {
    const v = params.get(k);
    if (!v) return undefined;
    const t = new Date(`${v}T00:00:00`).getTime();
    return Number.isNaN(t) ? undefined : end ? t + 86_400_000 : t;
  };
  q.from = day('from', false);
  q.to = day('to', true);
  return q;
}

/** Whether a changed ticket belongs in the list (a text search cannot be judged here). */
function matches(t: Ticket, q: TicketQuery): boolean | 'unknown' {
  if (q.queue === 'open' ? t.queue !== 'new' && t.queue !== 'pending' : q.queue && q.queue !== 'all' && t.queue !== q.queue) return false;
  if (q.platform && t.platform !== q.platform) return false;
  if (q.channel && t.channel !== q.channel) return false;
  if (q.kind && t.kind !== q.kind) return false;
  if (q.tag && !t.tags.includes(q.tag)) return false;
  if (q.assignee && t.assignee !== q.assignee) return false;
  if (q.flagged && !t.flagged) return false;
  if (q.rating) {
    const [low, high = low] = q.rating.split('-').map(Number);
    if (t.rating == null || t.rating < low || t.rating > high) return false;
  }
  if (q.from && t.last_message_at < q.from) return false;
  if (q.to && t.last_message_at >= q.to) return false;
  // A text search, or an order other than newest first, is the server's to judge.
  return q.q || q.sort ? 'unknown' : true;
}

export function Inbox({ me, route }: { me: User; route: Route }) {
  const params = route.params;
  const openId = params.get('ticket');
  const query = useMemo(() => queryOf(params, me), [params.toString()]);
  const key = JSON.stringify(query);

  const [rows, setRows] = useState<TicketRow[]>([]);
  const [total, setTotal] = useState(0);
  const [incoming, setIncoming] = useState<TicketRow[]>([]);
  const [error, setError] = useState('');
  const [selected, setSelected] = useState(0);
  const [sheet, setSheet] = useState(false);
  const [palette, setPalette] = useState(false);
  const [channels, setChannels] = useState<ChannelSummary[]>([]);
  const [users, setUsers] = useState<User[]>([]);
  const listBusy = useRef<() => boolean>(() => false);
  // Rows that just moved to their place, highlighted for a moment.
  const [moved, setMoved] = useState<Set<string>>(new Set());
  const flash = (id: string) => {
    setMoved((m) => new Set(m).add(id));
    setTimeout(() => setMoved((m) => ((m = new Set(m)), m.delete(id), m)), 1500);
  };
  // The rows as last rendered, for live events to look up without waiting for a render.
  const shown = useRef<TicketRow[]>([]);
  shown.current = rows;
  const loading = useRef(false);
  const loads = useRef(0);
  // Live changes that arrive while a reload is on its way: its answer may predate them.
  const liveDuringLoads = useRef(new Set<Map<string, TicketRow>>());

  useEffect(() => {
    call(api.GET('/api/v1/channels')).then(setChannels, () => {});
    call(api.GET('/api/v1/users')).then(setUsers, () => {});
  }, []);

  const load = useCallback(
    async (offset: number) => {
      if (loading.current && offset > 0) return;
      loading.current = true;
      // A view changed while this load was on its way (another sort, another queue): its
      // answer is for the view before and must not replace the new one's.
      const generation = offset === 0 ? ++loads.current : loads.current;
      const live = new Map<string, TicketRow>();
      if (offset === 0) liveDuringLoads.current.add(live);
      try {
        const page = await call(api.GET('/api/v1/tickets', { params: { query: { ...query, offset } } }));
        if (generation !== loads.current) return;
        if (offset === 0) {
          const fresh = page.tickets.map((t) => {
            const l = live.get(t.id);
            return l && l.seq > t.seq ? l : t;
          });
          const missed = [...live.values()].filter((l) => !fresh.some((t) => t.id === l.id) && matches(l, query) === true);
          setTotal(page.total + missed.length);
          setRows([...missed, ...fresh]);
        } else {
          setTotal(page.total);
          setRows((r) => [...r, ...page.tickets.filter((t) => !r.some((x) => x.id === t.id))]);
        }
        setError('');
      } catch (e) {
        setError((e as Error).message);
      } finally {
        liveDuringLoads.current.delete(live);
        loading.current = false;
      }
    },
    [key],
  );

  useEffect(() => {
    setRows([]);
    setIncoming([]);
    setSelected(0);
    load(0);
  }, [key]);

  const channelName = (id: string) => channels.find((c) => c.id === id)?.display_name ?? id;

  useEffect(
    () =>
      subscribe((e) => {
        if (e.type === 'resync') return void load(0);
        if (e.type !== 'ticket_created' && e.type !== 'ticket_updated') return;
        const t = e.ticket;
        const row: TicketRow = { ...t, channel_name: channelName(t.channel) };
        liveDuringLoads.current.forEach((m) => m.set(t.id, row));
        if (shown.current.some((x) => x.id === t.id)) {
          const fits = matches(t, query);
          // While the agent uses the list, or this is the ticket they have open, it changes in place.
          if (listBusy.current() || t.id === keys.current.openId || (fits !== false && query.sort)) {
            setRows((r) => r.map((x) => (x.id === t.id ? row : x)));
            return;
          }
          const selectedId = keys.current.rows[keys.current.selected]?.id;
          const keepSelection = (r: TicketRow[]) => {
            const i = r.findIndex((x) => x.id === selectedId);
            if (i >= 0) setSelected(i);
            return r;
          };
          if (fits === false) {
            // No longer in this view (resolved, assigned away): it leaves, and the count with it.
            setRows((r) => keepSelection(r.filter((x) => x.id !== t.id)));
            setTotal((n) => Math.max(0, n - 1));
            return;
          }
          // Newest first: to its place by its last message, with a moment's highlight.
          setRows((r) => {
            const rest = r.filter((x) => x.id !== t.id);
            // Before those of the same time: it is the latest change (platforms date to the second).
            const at = rest.findIndex((x) => x.last_message_at <= row.last_message_at);
            const next = [...rest.slice(0, at < 0 ? rest.length : at), row, ...rest.slice(at < 0 ? rest.length : at)];
            if (next.indexOf(row) !== r.findIndex((x) => x.id === t.id)) flash(t.id);
            return keepSelection(next);
          });
          return;
        }
        const m = matches(t, query);
        if (m === false) return setIncoming((r) => r.filter((x) => x.id !== t.id));
        if (!listBusy.current() && m === true) {
          setRows((r) => (r.some((x) => x.id === t.id) ? r : [row, ...r]));
          setTotal((n) => n + (e.type === 'ticket_created' ? 1 : 0));
          setSelected((s) => (s > 0 ? s + 1 : s));
        } else {
          setIncoming((r) => [row, ...r.filter((x) => x.id !== t.id)]);
        }
      }),
    [key, channels],
  );

  // What waited while the agent used the list joins it once they stop (the button stays for
  // searches and other orders, which the server has to place).
  const incomingRef = useRef(incoming);
  incomingRef.current = incoming;
  useEffect(() => {
    const timer = setInterval(() => {
      if (incomingRef.current.length > 0 && !query.q && !query.sort && !listBusy.current()) showIncoming();
    }, 1000);
    return () => clearInterval(timer);
  }, [key]);

  const showIncoming = () => {
    if (query.q || query.sort) return void load(0).then(() => setIncoming([]));
    const waiting = incomingRef.current;
    setRows((r) => [...waiting.filter((t) => !r.some((x) => x.id === t.id)), ...r]);
    setTotal((n) => n + waiting.length);
    setIncoming([]);
  };

  const view = params.get('view') ?? 'new';
  useEffect(() => setBadge(total, VIEWS.find(([k]) => k === view)?.[1] ?? 'Inbox'), [total, view]);

  const open = (id: string | null) => setParams({ ticket: id });
  const targetId = openId ?? rows[selected]?.id ?? null;
  const patch = async (body: Record<string, unknown>) => {
    const id = keys.current.targetId;
    if (!id) return;
    try {
      const updated = await call(api.PATCH('/api/v1/tickets/{id}', { params: { path: { id } }, body }));
      // The next key acts on what this one did, not on a row still waiting for its live event.
      setRows((r) => r.map((x) => (x.id === updated.id ? { ...x, ...updated } : x)));
      keys.current.rows = keys.current.rows.map((x) => (x.id === updated.id ? { ...x, ...updated } : x));
    } catch (e) {
      setError((e as Error).message);
    }
  };

  /** What Ctrl+K offers: the views, the orders, and what can be done to the open ticket. */
  const commands = (): Command[] => {
    const go = (view: string, label: string): Command => ({ label: `Go to ${label}`, run: () => setParams({ view, ticket: null, q: null, in: null }) });
    const list: Command[] = [
      ...VIEWS.map(([k, label]) => go(k, label)),
      { label: 'Sort: longest waiting first', run: () => setParams({ sort: 'waiting' }) },
      { label: 'Sort: newest first', run: () => setParams({ sort: null }) },
      { label: 'Sort: oldest first', run: () => setParams({ sort: 'oldest' }) },
      { label: 'Search messages and names', run: () => window.dispatchEvent(new Event('helpdesk:search')) },
      { label: 'Keyboard shortcuts', run: () => setSheet(true) },
    ];
    // The open ticket's actions (it may not be in this list: opened from a search).
    const t = rows.find((r) => r.id === openId) ?? (openId ? { queue: 'new', flagged: false } : null);
    if (t) {
      list.unshift(
        { label: 'Reply', run: () => window.dispatchEvent(new CustomEvent('helpdesk:compose', { detail: 'reply' })) },
        { label: 'Add an internal note', run: () => window.dispatchEvent(new CustomEvent('helpdesk:compose', { detail: 'note' })) },
        { label: t.queue === 'resolved' ? 'Reopen' : 'Resolve', run: () => void patch({ queue: t.queue === 'resolved' ? 'new' : 'resolved' }) },
        { label: 'Archive', run: () => void patch({ queue: 'archived' }) },
        { label: 'Assign to me', run: () => void patch({ assignee: me.id }) },
        { label: t.flagged ? 'Unflag' : 'Flag', run: () => void patch({ flagged: !t.flagged }) },
        { label: 'Snooze for an hour', run: () => void patch({ snooze_until: Date.now() + 3_600_000 }) },
        { label: 'Close the ticket', run: () => open(null) },
      );
    }
    return list;
  };

  /** Done with the open ticket (resolved, archived): the next one in the list opens. */
  const openNext = () => {
    const { rows, openId } = keys.current;
    const i = rows.findIndex((r) => r.id === openId);
    if (!openId || i < 0) return;
    const next = rows[i + 1] ?? rows[i - 1];
    if (!next) return;
    setSelected(rows.indexOf(next));
    open(next.id);
  };

  // The key handler reads the latest state through a ref assigned at render: effects run
  // after paint, and a fast typist must not act on the previous selection.
  const keys = useRef({ rows, selected, openId, sheet, targetId });
  keys.current = { rows, selected, openId, sheet, targetId };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const { rows, selected, openId, sheet } = keys.current;
      const el = e.target as HTMLElement;
      const typing = el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable;
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        setPalette(true);
        return;
      }
      if (e.key === 'Escape') {
        if (sheet) setSheet(false);
        else if (typing) el.blur();
        else if (openId) open(null);
        return;
      }
      if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
      const row = rows[selected];
      const t = openId ? rows.find((r) => r.id === openId) : row;
      const act: Record<string, () => void> = {
        j: () => setSelected((s) => Math.min(s + 1, rows.length - 1)),
        k: () => setSelected((s) => Math.max(s - 1, 0)),
        Enter: () => row && open(row.id),
        o: () => row && open(row.id),
        r: () => window.dispatchEvent(new CustomEvent('helpdesk:compose', { detail: 'reply' })),
        n: () => window.dispatchEvent(new CustomEvent('helpdesk:compose', { detail: 'note' })),
        e: () => patch({ queue: t?.queue === 'resolved' ? 'new' : 'resolved' }).then(openNext),
        x: () => patch({ queue: 'archived' }).then(openNext),
        i: () => patch({ assignee: me.id }),
        f: () => patch({ flagged: !t?.flagged }),
        '/': () => window.dispatchEvent(new Event('helpdesk:search')),
        '?': () => setSheet(true),
      };
      const f = act[e.key];
      if (f) {
        e.preventDefault();
        f();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <div class={`inbox ${openId ? 'with-ticket' : ''}`}>
      <section class="list-pane" aria-label="Tickets">
        <Filters params={params} channels={channels} users={users} compact={!!openId} />
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <div class="list-head">
          <span class="total" data-total={total}>
            {total} {total === 1 ? 'ticket' : 'tickets'}
          </span>
          {incoming.length > 0 && (
            <button class="incoming" onClick={showIncoming}>
              {incoming.length} new {incoming.length === 1 ? 'ticket' : 'tickets'} — show
            </button>
          )}
        </div>
        <TicketList
          rows={rows}
          selected={selected}
          openId={openId}
          hasMore={rows.length < total}
          onBusy={(b) => (listBusy.current = b)}
          onSelect={(i) => setSelected(i)}
          onOpen={(id) => open(id)}
          onMore={() => load(rows.length)}
          words={searchWords(query.q)}
          moved={moved}
        />
      </section>
      {openId && <TicketView key={openId} id={openId} me={me} users={users} channels={channels} onClose={() => open(null)} />}
      {sheet && <ShortcutSheet onClose={() => setSheet(false)} />}
      {palette && <CommandPalette commands={commands()} onOpenTicket={(id) => open(id)} onClose={() => setPalette(false)} />}
    </div>
  );
}
