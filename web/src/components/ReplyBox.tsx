// Answer the customer through the ticket's channel, or write an internal note. Knows the
// channel's messaging window: shows the time left and refuses once it has closed. Shows what
// the channel says about the reply as it is written (SMS segments, a closing window), and
// warns when the contact opted out of messages. A reply may carry files (a saved reply's, or
// attached here) where the channel takes them; where it does not, it says so before sending.
import { useTranslation } from '../translation';
import { useLanguages } from '../languages';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, call, fileSize, uploadFile, type ChannelSummary, type StoredFile, type TicketDetail } from '../api/client';
import { stoppedTyping, typed } from '../live';
import { timeLeft } from '../format';
import { SavedReplyPicker } from './SavedReplies';

type Mode = 'reply' | 'private_reply' | 'note';

interface Props {
  detail: TicketDetail;
  /** Names a note may @mention. */
  teammates: string[];
  channel?: ChannelSummary;
  notice: string;
  onDismissNotice: () => void;
  onDrafting: (d: boolean) => void;
  /** `resolve`: resolve the ticket once it is sent (Ctrl+Shift+Enter). */
  onSend: (mode: Mode, text: string, resolve: boolean, files: string[]) => Promise<void>;
}

/** Unsent text is kept per ticket in the browser, across reloads and other tickets. */
const draftKey = (ticketId: string) => `helpdesk:draft:${ticketId}`;
function loadDraft(ticketId: string): { mode?: Mode; text: string } {
  try {
    return JSON.parse(localStorage.getItem(draftKey(ticketId)) ?? '') as { mode?: Mode; text: string };
  } catch {
    return { text: '' };
  }
}
function saveDraft(ticketId: string, mode: Mode, text: string) {
  try {
    if (text.trim()) localStorage.setItem(draftKey(ticketId), JSON.stringify({ mode, text }));
    else localStorage.removeItem(draftKey(ticketId));
  } catch {
    // Storage full or disabled: the draft lives as long as the page.
  }
}

