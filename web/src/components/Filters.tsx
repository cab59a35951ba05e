// The search box and filters; each change goes into the URL.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ChannelSummary, User } from '../api/client';
import { KIND_WORDS, platformName } from '../format';
import { setParams } from '../route';
import { useLanguages } from '../languages';

const FILTERS = ['in', 'platform', 'channel', 'kind', 'rating', 'assignee', 'tag', 'language', 'team', 'flagged', 'breach', 'sentiment', 'sort', 'from', 'to'];

/** `compact` (beside an open ticket): the search and a "Filters" button, the filters on demand. */
export function Filters({ params, channels, users, compact }: { params: URLSearchParams; channels: ChannelSummary[]; users: User[]; compact: boolean }) {
  const search = useRef<HTMLInputElement>(null);
  const languages = useLanguages();
  const [shown, setShown] = useState(false);
  const active = FILTERS.filter((k) => params.get(k)).length;
  useEffect(() => {
    const focus = () => search.current?.focus();
    window.addEventListener('helpdesk:search', focus);
    return () => window.removeEventListener('helpdesk:search', focus);
  }, []);
  useEffect(() => {
    if (search.current && document.activeElement !== search.current) search.current.value = params.get('q') ?? '';
  }, [params.get('q')]);

  const platforms = [...new Set(channels.map((c) => c.platform).filter((p): p is string => !!p))];
  const set = (k: string) => (e: Event) => setParams({ [k]: (e.target as HTMLInputElement).value, ticket: null });

  return (
    <div class="filters">
      <form
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setParams({ q: search.current?.value.trim() ?? '', ticket: null });
          search.current?.blur();
        }}
      >
        <input ref={search} type="search" name="q" placeholder="Search messages and names  ( / )" aria-label="Search" defaultValue={params.get('q') ?? ''} />
        {compact && (
          <button type="button" class="filters-toggle" aria-expanded={shown} onClick={() => setShown(!shown)}>
            Filters{active > 0 ? ` (${active})` : ''}
          </button>
        )}
      </form>
      <div class="filter-row" hidden={compact && !shown}>
        {params.get('q') && (
          <select aria-label="In queue" value={params.get('in') ?? ''} onChange={set('in')}>
            <option value="">In all queues</option>
            <option value="new">In New</option>
            <option value="pending">In Pending</option>
            <option value="resolved">In Resolved</option>
            <option value="archived">In Archived</option>
          </select>
        )}
        <select aria-label="Platform" value={params.get('platform') ?? ''} onChange={set('platform')}>
          <option value="">All platforms</option>
          {platforms.map((p) => (
            <option value={p}>{platformName(p)}</option>
          ))}
        </select>
        <select aria-label="Channel" value={params.get('channel') ?? ''} onChange={set('channel')}>
          <option value="">All channels</option>
          {channels.map((c) => (
            <option value={c.id}>{c.display_name}</option>
          ))}
        </select>
        <select aria-label="Kind" value={params.get('kind') ?? ''} onChange={set('kind')}>
          <option value="">All kinds</option>
          {Object.entries(KIND_WORDS).map(([k, w]) => (
            <option value={k}>{w}</option>
          ))}
        </select>
        {(params.get('kind') === 'review' || params.get('rating')) && (
          <select aria-label="Rating" value={params.get('rating') ?? ''} onChange={set('rating')}>
            <option value="">Any rating</option>
            <option value="1-2">1–2 stars</option>
            {[1, 2, 3, 4, 5].map((n) => (
              <option value={String(n)}>{n} {n === 1 ? 'star' : 'stars'}</option>
            ))}
          </select>
        )}
        <select aria-label="Assignee" value={params.get('assignee') ?? ''} onChange={set('assignee')}>
          <option value="">Anyone</option>
          {users.map((u) => (
            <option value={u.id}>{u.name}</option>
          ))}
        </select>
        <select aria-label="Language" value={params.get('language') ?? ''} onChange={set('language')}>
          <option value="">Any language</option>
          {Object.entries(languages).sort((a, b) => a[1].localeCompare(b[1])).map(([code, name]) => <option value={code}>{name}</option>)}
        </select>
        <input aria-label="Tag" placeholder="Tag" size={8} value={params.get('tag') ?? ''} onChange={set('tag')} />
        <label class="check">
          <input type="checkbox" aria-label="Flagged only" checked={params.get('flagged') === 'true'} onChange={(e) => setParams({ flagged: (e.target as HTMLInputElement).checked ? 'true' : null, ticket: null })} />
          Flagged
        </label>
 <select aria-label="Sentiment" value={params.get('sentiment') ?? ''} onChange={set('sentiment')}>
          <option value="">Any sentiment</option>
          <option value="positive">Positive</option>
          <option value="neutral">Neutral</option>
          <option value="negative">Negative</option>
        </select>
        <select aria-label="Response target" value={params.get('breach') ?? ''} onChange={set('breach')}>
          <option value="">Any due time</option>
          <option value="soon">Breaching soon</option>
          <option value="breached">Breached</option>
        </select>
        <select aria-label="Sort" value={params.get('sort') ?? ''} onChange={set('sort')}>
          <option value="">Newest first</option>
          <option value="oldest">Oldest first</option>
          <option value="waiting">Longest waiting</option>
          <option value="due">Due first</option>
        </select>
        <input type="date" aria-label="From" value={params.get('from') ?? ''} onChange={set('from')} />
        <input type="date" aria-label="To" value={params.get('to') ?? ''} onChange={set('to')} />
      </div>
    </div>
  );
}
