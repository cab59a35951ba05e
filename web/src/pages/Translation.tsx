// Admins: the translation provider (DeepL or LibreTranslate): where the host asks, with which
// key (stored sealed, never shown again) and how long it waits. Everyone then translates a
// customer's message into their language and their reply into the customer's.
import { useEffect, useState } from 'preact/hooks';
import { api, call, type Schemas } from '../api/client';
import { forgetTranslation } from '../translation';

type Provider = Schemas['TranslationProvider'];
const DEFAULT_URL: Record<Provider, string> = { deepl: 'https://api-free.deepl.com', libretranslate: 'https://libretranslate.com' };

export function Translation() {
  const [current, setCurrent] = useState<Schemas['TranslationSettings'] | null>(null);
  const [provider, setProvider] = useState<Provider>('deepl');
  const [url, setUrl] = useState(DEFAULT_URL.deepl);
  const [key, setKey] = useState('');
  const [timeout, setTimeoutSeconds] = useState(10);
  const [error, setError] = useState('');
  const [saved, setSaved] = useState('');
  useEffect(() => {
    call(api.GET('/api/v1/translation/settings')).then((s) => {
      setCurrent(s);
      if (s) {
        setProvider(s.provider);
        setUrl(s.url);
        setTimeoutSeconds(s.timeout_seconds);
      }
    }, (e) => setError(e.message));
  }, []);
  const save = async (e: Event) => {
    e.preventDefault();
    setError('');
    setSaved('');
    try {
      const s = await call(api.PUT('/api/v1/translation/settings', { body: { provider, url, timeout_seconds: timeout, api_key: key ? key : undefined } }));
      setCurrent(s);
      setKey('');
      forgetTranslation();
      setSaved('Saved: agents can translate now.');
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <main class="admin-page">
      <h1>Translation</h1>
      <p class="hint">The host sends the text to this address only, and to no other it may redirect to. Translations are kept with their messages.</p>
      {error && <p class="error" role="alert">{error}</p>}
      {saved && <p class="saved" role="status">{saved}</p>}
      <form class="team-form" aria-label="Translation provider" onSubmit={save}>
        <label>
          Provider
          <select value={provider} onChange={(e) => {
            const p = (e.target as HTMLSelectElement).value as Provider;
            if (url === DEFAULT_URL[provider]) setUrl(DEFAULT_URL[p]);
            setProvider(p);
          }}>
            <option value="deepl">DeepL</option>
            <option value="libretranslate">LibreTranslate</option>
          </select>
        </label>
        <label>URL <input value={url} required onInput={(e) => setUrl((e.target as HTMLInputElement).value)} /></label>
        <label>
          API key{' '}
          <input type="password" autoComplete="off" value={key} placeholder={current?.api_key_set ? 'stored (type to replace)' : ''} onInput={(e) => setKey((e.target as HTMLInputElement).value)} />
        </label>
        <label>Timeout (seconds) <input type="number" min={1} max={60} value={timeout} onInput={(e) => setTimeoutSeconds(Number((e.target as HTMLInputElement).value))} /></label>
        <button class="primary" type="submit">Save</button>
      </form>
    </main>
  );
}
