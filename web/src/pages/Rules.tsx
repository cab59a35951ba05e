// Admins: rules that act on what customers send as it arrives and on tickets' status changes
// (auto-moderation and automation), in order, each with its last failure; a dry run over a past
// period that lists what a rule would have done, changing nothing, then a run that does it.
import { useEffect, useState } from 'preact/hooks';
import { api, call, type ChannelSummary, type Schemas } from '../api/client';

type Rule = Schemas['Rule'];
type RuleInput = Schemas['RuleInput'];
type Saved = Schemas['SavedReply'];
type Team = Schemas['Team'];
const QUEUES = ['new', 'pending', 'resolved', 'archived'] as const;
const KINDS = ['comment', 'reply', 'ad_comment', 'post', 'mention', 'review', 'private_message', 'group_message'] as const;

interface Draft {
  id?: string;
  name: string;
  trigger: 'new_ticket' | 'customer_message' | 'no_reply' | 'status_changed';
  queues: string[];
  languages: string;
  sentiment: '' | 'positive' | 'neutral' | 'negative';
  contactTags: string;
  history: '' | 'first' | 'returning';
  team: string;
  resolve: boolean;
  minutes: string;
  channels: string[];
  kinds: string[];
  words: string;
  regex: string;
  hide: boolean;
  del: boolean;
  like: boolean;
  tag: string;
  archive: boolean;
  flag: boolean;
  note: string;
  replies: string[];
  privately: boolean;
  stop: boolean;
  position: number;
  hours: '' | 'inside' | 'outside';
  cooldown: string;
}

const blank: Draft = { queues: [], languages: '', sentiment: '', contactTags: '', history: '', team: '', resolve: false, name: '', trigger: 'new_ticket', minutes: '30', channels: [], kinds: [], words: '', regex: '', hide: false, del: false, like: false, tag: '', archive: false, flag: false, note: '', replies: [], privately: false, stop: false, position: 0, hours: '', cooldown: '' };

function toInput(d: Draft): RuleInput {
  const actions: RuleInput['actions'] = [];
  if (d.hide) actions.push({ type: 'platform', action: 'hide' });
  if (d.del) actions.push({ type: 'platform', action: 'delete' });
  if (d.like) actions.push({ type: 'platform', action: 'like' });
  if (d.replies.length) actions.push({ type: 'reply', saved_replies: d.replies, private: d.privately });
  if (d.tag.trim()) actions.push({ type: 'tag', tag: d.tag.trim() });
  if (d.flag) actions.push({ type: 'flag' });
  if (d.archive) actions.push({ type: 'queue', queue: 'archived' });
  else if (d.resolve) actions.push({ type: 'queue', queue: 'resolved' });
  if (d.team) actions.push({ type: 'team', team_id: d.team });
  if (d.note.trim()) actions.push({ type: 'note', text: d.note.trim() });
  const words = d.words.split(',').map((w) => w.trim()).filter(Boolean);
  const text = d.regex.trim() ? { type: 'regex' as const, pattern: d.regex.trim() } : words.length ? { type: 'words' as const, any: words } : null;
  const business_hours = d.hours === '' ? null : d.hours === 'inside';
  const cooldown_hours = d.cooldown.trim() ? Number(d.cooldown) : null;
  const no_reply_minutes = d.trigger === 'no_reply' ? Number(d.minutes) : null;
  const list = (v: string) => v.split(',').map((w) => w.trim()).filter(Boolean);
  const earlier_tickets = d.history === 'first' ? { max: 0 } : d.history === 'returning' ? { min: 1 } : null;
  type C = NonNullable<RuleInput['conditions']>;
  return {
    name: d.name, trigger: d.trigger, stop: d.stop, position: d.position, cooldown_hours, no_reply_minutes,
    conditions: { channels: d.channels, kinds: d.kinds as C['kinds'], queues: d.queues as C['queues'], text, business_hours, languages: list(d.languages), sentiments: d.sentiment ? [d.sentiment] : [], contact_tags: list(d.contactTags), earlier_tickets },
    actions,
  };
}

