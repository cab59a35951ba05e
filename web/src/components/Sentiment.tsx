// How a customer seems to feel: the offline suggestion (English) or an agent's mark, on a
// customer's message and on the ticket; choosing one marks it.
import { useEffect, useState } from 'preact/hooks';
import { api, call, type Schemas } from '../api/client';

type Sentiment = Schemas['Sentiment'];
export const SENTIMENT_WORDS: Record<Sentiment, string> = { positive: '🙂 Positive', neutral: '😐 Neutral', negative: '🙁 Negative' };

/** A select showing `value` (suggested unless `marked`); `onMark` gets the agent's choice. */
export function SentimentSelect({ value, marked, label, onMark }: { value: Sentiment | null | undefined; marked: boolean; label: string; onMark: (s: Sentiment | null) => Promise<unknown> }) {
  const [shown, setShown] = useState(value ?? '');
  useEffect(() => setShown(value ?? ''), [value]);
  return (
    <select
      class={`sentiment s-${shown || 'none'} ${marked ? 'marked' : 'suggested'}`}
      aria-label={label}
      data-sentiment={shown}
      data-marked={marked}
      title={marked ? 'Marked by an agent' : shown ? 'Suggested (English only); choose to mark it' : 'Mark how the customer feels'}
      value={shown}
      onChange={(e) => {
        const v = (e.target as HTMLSelectElement).value as Sentiment | '';
        setShown(v);
        onMark(v || null).catch(() => setShown(value ?? ''));
      }}
    >
      <option value="">{marked ? 'No mark' : 'Sentiment…'}</option>
      {(Object.keys(SENTIMENT_WORDS) as Sentiment[]).map((s) => <option value={s}>{marked || !shown ? SENTIMENT_WORDS[s] : `${SENTIMENT_WORDS[s]} (suggested)`}</option>)}
    </select>
  );
}

export function MessageSentiment({ m }: { m: Schemas['Message'] }) {
  return (
    <SentimentSelect
      value={m.sentiment}
      marked={m.sentiment_marked}
      label="Message sentiment"
      onMark={(s) => call(api.PUT('/api/v1/messages/{id}/sentiment', { params: { path: { id: m.id } }, body: { sentiment: s } }))}
    />
  );
}
