// The tab's title and icon carry the number of tickets in the agent's view, so a pinned or
// background tab shows when work is waiting.
const BLUE = '#2f6fed';

function icon(count: number): string {
  const text = count > 99 ? '99+' : String(count);
  const badge =
    count > 0
      ? `<circle cx="11" cy="5" r="5" fill="#c0262d"/><text x="11" y="7.6" font-size="${text.length > 1 ? 5.5 : 7.5}" font-family="sans-serif" font-weight="700" text-anchor="middle" fill="#fff">${text}</text>`
      : '';
  return `data:image/svg+xml,${encodeURIComponent(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect y="3" width="13" height="13" rx="3" fill="${BLUE}"/>${badge}</svg>`)}`;
}

/** Show `count` tickets waiting in the view named `label`. */
export function setBadge(count: number, label: string) {
  document.title = count > 0 ? `(${count > 999 ? '999+' : count}) ${label} · Helpdesk` : `${label} · Helpdesk`;
  let link = document.querySelector<HTMLLinkElement>('link[rel="icon"]');
  if (!link) {
    link = document.createElement('link');
    link.rel = 'icon';
    document.head.appendChild(link);
  }
  link.href = icon(count);
  link.dataset.count = String(count);
}