function fromRule(r: Rule): Draft {
  const has = (t: string, a?: string) => r.actions.some((x) => x.type === t && (!a || (x as { action?: string }).action === a));
  const reply = r.actions.find((a) => a.type === 'reply') as { saved_replies: string[]; private: boolean } | undefined;
  const text = r.conditions?.text;
  return {
    queues: (r.conditions?.queues ?? []) as string[], languages: (r.conditions?.languages ?? []).join(', '), sentiment: (r.conditions?.sentiments?.[0] ?? '') as Draft['sentiment'], contactTags: (r.conditions?.contact_tags ?? []).join(', '),
    history: r.conditions?.earlier_tickets?.max === 0 ? 'first' : r.conditions?.earlier_tickets?.min ? 'returning' : '',
    team: (r.actions.find((a) => a.type === 'team') as { team_id: string } | undefined)?.team_id ?? '',
    resolve: r.actions.some((a) => a.type === 'queue' && (a as { queue: string }).queue === 'resolved'),
    id: r.id, name: r.name, trigger: r.trigger, minutes: String(r.no_reply_minutes ?? 30), channels: r.conditions?.channels ?? [], kinds: (r.conditions?.kinds ?? []) as string[],
    words: text?.type === 'words' ? text.any.join(', ') : '', regex: text?.type === 'regex' ? text.pattern : '',
    hide: has('platform', 'hide'), del: has('platform', 'delete'), like: has('platform', 'like'),
    tag: (r.actions.find((a) => a.type === 'tag') as { tag: string } | undefined)?.tag ?? '', archive: r.actions.some((a) => a.type === 'queue' && (a as { queue: string }).queue === 'archived'), flag: has('flag'),
    note: (r.actions.find((a) => a.type === 'note') as { text: string } | undefined)?.text ?? '', replies: reply?.saved_replies ?? [], privately: reply?.private ?? false,
    stop: r.stop, position: r.position,
    hours: r.conditions?.business_hours == null ? '' : r.conditions.business_hours ? 'inside' : 'outside', cooldown: r.cooldown_hours ? String(r.cooldown_hours) : '',
  };
}

