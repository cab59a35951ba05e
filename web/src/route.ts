// The URL is the state of the view: path plus filters, so any view can be bookmarked or shared.
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  path: string;
  params: URLSearchParams;
}

const subscribers = new Set<() => void>();

function current(): Route {
  return { path: location.pathname, params: new URLSearchParams(location.search) };
}

export function navigate(path: string, params?: URLSearchParams | Record<string, string>, replace = false) {
  const p = params instanceof URLSearchParams ? params : new URLSearchParams(params ?? {});
  const qs = p.toString();
  const url = qs ? `${path}?${qs}` : path;
  if (url === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  subscribers.forEach((s) => s());
}

/** Change some query parameters of the current view (empty values are removed). */
export function setParams(changes: Record<string, string | null>, replace = false) {
  const p = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === '') p.delete(k);
    else p.set(k, v);
  }
  navigate(location.pathname, p, replace);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const update = () => setRoute(current());
    subscribers.add(update);
    window.addEventListener('popstate', update);
    return () => {
      subscribers.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return route;
}
