// Admins: the attributes agents keep on contacts (Hootsuite's custom fields): their order,
// kind (text, number, date, list, checkbox, link, email, phone), whether agents see them,
// whether saving needs them, a list's choices and a text's pattern. Saved all at once.
import { useEffect, useState } from 'preact/hooks';
import { api, call, type Schemas } from '../api/client';

type Def = Schemas['AttributeDef'];
type AttrKind = Schemas['AttributeKind'];

const KINDS: [AttrKind, string][] = [
  ['text', 'Text'], ['number', 'Number'], ['date', 'Date'], ['list', 'List'],
  ['checkbox', 'Checkbox'], ['link', 'Link'], ['email', 'Email'], ['phone', 'Phone'],
];

/** "Customer number" → "customer_number". */
function keyOf(label: string): string {
  return label.toLowerCase().normalize('NFD').replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 40);
}

export function ContactAttributesAdmin() {
  const [defs, setDefs] = useState<Def[]>([]);
  const [stored, setStored] = useState('[]');
  const [error, setError] = useState('');
  const [saved, setSaved] = useState(false);
  const load = () =>
    call(api.GET('/api/v1/contact-attributes')).then((d) => {
      setDefs(d.attributes);
      setStored(JSON.stringify(d.attributes));
    }, (e) => setError(e.message));
  useEffect(() => void load(), []);

  const edit = (i: number, change: Partial<Def>) => {
    setSaved(false);
    setDefs(defs.map((d, j) => (j === i ? { ...d, ...change } : d)));
  };
  const move = (i: number, by: number) => {
    const next = [...defs];
    [next[i], next[i + by]] = [next[i + by], next[i]];
    setDefs(next);
  };
  const save = async (e: Event) => {
    e.preventDefault();
    setError('');
    try {
      const d = await call(api.PUT('/api/v1/contact-attributes', { body: { attributes: defs } }));
      setDefs(d.attributes);
      setStored(JSON.stringify(d.attributes));
      setSaved(true);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <main class="admin-page">
      <h1>Contact attributes</h1>
      <p class="hint">
        What agents keep about a person (a customer number, a plan, a birthday), edited in a ticket's side panel and on the contact's page. Hidden ones keep their values. A phone or email attribute also
        suggests linking contacts with the same one.
      </p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <form aria-label="Contact attributes" onSubmit={save}>
        <table class="grid">
          <thead>
            <tr>
              <th>Label</th>
              <th>Key</th>
              <th>Kind</th>
              <th>Choices / pattern</th>
              <th>Shown</th>
              <th>Required</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {defs.map((d, i) => {
              const isNew = !JSON.parse(stored).some((s: Def) => s.key === d.key);
              return (
                <tr data-attribute-def={d.key}>
                  <td>
                    <input aria-label="Label" value={d.label} required onInput={(e) => {
                      const label = (e.target as HTMLInputElement).value;
                      edit(i, isNew ? { label, key: keyOf(label) } : { label });
                    }} />
                  </td>
                  <td>
                    <input aria-label="Key" value={d.key} size={14} onInput={(e) => edit(i, { key: (e.target as HTMLInputElement).value })} />
                  </td>
                  <td>
                    <select aria-label="Kind" value={d.kind} onChange={(e) => edit(i, { kind: (e.target as HTMLSelectElement).value as AttrKind, options: [], pattern: null })}>
                      {KINDS.map(([k, w]) => (
                        <option value={k}>{w}</option>
                      ))}
                    </select>
                  </td>
                  <td>
                    {d.kind === 'list' && (
                      <input aria-label="Choices" placeholder="Gold, Silver, Bronze" value={d.options.join(', ')} onInput={(e) => edit(i, { options: (e.target as HTMLInputElement).value.split(',').map((o) => o.trim()).filter((o, j, all) => o || j < all.length - 1) })} />
                    )}
                    {d.kind === 'text' && (
                      <input aria-label="Pattern" placeholder="regular expression, e.g. C-[0-9]{6}" value={d.pattern ?? ''} onInput={(e) => edit(i, { pattern: (e.target as HTMLInputElement).value || null })} />
                    )}
                  </td>
                  <td>
                    <input type="checkbox" aria-label="Shown" checked={d.shown} onChange={(e) => edit(i, { shown: (e.target as HTMLInputElement).checked })} />
                  </td>
                  <td>
                    <input type="checkbox" aria-label="Required" checked={d.required} onChange={(e) => edit(i, { required: (e.target as HTMLInputElement).checked })} />
                  </td>
                  <td>
                    <button type="button" class="link" aria-label="Move up" disabled={i === 0} onClick={() => move(i, -1)}>↑</button>
                    <button type="button" class="link" aria-label="Move down" disabled={i === defs.length - 1} onClick={() => move(i, 1)}>↓</button>{' '}
                    <button type="button" class="link" onClick={() => setDefs(defs.filter((_, j) => j !== i))}>Remove</button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {defs.length === 0 && <p class="empty">No contact attributes yet.</p>}
        <button type="button" onClick={() => setDefs([...defs, { key: '', label: '', kind: 'text', required: false, shown: true, options: [], pattern: null }])}>
          Add attribute
        </button>{' '}
        <button class="primary" type="submit" disabled={JSON.stringify(defs) === stored}>
          Save
        </button>
        {saved && <span class="muted"> Saved</span>}
      </form>
    </main>
  );
}