export function Rules() {
  const [rules, setRules] = useState<Rule[]>([]);
  const [channels, setChannels] = useState<ChannelSummary[]>([]);
  const [saved, setSaved] = useState<Saved[]>([]);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [error, setError] = useState('');
  const [tried, setTried] = useState<{ id: string; lines: string[]; from: number; to: number; ran?: number; failed?: number } | null>(null);
  const [teams, setTeams] = useState<Team[]>([]);
  const [languages, setLanguages] = useState<Schemas['Language'][]>([]);
  const load = () => call(api.GET('/api/v1/rules')).then(setRules, (e) => setError(e.message));
  useEffect(() => {
    load();
    call(api.GET('/api/v1/channels')).then(setChannels, () => {});
    call(api.GET('/api/v1/saved-replies')).then(setSaved, () => {});
    call(api.GET('/api/v1/teams')).then(setTeams, () => {});
    call(api.GET('/api/v1/languages')).then(setLanguages, () => {});
  }, []);
  const set = (p: Partial<Draft>) => draft && setDraft({ ...draft, ...p });
  const toggle = (list: string[], v: string) => (list.includes(v) ? list.filter((x) => x !== v) : [...list, v]);

  const save = async (e: Event) => {
    e.preventDefault();
    if (!draft) return;
    setError('');
    try {
      const body = toInput(draft);
      if (draft.id) await call(api.PUT('/api/v1/rules/{id}', { params: { path: { id: draft.id } }, body }));
      else await call(api.POST('/api/v1/rules', { body }));
      setDraft(null);
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const dryRun = async (r: Rule) => {
    const to = Date.now();
    const found = await call(api.POST('/api/v1/rules/{id}/dry-run', { params: { path: { id: r.id } }, body: { from: to - 30 * 86_400_000, to } })).catch((e) => (setError(e.message), []));
    setTried({ id: r.id, lines: found.map((w) => w.text), from: to - 30 * 86_400_000, to });
  };
  const runPast = async () => {
    if (!tried) return;
    const done = await call(api.POST('/api/v1/rules/{id}/run', { params: { path: { id: tried.id } }, body: { from: tried.from, to: tried.to } })).catch((e) => (setError(e.message), null));
    if (done) setTried({ ...tried, ran: done.filter((d) => !d.error).length, failed: done.filter((d) => d.error).length });
    await load();
  };
  const remove = async (r: Rule) => {
    if (!confirm(`Delete the rule ${r.name}?`)) return;
    await call(api.DELETE('/api/v1/rules/{id}', { params: { path: { id: r.id } } })).catch((e) => setError(e.message));
    await load();
  };
  const check = (label: string, on: boolean, change: (v: boolean) => void) => (
    <label><input type="checkbox" checked={on} onChange={(e) => change((e.target as HTMLInputElement).checked)} /> {label}</label>
  );

  return (
    <main class="admin-page">
      <h1>Rules</h1>
      <p class="hint">Rules act on customers' messages as they arrive, in order; never on what came before a rule was made. Everything a rule does is in the ticket's history under its name.</p>
      {error && <p class="error" role="alert">{error}</p>}
      <table class="grid">
        <thead>
          <tr><th>#</th><th>Rule</th><th>State</th><th /></tr>
        </thead>
        <tbody>
          {rules.map((r) => (
            <tr data-rule={r.name}>
              <td>{r.position}</td>
              <td>{r.name}{r.stop ? ' (stops the rules after it)' : ''}</td>
              <td data-rule-state>{r.paused ? `paused after ${r.failures} failures: ${r.last_error}` : r.last_error ? `last failure: ${r.last_error}` : r.enabled ? 'on' : 'off'}</td>
              <td>
                <button class="link" onClick={() => setDraft(fromRule(r))}>Edit</button>{' '}
                <button class="link" onClick={() => dryRun(r)}>Dry run (30 days)</button>{' '}
                <button class="link" onClick={() => remove(r)}>Delete</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {tried && (
        <div class="notice" role="status" data-dry-run>
          {tried.ran !== undefined
            ? `Done on ${tried.ran}${tried.failed ? `; ${tried.failed} failed (see the rule's state)` : ''}.`
            : tried.lines.length ? `It would have acted on ${tried.lines.length}: ${tried.lines.slice(0, 5).join(' · ')}` : 'It would have acted on nothing in the last 30 days.'}{' '}
          {tried.ran === undefined && tried.lines.length > 0 && <><button onClick={runPast}>Apply to these {tried.lines.length}</button>{' '}</>}
          <button class="link" onClick={() => setTried(null)}>OK</button>
        </div>
      )}
      {!draft && <button onClick={() => setDraft({ ...blank })}>New rule</button>}
      {draft && (
        <form class="team-form" aria-label="Rule" onSubmit={save}>
          <label>Name <input value={draft.name} required onInput={(e) => set({ name: (e.target as HTMLInputElement).value })} /></label>
          <label>When
            <select value={draft.trigger} onChange={(e) => set({ trigger: (e.target as HTMLSelectElement).value as Draft['trigger'] })}>
              <option value="new_ticket">a new ticket arrives</option>
              <option value="customer_message">any customer message arrives</option>
              <option value="no_reply">a customer has waited without an answer</option>
              <option value="status_changed">a ticket's status changes (not by a rule)</option>
            </select>
          </label>
          {draft.trigger === 'status_changed' && (
            <fieldset><legend>to</legend>{QUEUES.map((q) => check(q, draft.queues.includes(q), () => set({ queues: toggle(draft.queues, q) })))}</fieldset>
          )}
          {draft.trigger === 'no_reply' && (
            <label>for (minutes) <input type="number" min={1} value={draft.minutes} onInput={(e) => set({ minutes: (e.target as HTMLInputElement).value })} /></label>
          )}
          <fieldset><legend>Channels (none: all)</legend>{channels.map((c) => check(c.display_name, draft.channels.includes(c.id), () => set({ channels: toggle(draft.channels, c.id) })))}</fieldset>
          <fieldset><legend>Kinds (none: all)</legend>{KINDS.map((k) => check(k.replace('_', ' '), draft.kinds.includes(k), () => set({ kinds: toggle(draft.kinds, k) })))}</fieldset>
          <label>Text contains any of (comma-separated; * for any letters) <input value={draft.words} onInput={(e) => set({ words: (e.target as HTMLInputElement).value })} placeholder="free money, crypt*" /></label>
          <label>Business hours (the channel's, else its team's)
            <select value={draft.hours} onChange={(e) => set({ hours: (e.target as HTMLSelectElement).value as Draft['hours'] })}>
              <option value="">any time</option>
              <option value="outside">only outside them</option>
              <option value="inside">only within them</option>
            </select>
          </label>
          <label>Language (codes, comma-separated: eng, spa)
            <input list="rule-languages" value={draft.languages} onInput={(e) => set({ languages: (e.target as HTMLInputElement).value })} />
          </label>
          <datalist id="rule-languages">{languages.map((l) => <option value={l.code}>{l.name}</option>)}</datalist>
          <label>The message reads
            <select value={draft.sentiment} onChange={(e) => set({ sentiment: (e.target as HTMLSelectElement).value as Draft['sentiment'] })}>
              <option value="">any way</option>
              <option value="positive">positive</option>
              <option value="neutral">neutral</option>
              <option value="negative">negative</option>
            </select>
          </label>
          <label>The contact is tagged any of (comma-separated) <input value={draft.contactTags} onInput={(e) => set({ contactTags: (e.target as HTMLInputElement).value })} /></label>
          <label>The author
            <select value={draft.history} onChange={(e) => set({ history: (e.target as HTMLSelectElement).value as Draft['history'] })}>
              <option value="">anyone</option>
              <option value="first">writes for the first time (no earlier tickets)</option>
              <option value="returning">wrote before (earlier tickets)</option>
            </select>
          </label>
          <label>or matches the regular expression <input value={draft.regex} onInput={(e) => set({ regex: (e.target as HTMLInputElement).value })} /></label>
          <fieldset>
            <legend>Then</legend>
            {check('Hide it', draft.hide, (v) => set({ hide: v }))}
            {check('Delete it', draft.del, (v) => set({ del: v }))}
            {check('Like it', draft.like, (v) => set({ like: v }))}
            {check('Flag the ticket', draft.flag, (v) => set({ flag: v }))}
            {draft.trigger !== 'status_changed' && check('Archive the ticket', draft.archive, (v) => set({ archive: v }))}
            {draft.trigger !== 'status_changed' && check('Resolve the ticket', draft.resolve, (v) => set({ resolve: v }))}
            <label>Route to team
              <select value={draft.team} onChange={(e) => set({ team: (e.target as HTMLSelectElement).value })}>
                <option value="">—</option>
                {teams.map((t) => <option value={t.id}>{t.name}</option>)}
              </select>
            </label>
            <label>Tag <input value={draft.tag} onInput={(e) => set({ tag: (e.target as HTMLInputElement).value })} /></label>
            <label>Note <input value={draft.note} onInput={(e) => set({ note: (e.target as HTMLInputElement).value })} /></label>
          </fieldset>
          <fieldset>
            <legend>Answer with one of these saved replies, picked at random</legend>
            {saved.map((s) => check(s.title, draft.replies.includes(s.id), () => set({ replies: toggle(draft.replies, s.id) })))}
            {check('in private', draft.privately, (v) => set({ privately: v }))}
          </fieldset>
          <label>At most once per ticket every (hours) <input type="number" min={1} value={draft.cooldown} onInput={(e) => set({ cooldown: (e.target as HTMLInputElement).value })} /></label>
          {check('Stop: no later rule runs on what this one matched', draft.stop, (v) => set({ stop: v }))}
          <label>Order <input type="number" min={0} value={draft.position} onInput={(e) => set({ position: Number((e.target as HTMLInputElement).value) })} /></label>
          <button class="primary" type="submit">Save rule</button> <button type="button" onClick={() => setDraft(null)}>Cancel</button>
        </form>
      )}
    </main>
  );
}
