// A message's files, fetched through the helpdesk (which holds the channel's credentials and
// serves only pictures, videos and sounds inline): pictures as thumbnails that open large,
// video and audio playable, other files as downloads, places as map links.
import { useRef } from 'preact/hooks';
import type { Message } from '../api/client';

type Attachment = Message['attachments'][number];

const WORDS: Record<Attachment['kind'], string> = {
  image: 'Picture',
  sticker: 'Sticker',
  video: 'Video',
  audio: 'Voice or sound',
  file: 'File',
  location: 'Location',
  other: 'Attachment',
};

function size(bytes?: number | null): string {
  if (!bytes) return '';
  if (bytes < 1024) return ` (${bytes} B)`;
  if (bytes < 1 << 20) return ` (${Math.round(bytes / 1024)} KB)`;
  return ` (${(bytes / (1 << 20)).toFixed(1)} MB)`;
}

export function Attachments({ message }: { message: Message }) {
  if (message.attachments.length === 0) return null;
  return (
    <ul class="attachments">
      {message.attachments.map((a, n) => (
        <li key={n}>
          <One a={a} src={`/api/v1/messages/${encodeURIComponent(message.id)}/attachments/${n}`} />
        </li>
      ))}
    </ul>
  );
}

function One({ a, src }: { a: Attachment; src: string }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const label = a.name ? `${WORDS[a.kind]}: ${a.name}` : WORDS[a.kind];
  const download = (
    <a class="download" href={`${src}?download=true`} download={a.name ?? ''}>
      {a.kind === 'file' || a.kind === 'other' ? `⬇ ${a.name ?? WORDS[a.kind]}${size(a.size)}` : 'Download'}
    </a>
  );
  switch (a.kind) {
    case 'image':
    case 'sticker':
      return (
        <>
          <button type="button" class="thumb" aria-label={`Open ${label.toLowerCase()}`} onClick={() => dialog.current?.showModal()}>
            <img src={src} alt={label} loading="lazy" />
          </button>
          <dialog ref={dialog} class="lightbox" aria-label={label} onClick={(e) => e.target === dialog.current && dialog.current?.close()}>
            <img src={src} alt={label} />
            <div class="lightbox-bar">
              {download}
              <button type="button" onClick={() => dialog.current?.close()}>
                Close
              </button>
            </div>
          </dialog>
        </>
      );
    case 'video':
      return (
        <>
          <video controls preload="metadata" src={src} aria-label={label} />
          {download}
        </>
      );
    case 'audio':
      return (
        <>
          <audio controls preload="none" src={src} aria-label={label} />
          {download}
        </>
      );
    case 'location':
      return a.url && /^https?:/.test(a.url) ? (
        <a href={a.url} target="_blank" rel="noopener noreferrer">
          📍 {a.name ?? 'Location'}
        </a>
      ) : (
        <span>📍 {a.name ?? 'Location'}</span>
      );
    default:
      return download;
  }
}
