// The attributes admins defined for contacts (shown ones, in their order), edited by agents:
// in the ticket's side panel and on the contact's page. The server checks every value.
import { useEffect, useState } from 'preact/hooks';
import { api, call, type Schemas } from '../api/client';

type Def = Schemas['AttributeDef'];
type Values = Record<string, unknown>;

/** What an input holds for a stored value (checkboxes hold booleans). */
function draftOf(def: Def, v: unknown): string | boolean {
  if (def.kind === 'checkbox') return v === true;
  return v === undefined || v === null ? '' : String(v);
}

export function ContactAttributes({ contactId, defs, values, onSaved }: { contactId: string; defs: Def[]; values: Values; onSaved: () => void }) {
  const shown = defs.filter((d) => d.shown);
  const initial = () => Object.fromEntries(shown.map((d) => [d.key, draftOf(d, values[d.key])]));
  const [draft, setDraft] = useState<Record<string, string | boolean>>(initial);
  const [error, setError] = useState('');
  const [saved, setSaved] = useState(false);
  const key = JSON.stringify([contactId, values, shown.map((d) => d.key)]);
  useEffect(() => {
    setDraft(initial());
    setError('');
  }, [key]);
  if (shown.length === 0) return null;

  const changed = shown.filter((d) => draft[d.key] !== draftOf(d, values[d.key]));
  const save = async (e: Event) => {
    e.preventDefault();
    setError('');
    setSaved(false);
    const attributes = Object.fromEntries(changed.map((d) => [d.key, draft[d.key] === '' ? null : draft[d.key]]));
    try {
      await call(api.PUT('/api/v1/contacts/{id}/attributes', { params: { path: { id: contactId } }, body: { attributes } }));
      setSaved(true);
      onSaved();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const set = (k: string, v: string | boolean) => {
    setSaved(false);
    setDraft({ ...draft, [k]: v });
  };

  return (
    <form class="contact-attributes" aria-label="Contact attributes" onSubmit={save}>
      {shown.map((d) => {
        const v = draft[d.key];
        const input = (e: Event) => set(d.key, (e.target as HTMLInputElement).value);
        const label = `${d.label}${d.required ? ' *' : ''}`;
        return (
          <label class={d.kind === 'checkbox' ? 'check' : ''} data-attribute={d.key}>
            {d.kind === 'checkbox' ? (
              <>
                <input type="checkbox" aria-label={d.label} checked={v === true} onChange={(e) => set(d.key, (e.target as HTMLInputElement).checked)} /> {label}
              </>
            ) : (
              <>
                <span>{label}</span>
                {d.kind === 'list' ? (
                  <select aria-label={d.label} value={String(v)} onChange={input}>
                    <option value="">—</option>
                    {d.options.map((o) => (
                      <option value={o}>{o}</option>
                    ))}
                  </select>
                ) : (
                  <input
                    aria-label={d.label}
                    type={{ number: 'number', date: 'date', link: 'url', email: 'email', phone: 'tel' }[d.kind as string] ?? 'text'}
                    step={d.kind === 'number' ? 'any' : undefined}
                    placeholder={d.kind === 'phone' ? '+49 151 2345678' : d.kind === 'link' ? 'https://' : undefined}
                    value={String(v)}
                    onInput={input}
                  />
                )}
                {d.kind === 'link' && typeof v === 'string' && /^https?:\/\//.test(v) && v === values[d.key] && (
                  <a href={v} target="_blank" rel="noopener noreferrer">
                    open
                  </a>
                )}
              </>
            )}
          </label>
        );
      })}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div>
        <button type="submit" disabled={changed.length === 0}>
          Save attributes
        </button>
        {saved && changed.length === 0 && <span class="muted"> Saved</span>}
      </div>
    </form>
  );
}
