// Ctrl+K: every action, queue and view by name, and tickets by what they say, from one box.
// Arrows choose, Enter runs, Esc closes.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, call, type TicketRow } from '../api/client';

export interface Command {
  label: string;
  run: () => void;
}

/** Each word typed is found, in order, somewhere in the label (case aside): "pend" finds
 * "Go to Pending", "as me" finds "Assign to me". */
export function fuzzy(label: string, typed: string): boolean {
  let at = 0;
  const l = label.toLowerCase();
  for (const word of typed.toLowerCase().split(/\s+/).filter(Boolean)) {
    const i = l.indexOf(word, at);
    if (i < 0) return false;
    at = i + word.length;
  }
  return true;
}

export function CommandPalette({ commands, onOpenTicket, onClose }: { commands: Command[]; onOpenTicket: (id: string) => void; onClose: () => void }) {
  const [typed, setTyped] = useState('');
  const [chosen, setChosen] = useState(0);
  const [tickets, setTickets] = useState<TicketRow[]>([]);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  // Tickets whose messages or contact match what is typed, a moment after typing stops.
  useEffect(() => {
    const q = typed.trim();
    if (q.length < 2) return setTickets([]);
    const timer = setTimeout(() => {
      call(api.GET('/api/v1/tickets', { params: { query: { q: q.replace(/[":()]/g, ' '), queue: 'all', limit: 5 } } })).then(
        (page) => setTickets(page.tickets),
        () => setTickets([]),
      );
    }, 150);
    return () => clearTimeout(timer);
  }, [typed]);

  const found: Command[] = [
    ...commands.filter((c) => fuzzy(c.label, typed)),
    ...tickets.map((t) => ({ label: `Open ${t.contact.name}: ${t.preview}`, run: () => onOpenTicket(t.id) })),
  ];
  const pick = Math.min(chosen, Math.max(found.length - 1, 0));
  const run = (c?: Command) => {
    if (!c) return;
    onClose();
    c.run();
  };

  return (
    <div class="overlay" onClick={onClose}>
      <div class="sheet palette" role="dialog" aria-label="Commands" onClick={(e) => e.stopPropagation()}>
        <input
          ref={input}
          aria-label="Command"
          placeholder="Type a command, a queue or words from a ticket"
          value={typed}
          onInput={(e) => (setTyped((e.target as HTMLInputElement).value), setChosen(0))}
          onKeyDown={(e) => {
            if (e.key === 'ArrowDown') (e.preventDefault(), setChosen(Math.min(pick + 1, found.length - 1)));
            else if (e.key === 'ArrowUp') (e.preventDefault(), setChosen(Math.max(pick - 1, 0)));
            else if (e.key === 'Enter') (e.preventDefault(), run(found[pick]));
            else if (e.key === 'Escape') (e.preventDefault(), e.stopPropagation(), onClose());
          }}
        />
        <ul role="listbox" aria-label="Matching commands">
          {found.map((c, i) => (
            <li role="option" aria-selected={i === pick} class={i === pick ? 'chosen' : ''} onClick={() => run(c)}>
              {c.label}
            </li>
          ))}
          {found.length === 0 && <li class="muted">Nothing matches</li>}
        </ul>
      </div>
    </div>
  );
}
