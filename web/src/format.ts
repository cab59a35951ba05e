// How times, kinds and platforms read in the UI.
import type { Kind } from './api/client';

export function ago(ms: number, now = Date.now()): string {
  const s = Math.round((now - ms) / 1000);
  if (s < 45) return 'now';
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) return `${Math.round(s / 3600)} h`;
  if (s < 7 * 86400) return `${Math.round(s / 86400)} d`;
  return new Date(ms).toLocaleDateString();
}

/** How long since `ms`, for a customer waiting: "<1 min", "25 min", "3 h 10 min", "2 d". */
export function waited(ms: number, now = Date.now()): string {
  const m = Math.floor((now - ms) / 60000);
  if (m < 1) return '<1 min';
  if (m < 60) return `${m} min`;
  if (m < 24 * 60) return m % 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m / 60} h`;
  return `${Math.floor(m / 1440)} d`;
}

export function when(ms: number): string {
  return new Date(ms).toLocaleString();
}

export const KIND_WORDS: Record<Kind, string> = {
  private_message: 'Private message',
  group_message: 'Group message',
  comment: 'Comment',
  reply: 'Reply',
  ad_comment: 'Ad comment',
  post: 'Post',
  mention: 'Mention',
  review: 'Review',
};

const PLATFORMS: Record<string, [string, string]> = {
  telegram: ['Telegram', '#229ed9'],
  whatsapp: ['WhatsApp', '#25d366'],
  facebook: ['Facebook', '#1877f2'],
  messenger: ['Messenger', '#0084ff'],
  instagram: ['Instagram', '#e1306c'],
  x: ['X', '#111'],
  linkedin: ['LinkedIn', '#0a66c2'],
  tiktok: ['TikTok', '#111'],
  youtube: ['YouTube', '#ff0000'],
  gbp: ['Google', '#4285f4'],
  twilio: ['SMS', '#f22f46'],
  viber: ['Viber', '#7360f2'],
  wechat: ['WeChat', '#07c160'],
  line: ['LINE', '#06c755'],
};

/** A handle as the platform writes it: `@ann`, but a phone number as it is. */
export function handle(h: string): string {
  const bare = h.replace(/^@/, '');
  return /^\+?[0-9 ]+$/.test(bare) ? bare : `@${bare}`;
}

/** A review's stars as ★★★★☆, with the number for screen readers. */
export function stars(n: number): string {
  return '★'.repeat(n) + '☆'.repeat(Math.max(0, 5 - n));
}

/** The platform as its users know it: a Facebook page's private messages are Messenger's,
 * Instagram's are Instagram Direct. */
export function platformName(p: string, kind?: Kind): string {
  const conversation = kind === 'private_message' || kind === 'group_message';
  if (conversation && p === 'facebook') return 'Messenger';
  if (conversation && p === 'instagram') return 'Instagram Direct';
  return PLATFORMS[p]?.[0] ?? p;
}

export function platformColor(p: string, kind?: Kind): string {
  return platformName(p, kind) === 'Messenger' ? PLATFORMS.messenger[1] : (PLATFORMS[p]?.[1] ?? '#666');
}

/** Time left as "5 h 12 min", or null when past. */
export function timeLeft(until: number, now = Date.now()): string | null {
  const m = Math.floor((until - now) / 60000);
  if (m < 0) return null;
  return m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m} min`;
}
