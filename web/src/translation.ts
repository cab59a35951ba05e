// The translation provider (configured or not) and my own language and auto-translation,
// fetched once per page load for the timeline and the reply box.
import { useEffect, useState } from 'preact/hooks';
import { api, call, type Schemas } from './api/client';

export interface TranslationState {
  configured: boolean;
  /** My language (ISO 639-3). */
  language: string;
  auto: boolean;
}

let once: Promise<TranslationState> | null = null;

export function loadTranslation(): Promise<TranslationState> {
  once ??= Promise.all([call(api.GET('/api/v1/translation/settings')), call(api.GET('/api/v1/me/translation'))])
    .then(([s, p]: [Schemas['TranslationSettings'] | null, Schemas['TranslationPrefs']]) => ({ configured: !!s, language: p.language ?? 'eng', auto: p.auto }))
    .catch(() => ((once = null), { configured: false, language: 'eng', auto: false }));
  return once;
}

/** After a change of settings or preferences. */
export function forgetTranslation() {
  once = null;
}

export function useTranslation(): TranslationState {
  const [state, setState] = useState<TranslationState>({ configured: false, language: 'eng', auto: false });
  useEffect(() => {
    loadTranslation().then(setState);
  }, []);
  return state;
}
