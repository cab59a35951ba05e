// A week of business hours as admins set them: the same hours on the days ticked, a time zone
// and holidays. Teams and channels use it; none means "no hours".
import type { Schemas } from '../api/client';

type Schedule = Schemas['Schedule'];
const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** The form's simple week from a schedule. */
function simple(h: Schedule | null | undefined) {
  const first = h?.week.find((d) => d.length)?.[0];
  return { on: !!h, timezone: h?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone, from: first?.from ?? '09:00', to: first?.to ?? '17:00', days: h ? h.week.map((d) => d.length > 0) : [true, true, true, true, true, false, false], holidays: (h?.holidays ?? []).join(', ') };
}

export function HoursEditor({ value, onChange, label }: { value: Schedule | null | undefined; onChange: (h: Schedule | null) => void; label: string }) {
  const hours = simple(value);
  const set = (p: Partial<typeof hours>) => {
    const h = { ...hours, ...p };
    onChange(h.on ? { timezone: h.timezone, week: h.days.map((on) => (on ? [{ from: h.from, to: h.to }] : [])), holidays: h.holidays.split(',').map((x) => x.trim()).filter(Boolean) } : null);
  };
  const text = (k: 'timezone' | 'from' | 'to' | 'holidays') => (e: Event) => set({ [k]: (e.target as HTMLInputElement).value });
  return (
    <fieldset class="hours">
      <legend>Business hours</legend>
      <label><input type="checkbox" checked={hours.on} onChange={(e) => set({ on: (e.target as HTMLInputElement).checked })} /> {label}</label>
      {hours.on && (
        <>
          <label>Time zone <input value={hours.timezone} onInput={text('timezone')} /></label>
          <label>From <input type="time" value={hours.from} onInput={text('from')} /></label>
          <label>To <input type="time" value={hours.to} onInput={text('to')} /></label>
          {DAYS.map((d, i) => (
            <label><input type="checkbox" checked={hours.days[i]} onChange={(e) => set({ days: hours.days.map((x, j) => (j === i ? (e.target as HTMLInputElement).checked : x)) })} /> {d}</label>
          ))}
          <label>Holidays (YYYY-MM-DD, comma-separated) <input value={hours.holidays} onInput={text('holidays')} /></label>
        </>
      )}
    </fieldset>
  );
}
