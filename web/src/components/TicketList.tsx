// The ticket rows: author, platform and channel, kind, time and the newest message; what no
// agent has seen yet (bold, with a count), how long the customer has been waiting and the
// time left to the response target.
// Pages load as the list scrolls; while the agent moves over it or scrolls it, it counts as
// busy so that live arrivals wait instead of shifting the row about to be clicked.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { TicketRow } from '../api/client';
import { ago, KIND_WORDS, stars, timeLeft, waited, when } from '../format';
import { Avatar, PlatformIcon } from './Avatar';
import { Highlight } from './Highlight';
import { Due } from './Due';

/** How long after the last move or scroll the list counts as in use. */
const IDLE_MS = 2000;

interface Props {
  rows: TicketRow[];
  selected: number;
  openId: string | null;
  hasMore: boolean;
  /** Hands over how to tell whether the agent is using the list right now. */
  onBusy: (busy: () => boolean) => void;
  onSelect: (i: number) => void;
  onOpen: (id: string) => void;
  onMore: () => void;
  /** The search's words, marked in each preview. */
  words: string[];
  /** Rows that just moved to their place. */
  moved: Set<string>;
}

export function TicketList({ rows, selected, openId, hasMore, onBusy, onSelect, onOpen, onMore, words, moved }: Props) {
  const list = useRef<HTMLUListElement>(null);
  const hovered = useRef(false);
  // Busy is in use now: the pointer moving over the list or the list scrolling in the last
  // moments. A pointer resting on the list is not (the list would freeze for as long).
  const active = useRef(0);
  const busy = () => {
    active.current = Date.now();
    onBusy(() => hovered.current && Date.now() - active.current < IDLE_MS);
  };
  // Waiting times move on while the list sits still.
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(timer);
  }, []);

  useEffect(() => {
    list.current?.querySelector('[aria-selected="true"]')?.scrollIntoView({ block: 'nearest' });
  }, [selected]);

  const onScroll = () => {
    busy();
    const el = list.current;
    if (el && hasMore && el.scrollTop + el.clientHeight > el.scrollHeight - 400) onMore();
  };

  if (rows.length === 0) return <p class="empty">Nothing here.</p>;
  return (
    <ul
      class="tickets"
      ref={list}
      role="listbox"
      aria-label="Ticket list"
      onScroll={onScroll}
      onMouseEnter={() => ((hovered.current = true), busy())}
      onMouseMove={busy}
      onWheel={busy}
      onMouseLeave={() => ((hovered.current = false), busy())}
    >
      {rows.map((t, i) => (
        <li
          key={t.id}
          role="option"
          data-ticket-id={t.id}
          aria-selected={i === selected}
          class={`ticket-row ${t.id === openId ? 'open' : ''} queue-${t.queue} ${t.unseen > 0 ? 'unseen' : ''} ${moved.has(t.id) ? 'moved' : ''}`}
          onClick={() => (onSelect(i), onOpen(t.id))}
        >
          <Avatar name={t.contact.name} url={t.contact.avatar_url} />
          <div class="row-main">
            <div class="row-top">
              <span class="author">{t.contact.name}</span>
              {t.unseen > 0 && (
                <span class="unseen-count" title={`${t.unseen} new ${t.unseen === 1 ? 'message' : 'messages'} no agent has seen`}>
                  {t.unseen}
                </span>
              )}
              {t.flagged && (
                <span class="flag" title="Flagged">
                  ⚑
                </span>
              )}
              {t.waiting_since != null && (t.queue === 'new' || t.queue === 'pending') ? (
                <span class="waiting" data-waiting-since={t.waiting_since} title={`Waiting for an answer since ${when(t.waiting_since)}`}>
                  waiting {waited(t.waiting_since, now)}
                </span>
              ) : (
                <time dateTime={new Date(t.last_message_at).toISOString()} title={when(t.last_message_at)}>
                  {ago(t.last_message_at, now)}
                </time>
              )}
            </div>
            <div class="row-meta">
              <PlatformIcon platform={t.platform} kind={t.kind} />
              <span class="channel">{t.channel_name}</span>
              <span class="kind">{KIND_WORDS[t.kind]}</span>
              {t.rating != null && (
                <span class="stars" data-rating={t.rating} title={`${t.rating} of 5 stars`} aria-label={`${t.rating} of 5 stars`}>
                  {stars(t.rating)}
                </span>
              )}
              {t.queue !== 'new' && <span class={`queue q-${t.queue}`}>{t.queue}</span>}
              {t.due && <Due due={t.due} now={now} />}
              {t.snoozed_until != null && (
                <span class="snoozed" title={`Snoozed until ${when(t.snoozed_until)}`}>
                  ⏰ {timeLeft(t.snoozed_until, now) ?? 'due'}
                </span>
              )}
              {t.tags.map((tag) => (
                <span class="tag small">{tag}</span>
              ))}
            </div>
            <div class="preview">
              {t.last_from_us && <span class="you">You: </span>}
              <Highlight text={t.preview} words={words} />
            </div>
          </div>
        </li>
      ))}
      {hasMore && (
        <li class="more">
          <button onClick={onMore}>Load more</button>
        </li>
      )}
    </ul>
  );
}
