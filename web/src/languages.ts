// The languages the helpdesk tells messages by (ISO 639-3 codes and English names), fetched
// once per page load for the filter, the message badges and the rules.
import { useEffect, useState } from 'preact/hooks';
import { api, call, type Schemas } from './api/client';

let once: Promise<Schemas['Language'][]> | null = null;

export function useLanguages(): Record<string, string> {
  const [names, setNames] = useState<Record<string, string>>({});
  useEffect(() => {
    once ??= call(api.GET('/api/v1/languages')).catch(() => ((once = null), []));
    once.then((all) => setNames(Object.fromEntries(all.map((l) => [l.code, l.name]))));
  }, []);
  return names;
}
