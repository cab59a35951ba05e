// A contact's picture, or their initials when the platform gives none.
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

export function PlatformIcon({ platform }: { platform: string }) {
  return (
    <span class="platform" style={{ background: platformColor(platform) }} title={platformName(platform)} aria-label={platformName(platform)}>
      {platformName(platform).slice(0, 1)}
    </span>
  );
}
