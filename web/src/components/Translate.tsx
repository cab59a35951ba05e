// A customer's message in my language: on demand ("Translate"), or at once when I chose
// automatic translation; kept with the message, so every agent sees it after.
import { useEffect, useState } from 'preact/hooks';
import { api, call, type Message } from '../api/client';
import { useLanguages } from '../languages';
import { useTranslation } from '../translation';

export function MessageTranslation({ m }: { m: Message }) {
  const tr = useTranslation();
  const names = useLanguages();
  const [translations, setTranslations] = useState(m.translations ?? []);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  useEffect(() => setTranslations(m.translations ?? []), [m.translations]);
  const mine = translations.find((t) => t.language === tr.language);
  const foreign = m.direction === 'inbound' && !!m.text.trim() && m.language != null && m.language !== tr.language;
  const translate = () => {
    setBusy(true);
    setError('');
    call(api.POST('/api/v1/messages/{id}/translate', { params: { path: { id: m.id } }, body: { to: tr.language } }))
      .then((x) => setTranslations(x.translations), (e) => setError(e.message))
      .finally(() => setBusy(false));
  };
  useEffect(() => {
    if (tr.configured && tr.auto && foreign && !mine) translate();
  }, [tr.configured, tr.auto, m.id]);
  if (!tr.configured || !foreign) return null;
  if (mine)
    return (
      <p class="translation" data-translation={mine.language} lang={mine.language}>
        <span class="muted">Translated from {names[m.language ?? ''] ?? m.language} ({mine.provider === 'deepl' ? 'DeepL' : 'LibreTranslate'}):</span> {mine.text}
      </p>
    );
  return (
    <p class="translation">
      <button class="link" onClick={translate} disabled={busy}>{busy ? 'Translating…' : `Translate into ${names[tr.language] ?? tr.language}`}</button>
      {error && <span class="error" role="alert"> {error}</span>}
    </p>
  );
}
