// Reports: how fast the team answers and where the work comes from. Pick the days and how to
// group them (by day, week or month, or by platform, channel, kind, agent, team or tag),
// narrow a period report to one channel, agent or team; charts of the periods (uPlot), every
// figure in the table, and the table as CSV. The choices are in the URL, to bookmark or share.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api, call, type ChannelSummary, type Schemas, type User } from '../api/client';
import { KIND_WORDS, platformName } from '../format';
import { setParams, type Route } from '../route';

type Report = Schemas['Report'];
type Line = Schemas['ReportLine'];
type Figures = Schemas['Figures'];
type Group = Schemas['Group'];

const GROUPS: [Group, string][] = [
  ['day', 'Day'], ['week', 'Week'], ['month', 'Month'], ['platform', 'Platform'], ['channel', 'Channel'],
  ['kind', 'Kind'], ['agent', 'Agent'], ['team', 'Team'], ['tag', 'Tag'],
];
const PERIODS: Group[] = ['day', 'week', 'month'];
const NARROW = ['channel', 'agent', 'team'] as const;

/** A duration as "45 s", "12 min", "3.5 h", "2.1 d". */
export function duration(ms: number | null | undefined): string {
  if (ms == null) return '—';
  const s = ms / 1000;
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}

const pct = (f: Figures) => (f.met_percent == null ? '—' : `${f.met_percent}%`);

function Chart({ title, keys, series }: { title: string; keys: string[]; series: { label: string; values: (number | null)[]; color: string; bars?: boolean }[] }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    const width = Math.max(320, el.current.clientWidth || 600);
    const bars = uPlot.paths.bars!({ size: [0.6, 40] });
    const plot = new uPlot(
      {
        title,
        width,
        height: 220,
        scales: { x: { time: false } },
        axes: [{ values: (_u, splits) => splits.map((i) => keys[i] ?? '') }, {}],
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, fill: s.bars ? `${s.color}99` : undefined, paths: s.bars ? bars : undefined, width: 2, spanGaps: true }))],
      },
      [keys.map((_, i) => i), ...series.map((s) => s.values)] as uPlot.AlignedData,
      el.current,
    );
    return () => plot.destroy();
  }, [title, JSON.stringify(keys), JSON.stringify(series)]);
  return <div class="chart" ref={el} role="img" aria-label={title} />;
}

