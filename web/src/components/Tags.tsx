// Editable tags: chips with a remove button, and a box to add one.
import { useState } from 'preact/hooks';

export function Tags({ tags, label, onChange }: { tags: string[]; label: string; onChange: (t: string[]) => void }) {
  const [draft, setDraft] = useState('');
  const add = (e: Event) => {
    e.preventDefault();
    const t = draft.trim();
    if (t && !tags.includes(t)) onChange([...tags, t]);
    setDraft('');
  };
  return (
    <div class="tags" aria-label={label}>
      {tags.map((t) => (
        <span class="tag" key={t}>
          {t}
          <button class="link" aria-label={`Remove tag ${t}`} onClick={() => onChange(tags.filter((x) => x !== t))}>
            ×
          </button>
        </span>
      ))}
      <form onSubmit={add}>
        <input aria-label={`Add ${label.toLowerCase()}`} placeholder="+ tag" size={8} value={draft} onInput={(e) => setDraft((e.target as HTMLInputElement).value)} />
      </form>
    </div>
  );
}
