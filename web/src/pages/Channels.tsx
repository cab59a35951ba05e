// Admins: every channel with its plugin, health and last activity; enable or disable it.
import { useEffect, useState } from 'preact/hooks';
import { api, call, type ChannelSummary } from '../api/client';
import { subscribe } from '../live';
import { ago, when } from '../format';
import { PlatformIcon } from '../components/Avatar';

const HEALTH_WORDS: Record<string, string> = {
  starting: 'Starting',
  ok: 'OK',
  degraded: 'Degraded',
  needs_reconnect: 'Needs reconnect',
  disabled: 'Disabled',
};

export function Channels() {
  const [channels, setChannels] = useState<ChannelSummary[]>([]);
  const [error, setError] = useState('');
  // The last connection test of each channel, in words.
  const [tests, setTests] = useState<Record<string, { ok: boolean; words: string }>>({});
  const load = () => call(api.GET('/api/v1/channels')).then(setChannels, (e) => setError(e.message));

  useEffect(() => {
    load();
    return subscribe((e) => {
      if (e.type === 'channel_health') setChannels((cs) => cs.map((c) => (c.id === e.channel ? { ...c, health: e.health } : c)));
    });
  }, []);

  const toggle = async (c: ChannelSummary) => {
    try {
      const updated = await call(api.PATCH('/api/v1/channels/{id}', { params: { path: { id: c.id } }, body: { enabled: !c.enabled } }));
      setChannels((cs) => cs.map((x) => (x.id === c.id ? updated : x)));
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const test = async (c: ChannelSummary) => {
    setTests((t) => ({ ...t, [c.id]: { ok: true, words: 'Testing…' } }));
    try {
      const r = await call(api.POST('/api/v1/channels/{id}/check', { params: { path: { id: c.id } } }));
      setTests((t) => ({ ...t, [c.id]: { ok: r.ok, words: r.ok ? `Connected: ${r.account}` : `Failed: ${r.error}` } }));
    } catch (e) {
      setTests((t) => ({ ...t, [c.id]: { ok: false, words: (e as Error).message } }));
    }
  };

  return (
    <main class="admin-page">
      <h1>Channels</h1>
      {error && <p class="error" role="alert">{error}</p>}
      <table class="grid">
        <thead>
          <tr>
            <th>Channel</th>
            <th>Plugin</th>
            <th>Health</th>
            <th>Last activity</th>
            <th>Receives</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {channels.map((c) => (
            <tr data-channel={c.id}>
              <td>
                {c.platform && <PlatformIcon platform={c.platform} />} {c.display_name}
                <div class="muted">{c.id}</div>
              </td>
              <td>
                {c.plugin}
                {c.platform_name && <div class="muted">{c.platform_name}</div>}
                {c.contract && (
                  <div
                    class="muted"
                    data-contract={c.contract}
                    title={[c.plugin_sha256 && `SHA-256 ${c.plugin_sha256}`, c.declared_hosts.length && `asks to reach ${c.declared_hosts.join(', ')}`].filter(Boolean).join('\n')}
                  >
                    contract {c.contract}
                  </div>
                )}
              </td>
              <td>
                <span class={`health h-${c.health.state}`} data-health={c.health.state}>
                  {HEALTH_WORDS[c.health.state] ?? c.health.state}
                </span>
                {c.health.last_error && (
                  <div class="muted last-error" title={c.health.last_error_at ? when(c.health.last_error_at) : ''}>
                    {c.health.last_error}
                  </div>
                )}
                {c.health.next_retry_at && <div class="muted">retrying at {new Date(c.health.next_retry_at).toLocaleTimeString()}</div>}
              </td>
              <td>{c.health.last_activity_at ? ago(c.health.last_activity_at) : '—'}</td>
              <td>
                {[c.polls && 'polling', c.webhooks && 'webhooks'].filter(Boolean).join(', ') || '—'}
                {c.webhooks && (
                  <div class="muted webhook-url" title="Paste this into the platform's webhook settings">
                    {location.origin}
                    {c.webhook_path}
                  </div>
                )}
              </td>
              <td>
                <button onClick={() => toggle(c)}>{c.enabled ? 'Disable' : 'Enable'}</button>{' '}
                {c.contract && (
                  <button onClick={() => test(c)} disabled={!c.enabled}>
                    Test connection
                  </button>
                )}
                {tests[c.id] && (
                  <div class={tests[c.id].ok ? 'muted' : 'error'} data-test-result={c.id} role="status">
                    {tests[c.id].words}
                  </div>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="hint">Credentials stay in plugins.toml and its secret sources; nobody sees them here.</p>
    </main>
  );
}