export function ReplyBox({ detail, teammates, channel, notice, onDismissNotice, onDrafting, onSend }: Props) {
  const newestInbound = [...detail.messages].reverse().find((m) => m.direction === 'inbound' && !m.removed) ?? detail.messages[detail.messages.length - 1];
  const actions = detail.capabilities.find((c) => c.kind === newestInbound?.kind)?.actions ?? [];
  const modes: Mode[] = [...(['reply', 'private_reply'] as const).filter((m) => actions.includes(m)), 'note'];
  const ticketId = detail.ticket.id;
  const draft = loadDraft(ticketId);
  const [mode, setMode] = useState<Mode>(draft.mode && modes.includes(draft.mode) ? draft.mode : modes[0]);
  const [text, setText] = useState(draft.text ?? '');
  const [error, setError] = useState('');
  const [sending, setSending] = useState(false);
  const [, tick] = useState(0);
  const box = useRef<HTMLTextAreaElement>(null);
  const [replyNote, setReplyNote] = useState<string | null>(null);
  // @mentions in notes: the teammates whose names start with what follows the `@`.
  const caret = box.current?.selectionStart ?? text.length;
  const mentioning = mode === 'note' ? /(?:^|\s)@([\p{L}\d]*)$/u.exec(text.slice(0, caret))?.[1] : undefined;
  const suggestions = mentioning === undefined ? [] : teammates.filter((n) => n.toLowerCase().startsWith(mentioning.toLowerCase())).slice(0, 5);
  const mention = (name: string) => {
    const before = text.slice(0, caret).replace(/@([\p{L}\d]*)$/u, `@${name} `);
    const next = before + text.slice(caret);
    setText(next);
    saveDraft(ticketId, mode, next);
    box.current?.focus();
  };
  // The saved replies' search: typed after a `/` that starts the box, or from the button.
  const [picking, setPicking] = useState<{ slash: boolean } | null>(null);
  const query = picking?.slash ? text.slice(1) : '';
  // Files going with the reply: a saved reply's, or attached here.
  const [files, setFiles] = useState<StoredFile[]>([]);
  const [uploading, setUploading] = useState(false);
  const addFiles = (more: StoredFile[]) => setFiles((had) => [...had, ...more.filter((f) => !had.some((h) => h.id === f.id))]);
  const attach = async (list: FileList | null) => {
    if (!list?.length) return;
    setUploading(true);
    setError('');
    try {
      for (const f of Array.from(list)) addFiles([await uploadFile(f)]);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setUploading(false);
    }
  };
  const filesKind = mode === 'private_reply' ? 'private_message' : newestInbound?.kind;
  const fileCap = detail.files.find((c) => c.kind === filesKind && c.max_files > 0);
  const platform = channel?.platform_name ?? detail.ticket.platform;
  const filesRefused =
    mode === 'note' || !files.length
      ? null
      : !fileCap
        ? `${platform} cannot send files with this reply: remove them to send the text alone.`
        : files.length > fileCap.max_files
          ? `${platform} takes at most ${fileCap.max_files} files in one reply here.`
          : (files
              .map((f) =>
                !fileCap.kinds.includes(f.kind)
                  ? `${platform} does not take ${f.name} (a ${f.kind}) here.`
                  : f.size > fileCap.max_bytes
                    ? `${f.name} is ${fileSize(f.size)}; ${platform} takes files of at most ${fileSize(fileCap.max_bytes)} here.`
                    : null,
              )
              .find(Boolean) ?? null);
  const sendable = text.trim().length > 0 || (mode !== 'note' && files.length > 0);
  const insert = (saved: string, savedFiles: StoredFile[] = []) => {
    addFiles(savedFiles);
    const el = box.current;
    let next: string;
    if (picking?.slash) next = saved;
    else {
      const at = el?.selectionStart ?? text.length;
      next = text.slice(0, at) + saved + text.slice(at);
    }
    setText(next);
    saveDraft(ticketId, mode, next);
    onDrafting(next.trim().length > 0);
    setPicking(null);
    el?.focus();
  };

  // The channel's word on the draft, asked once the agent pauses.
  useEffect(() => {
    const draft = text.trim();
    if (mode === 'note' || !draft) {
      setReplyNote(null);
      return;
    }
    let current = true;
    const timer = setTimeout(() => {
      call(api.POST('/api/v1/tickets/{id}/reply-note', { params: { path: { id: ticketId } }, body: { text: draft } }))
        .then((r) => current && setReplyNote(r.note ?? null))
        .catch(() => current && setReplyNote(null));
    }, 300);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [text, mode, ticketId]);

  useEffect(() => {
    const compose = (e: Event) => {
      const want = (e as CustomEvent).detail as Mode;
      setMode(want === 'reply' ? modes[0] : 'note');
      box.current?.focus();
    };
    window.addEventListener('helpdesk:compose', compose);
    const timer = setInterval(() => tick((n) => n + 1), 30_000);
    return () => {
      window.removeEventListener('helpdesk:compose', compose);
      clearInterval(timer);
      stoppedTyping();
    };
  }, [modes.join()]);

  const closes = detail.reply_window_closes_at;
  const left = closes != null ? timeLeft(closes) : undefined;
  // Past the window, a tagged reply may still go (Messenger's HUMAN_AGENT, 7 days).
  const taggedLeft = left === null && detail.tagged_window_closes_at != null ? timeLeft(detail.tagged_window_closes_at) : null;
  const windowClosed = mode !== 'note' && closes != null && left === null && taggedLeft === null;
  // A channel that cannot send says so here, before the agent writes for nothing.
  const channelDown =
    mode === 'note' || !channel
      ? null
      : !channel.enabled
        ? `The ${channel.display_name} channel is disabled: replies cannot be sent until an admin enables it. Notes still work.`
        : channel.health.state === 'needs_reconnect'
          ? `The ${channel.display_name} channel needs reconnecting (${channel.health.last_error ?? 'its credentials were refused'}): replies cannot be sent until an admin does.`
          : null;

  useEffect(() => onDrafting(text.trim().length > 0), []);
  useEffect(() => saveDraft(ticketId, mode, text), [mode]);

  // The reply in the customer's language, to check before it goes: the box keeps mine.
  const tr = useTranslation();
  const names = useLanguages();
  const theirs = detail.ticket.language;
  const [translated, setTranslated] = useState<{ from: string; text: string } | null>(null);
  const canTranslate = tr.configured && mode !== 'note' && !!theirs && theirs !== tr.language;
  const translateReply = async () => {
    setError('');
    try {
      const t = await call(api.POST('/api/v1/translate', { body: { text: text.trim(), to: theirs! } }));
      setTranslated({ from: text.trim(), text: t.text });
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const send = async (resolve = false) => {
    const t = translated && translated.from === text.trim() ? translated.text : text.trim();
    if (!sendable || sending || windowClosed || channelDown || filesRefused) return;
    setSending(true);
    setError('');
    try {
      await onSend(mode, t, resolve, mode === 'note' ? [] : files.map((f) => f.id));
      setText('');
      if (mode !== 'note') setFiles([]);
      setTranslated(null);
      saveDraft(ticketId, mode, '');
      onDrafting(false);
      stoppedTyping();
      // Sent: the keys act on the ticket again (j, k, e…), not in an empty box.
      box.current?.blur();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setSending(false);
    }
  };

  return (
    <div class={`reply-box mode-${mode}`}>
      {notice && (
        <p class="notice" role="alert">
          {notice} <button class="link" onClick={onDismissNotice}>OK</button>
        </p>
      )}
      <div class="modes" role="tablist">
        {modes.map((m) => (
          <button role="tab" aria-selected={mode === m} class={mode === m ? 'active' : ''} onClick={() => setMode(m)}>
            {m === 'reply' ? `Reply on ${platform}` : m === 'private_reply' ? 'Private reply' : 'Internal note'}
          </button>
        ))}
        {mode !== 'note' && closes != null && (
          <span class={`window ${left || taggedLeft ? '' : 'closed'}`} data-window>
            {left
              ? `Reply window: ${left} left`
              : taggedLeft
                ? `24-hour window closed: replies go with the ${detail.reply_tag} tag (${taggedLeft} left)`
                : `The ${platform} reply window has closed`}
          </span>
        )}
      </div>
      {channelDown && (
        <p class="error" role="alert" data-channel-down>
          {channelDown}
        </p>
      )}
      {mode !== 'note' && detail.contact?.opted_out && (
        <p class="warn" role="status" data-reply-opted-out>
          {detail.ticket.contact.name} opted out of messages on {platform}: a reply will not reach them until they opt back in (an SMS START, subscribing again). Notes still work.
        </p>
      )}
      {windowClosed && (
        <p class="error" role="alert">
          {platform} only allows replies within {channel?.reply_window_hours ?? 24} hours of the customer's last message. Write a note, or wait for the customer to write again.
        </p>
      )}
      <textarea
        ref={box}
        aria-label={mode === 'note' ? 'Note' : 'Reply'}
        placeholder={mode === 'note' ? 'Only your teammates see notes' : `Write to ${detail.ticket.contact.name}… (Ctrl+Enter sends, Ctrl+Shift+Enter sends and resolves)`}
        value={text}
        disabled={windowClosed}
        onInput={(e) => {
          const v = (e.target as HTMLTextAreaElement).value;
          setText(v);
          if (/^\/\S*$/.test(v)) setPicking({ slash: true });
          else if (picking?.slash) setPicking(null);
          // At once, not after the next paint: a reload right after typing keeps it.
          saveDraft(ticketId, mode, v);
          onDrafting(v.trim().length > 0);
          if (mode !== 'note') typed();
        }}
        onKeyDown={(e) => {
          if (e.key === 'Tab' && suggestions.length) {
            e.preventDefault();
            mention(suggestions[0]);
            return;
          }
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            send(e.shiftKey);
          }
        }}
      />
      {suggestions.length > 0 && (
        <ul class="mentions" role="listbox" aria-label="Mention a teammate">
          {suggestions.map((n) => (
            <li role="option" aria-selected={false} onMouseDown={(e) => (e.preventDefault(), mention(n))}>
              @{n}
            </li>
          ))}
        </ul>
      )}
      {picking && <SavedReplyPicker detail={detail} channel={channel} query={query} onInsert={insert} onClose={() => setPicking(null)} />}
      {files.length > 0 && (
        <ul class="reply-files" aria-label="Files to send">
          {files.map((f) => (
            <li data-reply-file={f.name}>
              📎 {f.name} <span class="muted">{fileSize(f.size)}</span>{' '}
              <button class="link" aria-label={`Remove ${f.name}`} onClick={() => setFiles((had) => had.filter((h) => h.id !== f.id))}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      {files.length > 0 && mode === 'note' && <p class="hint">Files go only with a reply, not with a note.</p>}
      {filesRefused && (
        <p class="warn" role="alert" data-files-refused>
          {filesRefused}
        </p>
      )}
      {replyNote && mode !== 'note' && (
        <p class="reply-note" data-reply-note>
          {replyNote}
        </p>
      )}
      {translated && translated.from === text.trim() && (
        <div class="reply-translation" data-reply-translation lang={theirs ?? undefined}>
          <span class="muted">Sends in {names[theirs ?? ''] ?? theirs}:</span> {translated.text}{' '}
          <button class="link" onClick={() => setTranslated(null)}>Send mine as written</button>
        </div>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="send-row">
        <button class="primary" onClick={() => send()} disabled={sending || uploading || windowClosed || !!channelDown || !!filesRefused || !sendable}>
          {sending ? 'Sending…' : mode === 'note' ? 'Add note' : 'Send'}
        </button>
        {canTranslate && (
          <button type="button" onClick={translateReply} disabled={!text.trim()}>
            Translate into {names[theirs!] ?? theirs}
          </button>
        )}
        <button type="button" onClick={() => setPicking(picking ? null : { slash: false })} title="Or type / in an empty box">
          Saved replies
        </button>
        {mode !== 'note' && (
          <label class="button" title={fileCap ? fileCap.notes.join(' ') : `${platform} cannot send files here`}>
            {uploading ? 'Uploading…' : 'Attach file'}
            <input
              type="file"
              multiple
              hidden
              aria-label="Attach file"
              disabled={uploading}
              onChange={(e) => {
                const input = e.target as HTMLInputElement;
                void attach(input.files).then(() => (input.value = ''));
              }}
            />
          </label>
        )}
        {mode !== 'note' && (
          <button onClick={() => send(true)} disabled={sending || uploading || windowClosed || !!channelDown || !!filesRefused || !sendable} title="Ctrl+Shift+Enter">
            Send and resolve
          </button>
        )}
      </div>
    </div>
  );
}
