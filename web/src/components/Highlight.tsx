// The words of a search marked where they appear, as the index matches them: case aside,
// quotes, operators, field filters and excluded words (`-word`) left out.
import type { ComponentChildren } from 'preact';

/** The words a search looks for, lowercased. */
export function searchWords(q: string | null | undefined): string[] {
  if (!q) return [];
  return q
    .replace(/["()]/g, ' ')
    .split(/\s+/)
    .filter((w) => w && !w.startsWith('-') && !w.includes(':') && !['AND', 'OR', 'NOT'].includes(w))
    .map((w) => w.replace(/^\+/, '').toLowerCase())
    .filter((w) => /[\p{L}\p{N}]/u.test(w));
}

const escape = (w: string) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function matchesAny(text: string, words: string[]): boolean {
  const lower = text.toLowerCase();
  return words.some((w) => lower.includes(w));
}

/** `text` with each of `words` in a <mark>. */
export function Highlight({ text, words }: { text: string; words: string[] }): ComponentChildren {
  if (words.length === 0) return text;
  const parts = text.split(new RegExp(`(${words.map(escape).join('|')})`, 'giu'));
  return parts.map((p, i) => (i % 2 === 1 ? <mark>{p}</mark> : p));
}
