// The Example channel (plugins/examples/rust) in TypeScript: polls the Example platform's
// messages API and replies in conversations. Built into a component by componentize-js.
import { get as config } from 'helpdesk:channel/config@0.3.0';
import { get as secret } from 'helpdesk:channel/secrets@0.3.0';
import { send } from 'helpdesk:channel/http@0.3.0';
import type { Action, ActionOutcome, Attachment, ChannelError, ChannelInfo, Event, HttpRequest, Interaction, Page, Target, WebhookOutcome } from 'helpdesk:channel/types@0.3.0';

const DEFAULT_BASE = 'https://api.example.com';

// A result's error is thrown: the component returns it as `err`.
function fail(e: ChannelError): never {
  throw e;
}

const base = () => (config('base_url') || DEFAULT_BASE).replace(/\/+$/, '');

/** The platform's JSON answer; an error status becomes the channel-error the host acts on. */
function call(method: string, url: string, body?: unknown): any {
  const token = secret('api_token') || fail({ tag: 'invalid-config', val: 'secret `api_token` is not set' });
  const headers: [string, string][] = [['authorization', `Bearer ${token}`]];
  if (body !== undefined) headers.push(['content-type', 'application/json']);
  const request: HttpRequest = { method, url, headers, body: new TextEncoder().encode(body === undefined ? '' : JSON.stringify(body)) };
  let resp;
  try {
    resp = send(request, undefined);
  } catch (e) {
    fail({ tag: 'transient', val: `the platform could not be reached: ${JSON.stringify((e as any)?.payload ?? e)}` });
  }
  const words = `HTTP ${resp.status}: ${new TextDecoder().decode(resp.body.slice(0, 300))}`;
  if (resp.status === 401) fail({ tag: 'unauthorized', val: words });
  if (resp.status === 429) {
    const wait = resp.headers.find(([k]) => k.toLowerCase() === 'retry-after')?.[1] ?? '60';
    fail({ tag: 'rate-limited', val: { retryAfterMs: BigInt(/^\d+$/.test(wait) ? Number(wait) * 1000 : 60_000), message: words } });
  }
  if (resp.status >= 500 || resp.status === 408) fail({ tag: 'transient', val: words });
  if (resp.status >= 400) fail({ tag: 'permanent', val: words });
  return JSON.parse(new TextDecoder().decode(resp.body));
}

function message(m: any): Interaction | undefined {
  if (!m?.id || !m.conversation_id || !m.author?.id) return undefined;
  return {
    platformId: m.id,
    kind: 'private-message',
    direction: m.from_us ? 'outbound' : 'inbound',
    threadKey: m.conversation_id,
    parentId: m.reply_to ?? undefined,
    author: { id: m.author.id, name: m.author.name || 'Someone' },
    text: m.text ?? '',
    attachments: [],
    createdAt: m.created_at ? BigInt(Date.parse(m.created_at)) : undefined,
    fromAd: false,
    meta: [],
  };
}

export function describe(): ChannelInfo {
  return {
    platform: 'example-typescript',
    platformName: 'Example (TypeScript)',
    capabilities: [{ kind: 'private-message', actions: [{ action: 'reply', notes: [] }], notes: [], maxReplyChars: 2000 }],
    polls: true,
    webhooks: false,
    settings: [
      { name: 'api_token', label: 'API token', help: 'Settings → API on the Example dashboard', required: true, secret: true },
      { name: 'base_url', label: 'API URL', help: '', required: false, default: DEFAULT_BASE, secret: false },
    ],
    allowedHosts: [DEFAULT_BASE],
  };
}

export function check(): string {
  return `account ${call('GET', `${base()}/v1/me`).name ?? '?'}`;
}

export function fetch(cursor: string | undefined): Page {
  const query = new URLSearchParams();
  if (cursor) query.set('since', cursor);
  query.set('limit', '100');
  const page = call('GET', `${base()}/v1/messages?${query}`);
  const events: Event[] = (page.messages ?? []).map(message).filter(Boolean).map((i: Interaction) => ({ tag: 'interaction', val: i }));
  return { events, nextCursor: page.next || undefined, pollAfterMs: page.has_more === true ? 0 : 5000 };
}

export function handleWebhook(_request: HttpRequest): WebhookOutcome {
  fail({ tag: 'unsupported', val: 'Example does not send webhooks' });
}

export function perform(target: Target, action: Action): ActionOutcome {
  if (action.tag !== 'reply') fail({ tag: 'unsupported', val: 'Example only takes replies' });
  const sent = call('POST', `${base()}/v1/conversations/${encodeURIComponent(target.threadKey)}/messages`, { text: action.val.text, reply_to: target.platformId });
  return { created: message(sent) };
}

export function media(_target: Target, _attachment: Attachment): HttpRequest {
  fail({ tag: 'unsupported', val: 'Example messages carry no files' });
}
