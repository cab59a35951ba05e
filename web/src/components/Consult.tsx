// Consult by email: an agent writes to someone outside the helpdesk (a lawyer, the warehouse)
// about a message or the whole conversation; their answer comes back as an internal note.
import { useState } from 'preact/hooks';
import { api, call, type Message } from '../api/client';

/** What a "Consult" button asks for: one message, or the whole conversation (`null`). */
export type ConsultAbout = { message: Message | null };

export function openConsult(message: Message | null) {
  window.dispatchEvent(new CustomEvent<ConsultAbout>('helpdesk:consult', { detail: { message } }));
}

export function ConsultDialog({ ticketId, about, onClose, onSent }: { ticketId: string; about: ConsultAbout; onClose: () => void; onSent: (to: string) => void }) {
  const [to, setTo] = useState('');
  const [note, setNote] = useState('');
  const [error, setError] = useState('');
  const [sending, setSending] = useState(false);
  const send = async (e: Event) => {
    e.preventDefault();
    setError('');
    setSending(true);
    try {
      const addresses = to.split(/[,;\s]+/).filter(Boolean);
      const c = await call(
        api.POST('/api/v1/tickets/{id}/consultations', {
          params: { path: { id: ticketId } },
          body: { to: addresses, note, messages: about.message ? [about.message.id] : null },
        }),
      );
      onSent(c.participants.join(', '));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setSending(false);
    }
  };
  const m = about.message;
  return (
    <form class="consult" aria-label="Consult by email" onSubmit={send} onKeyDown={(e) => e.key === 'Escape' && onClose()}>
      <h3>Consult by email</h3>
      <p class="hint">
        {m ? `Quoting ${m.author.name}'s message “${m.text.slice(0, 80)}${m.text.length > 80 ? '…' : ''}”` : 'Quoting the whole conversation'}. The answer comes back here as an
        internal note; the customer never sees it.
      </p>
      <label>
        To <input type="text" required autoFocus placeholder="lawyer@example.com, warehouse@example.com" value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} />
      </label>
      <label>
        Question <textarea required value={note} onInput={(e) => setNote((e.target as HTMLTextAreaElement).value)} />
      </label>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="row">
        <button class="primary" type="submit" disabled={sending}>
          {sending ? 'Sending…' : 'Send'}
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** Write again in a consultation, to everyone in it. */
export function FollowUp({ ticketId, consultationId, onDone }: { ticketId: string; consultationId: string; onDone: () => void }) {
  const [text, setText] = useState('');
  const [error, setError] = useState('');
  const send = async (e: Event) => {
    e.preventDefault();
    try {
      await call(api.POST('/api/v1/tickets/{id}/consultations/{consultation_id}/messages', { params: { path: { id: ticketId, consultation_id: consultationId } }, body: { text } }));
      onDone();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form class="follow-up" aria-label="Write again" onSubmit={send}>
      <textarea aria-label="Your message" required value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
      <button type="submit">Send by email</button>
      {error && <p class="error">{error}</p>}
    </form>
  );
}
