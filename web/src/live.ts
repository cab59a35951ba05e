// The live connection: server events in, and what this tab views and types out.
// Reconnects with backoff; after a gap the listeners are told to reload (`resync`).
import type { ClientMessage, LiveEvent } from './api/client';

type Listener = (e: LiveEvent | { type: 'resync' } | { type: 'hello' }) => void;

const listeners = new Set<Listener>();
let socket: WebSocket | null = null;
let viewing: string | null = null;
let retry = 500;
let stopped = false;

function send(m: ClientMessage) {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(m));
}

export function connect() {
  stopped = false;
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/events`;
  socket = new WebSocket(url);
  socket.onopen = () => {
    retry = 500;
    if (viewing) send({ type: 'view', ticket_id: viewing });
    // Anything may have happened while we were away, or, on the first connection, between the
    // page's first loads and now: the views reload once.
    listeners.forEach((l) => l({ type: 'resync' }));
  };
  socket.onmessage = (m) => {
    const e = JSON.parse(m.data);
    // Events queued while the socket was busy come together, in order.
    const events = e.type === 'batch' ? e.events : [e];
    for (const one of events) listeners.forEach((l) => l(one));
  };
  socket.onclose = () => {
    socket = null;
    if (stopped) return;
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 15000);
  };
}

export function disconnect() {
  stopped = true;
  socket?.close();
}

export function subscribe(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function view(ticketId: string | null) {
  viewing = ticketId;
  send({ type: 'view', ticket_id: ticketId });
}

let typingNow = false;
let typingTimer: number | undefined;
/** Call on every keystroke in the reply box; "stopped typing" follows 4 s of quiet. */
export function typed() {
  if (!typingNow) {
    typingNow = true;
    send({ type: 'typing', typing: true });
  }
  clearTimeout(typingTimer);
  typingTimer = window.setTimeout(stoppedTyping, 4000);
}

export function stoppedTyping() {
  clearTimeout(typingTimer);
  if (typingNow) {
    typingNow = false;
    send({ type: 'typing', typing: false });
  }
}
