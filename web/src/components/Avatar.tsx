// A contact's picture, or their initials when the platform gives none.
import type { Kind } from '../api/client';
import { platformColor, platformName } from '../format';

export function Avatar({ name, url }: { name: string; url?: string | null }) {
  const initials = name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => [...w][0]?.toUpperCase())
    .join('');
  if (url && /^https?:\/\//.test(url)) return <img class="avatar" src={url} alt="" referrerpolicy="no-referrer" />;
  return (
    <span class="avatar" aria-hidden="true">
      {initials || '?'}
    </span>
  );
}

/** The platform's mark, named as its users know it for this kind of interaction. */
export function PlatformIcon({ platform, kind, label }: { platform: string; kind?: Kind; label?: boolean }) {
  const name = platformName(platform, kind);
  return (
    <>
      <span class="platform" style={{ background: platformColor(platform, kind) }} title={name} aria-label={name}>
        {name.slice(0, 1)}
      </span>
      {label && <span class="platform-name">{name}</span>}
    </>
  );
}