export function Reports({ me, route }: { me: User; route: Route }) {
  const p = route.params;
  const by = (p.get('by') as Group) ?? 'day';
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState('');
  const [users, setUsers] = useState<User[]>([]);
  const [channels, setChannels] = useState<ChannelSummary[]>([]);
  const [teams, setTeams] = useState<Schemas['Team'][]>([]);
  const [zone, setZone] = useState('');

  const query: Record<string, string> = { by };
  for (const k of ['from', 'to', ...NARROW]) {
    const v = p.get(k);
    if (v && (PERIODS.includes(by) || !NARROW.includes(k as (typeof NARROW)[number]))) query[k] = v;
  }
  const qs = new URLSearchParams(query).toString();
  useEffect(() => {
    setError('');
    call(api.GET('/api/v1/reports', { params: { query } })).then(setReport, (e) => setError(e.message));
  }, [qs]);
  useEffect(() => {
    call(api.GET('/api/v1/users')).then(setUsers, () => {});
    call(api.GET('/api/v1/channels')).then(setChannels, () => {});
    call(api.GET('/api/v1/teams')).then(setTeams, () => {});
    call(api.GET('/api/v1/reports/settings')).then((s) => setZone(s.time_zone), () => {});
  }, []);

  const name = (key: string): string => {
    if (PERIODS.includes(by)) return key;
    if (by === 'channel') return channels.find((c) => c.id === key)?.display_name ?? key;
    if (by === 'team') return teams.find((t) => t.id === key)?.name ?? key;
    if (by === 'platform') return platformName(key);
    if (by === 'kind') return KIND_WORDS[key as keyof typeof KIND_WORDS] ?? key;
    return key;
  };
  const saveZone = async (e: Event) => {
    e.preventDefault();
    await call(api.PUT('/api/v1/reports/settings', { body: { time_zone: zone } })).then(() => setParams({}), (err) => setError(err.message));
  };
  const lines = report?.lines ?? [];
  const keys = lines.map((l) => name(l.key));
  const minutes = (ms: number | null | undefined) => (ms == null ? null : Math.round(ms / 600) / 100);
  const t = report?.total;
  const most = Math.max(1, ...lines.map((l) => l.tickets_in));

  return (
    <main class="admin-page reports">
      <h1>Reports</h1>
      <form class="report-controls" aria-label="Report" onSubmit={(e) => e.preventDefault()}>
        <label>From <input type="date" aria-label="From" value={report?.from ?? p.get('from') ?? ''} onChange={(e) => setParams({ from: (e.target as HTMLInputElement).value }, true)} /></label>
        <label>To <input type="date" aria-label="To" value={report?.to ?? p.get('to') ?? ''} onChange={(e) => setParams({ to: (e.target as HTMLInputElement).value }, true)} /></label>
        <label>
          By
          <select aria-label="Group by" value={by} onChange={(e) => setParams({ by: (e.target as HTMLSelectElement).value }, true)}>
            {GROUPS.map(([g, w]) => <option value={g}>{w}</option>)}
          </select>
        </label>
        {PERIODS.includes(by) && (
          <>
            <select aria-label="Only channel" value={p.get('channel') ?? ''} onChange={(e) => setParams({ channel: (e.target as HTMLSelectElement).value, agent: null, team: null }, true)}>
              <option value="">Every channel</option>
              {channels.map((c) => <option value={c.id}>{c.display_name}</option>)}
            </select>
            <select aria-label="Only agent" value={p.get('agent') ?? ''} onChange={(e) => setParams({ agent: (e.target as HTMLSelectElement).value, channel: null, team: null }, true)}>
              <option value="">Every agent</option>
              {users.map((u) => <option value={u.name}>{u.name}</option>)}
            </select>
            <select aria-label="Only team" value={p.get('team') ?? ''} onChange={(e) => setParams({ team: (e.target as HTMLSelectElement).value, channel: null, agent: null }, true)}>
              <option value="">Every team</option>
              {teams.map((x) => <option value={x.id}>{x.name}</option>)}
            </select>
          </>
        )}
        <a class="button" href={`/api/v1/reports?${qs}&format=csv`} download data-csv>Download CSV</a>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {t && (
        <dl class="figures" aria-label="Totals">
          <div><dt>Tickets in</dt><dd data-figure="tickets_in">{t.tickets_in}</dd></div>
          <div><dt>Messages in / out</dt><dd data-figure="messages">{t.messages_in} / {t.messages_out}</dd></div>
          <div><dt>Agents' replies</dt><dd data-figure="replies">{t.replies}</dd></div>
          <div><dt>Resolved</dt><dd data-figure="resolved">{t.resolved}</dd></div>
          <div><dt>First response (median · p90)</dt><dd data-figure="first_response">{duration(t.first_response.median_ms)} · {duration(t.first_response.p90_ms)}</dd></div>
          <div><dt>Next response (median)</dt><dd>{duration(t.next_response.median_ms)}</dd></div>
          <div><dt>Resolution (median)</dt><dd>{duration(t.resolution.median_ms)}</dd></div>
          <div><dt>First responses on target</dt><dd data-figure="met">{pct(t.first_response)}</dd></div>
        </dl>
      )}
      {report && PERIODS.includes(by) && (
        <div class="charts">
          <Chart title="Tickets in and resolved" keys={keys} series={[
            { label: 'Tickets in', values: lines.map((l) => l.tickets_in), color: '#3b6fd8', bars: true },
            { label: 'Resolved', values: lines.map((l) => l.resolved), color: '#2e9d57' },
          ]} />
          <Chart title="First response time (minutes)" keys={keys} series={[
            { label: 'Median', values: lines.map((l) => minutes(l.first_response.median_ms)), color: '#3b6fd8' },
            { label: 'p90', values: lines.map((l) => minutes(l.first_response.p90_ms)), color: '#d8843b' },
          ]} />
        </div>
      )}
      {report && (
        <table class="grid report-table">
          <thead>
            <tr>
              <th>{GROUPS.find(([g]) => g === by)?.[1]}</th><th>Tickets in</th><th>Messages in</th><th>Messages out</th><th>Replies</th><th>Resolved</th>
              <th>First response median</th><th>p90</th><th>Business median</th><th>On target</th><th>Next response median</th><th>Resolution median</th><th>On target</th>
              {by === 'agent' && <th>Time Available</th>}
            </tr>
          </thead>
          <tbody>
            {[...lines, report.total].map((l: Line) => (
              <tr data-line={l.key} class={l.key === 'total' ? 'total' : ''}>
                <td>
                  {l.key === 'total' ? 'Total' : name(l.key)}
                  {!PERIODS.includes(by) && l.key !== 'total' && <span class="bar" style={{ width: `${(l.tickets_in / most) * 100}%` }} />}
                </td>
                <td>{l.tickets_in}</td><td>{l.messages_in}</td><td>{l.messages_out}</td><td>{l.replies}</td><td>{l.resolved}</td>
                <td>{duration(l.first_response.median_ms)}</td><td>{duration(l.first_response.p90_ms)}</td><td>{duration(l.first_response.business_median_ms)}</td><td>{pct(l.first_response)}</td>
                <td>{duration(l.next_response.median_ms)}</td><td>{duration(l.resolution.median_ms)}</td><td>{pct(l.resolution)}</td>
                {by === 'agent' && <td>{duration(l.available_ms)}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p class="hint">
        Days are counted in {report?.time_zone ?? zone}. Times are medians and 90th percentiles (within 2.5%); business medians count only the channels' business hours; on target is the share that met its response target.
      </p>
      {me.role === 'admin' && (
        <form class="inline" aria-label="Report time zone" onSubmit={saveZone}>
          <label>Time zone <input value={zone} onInput={(e) => setZone((e.target as HTMLInputElement).value)} placeholder="Europe/Berlin" /></label> <button type="submit">Save</button>
        </form>
      )}
    </main>
  );
}
