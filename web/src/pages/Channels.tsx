// Admins: every channel with its plugin, health and last activity; enable or disable it,
// reconnect it with new secrets, and read what admins changed on it.
import { useEffect, useState } from 'preact/hooks';
import { api, call, type AvailablePlugin, type ChannelChange, type ChannelSummary, type Schemas } from '../api/client';
import { subscribe } from '../live';
import { ago, when } from '../format';
import { PlatformIcon } from '../components/Avatar';
import { HoursEditor } from '../components/HoursEditor';

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
  // The channel whose reconnect form or history is open below its row.
  const [open, setOpen] = useState<{ id: string; what: 'reconnect' | 'history' | 'edit' | 'hours' } | null>(null);
  // When an agent last answered on each channel, and each channel's own business hours.
  const [answers, setAnswers] = useState<Record<string, Schemas['LastAnswer']>>({});
  const [hours, setHours] = useState<Record<string, Schemas['Schedule']>>({});
  const show = (id: string, what: 'reconnect' | 'history' | 'edit' | 'hours') => setOpen((o) => (o?.id === id && o.what === what ? null : { id, what }));
  const load = () => call(api.GET('/api/v1/channels')).then(setChannels, (e) => setError(e.message));

  useEffect(() => {
    load();
    call(api.GET('/api/v1/channels/answers')).then((all) => setAnswers(Object.fromEntries(all.map((a) => [a.channel, a]))), () => {});
    call(api.GET('/api/v1/business-hours')).then(setHours, () => {});
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

  const remove = async (c: ChannelSummary) => {
    if (!confirm(`Remove ${c.display_name}? It stops at once; its tickets stay.`)) return;
    try {
      await call(api.DELETE('/api/v1/channels/{id}', { params: { path: { id: c.id } } }));
      setChannels((cs) => cs.filter((x) => x.id !== c.id));
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
            <th>Last answer</th>
            <th>Receives</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {channels.map((c) => [
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
                    {c.plugin_sha256 && <div class="sha">SHA-256 {c.plugin_sha256.slice(0, 12)}…</div>}
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
                {c.health.notice && (
                  <div class="warn notice" data-notice>
                    {c.health.notice}
                  </div>
                )}
                {c.health.quota && (
                  <div class="muted quota" data-quota-used={c.health.quota.used}>
                    {c.health.quota.used.toLocaleString()} of {c.health.quota.limit.toLocaleString()} {c.health.quota.unit} used
                    {c.health.quota.resets_at ? `, new at ${new Date(c.health.quota.resets_at).toLocaleTimeString()}` : ''}
                  </div>
                )}
              </td>
              <td>{c.health.last_activity_at ? ago(c.health.last_activity_at) : '—'}</td>
              <td data-last-answer={c.id}>
                {answers[c.id] ? <span title={`${when(answers[c.id].at)} by ${answers[c.id].by}`}>{ago(answers[c.id].at)}</span> : 'never'}
                {(!answers[c.id] || Date.now() - answers[c.id].at > INACTIVE_DAYS * 86_400_000) && c.enabled && (
                  <div class="warn inactive" data-inactive={c.id}>No agent answer {answers[c.id] ? `for ${INACTIVE_DAYS}+ days` : 'yet'}: some platforms deactivate inboxes left unanswered</div>
                )}
                {hours[c.id] && <div class="muted">own hours ({hours[c.id].timezone})</div>}
              </td>
              <td>
                {[c.polls && 'polling', c.webhooks && 'webhooks'].filter(Boolean).join(', ') || '—'}
                {c.webhooks && (
                  <div class="muted webhook-url" title="Paste this into the platform's webhook settings">
                    {location.origin}
                    {c.webhook_path}
                  </div>
                )}
                <ChannelSettings c={c} />
              </td>
              <td>
                <button onClick={() => toggle(c)}>{c.enabled ? 'Disable' : 'Enable'}</button>{' '}
                {c.contract && (
                  <button onClick={() => test(c)} disabled={!c.enabled}>
                    Test connection
                  </button>
                )}
                {c.settings.some((s) => s.secret) && (
                  <>
                    {' '}
                    <button onClick={() => show(c.id, 'reconnect')} aria-expanded={open?.id === c.id && open.what === 'reconnect'}>
                      Reconnect
                    </button>
                  </>
                )}{' '}
                <button onClick={() => show(c.id, 'history')} aria-expanded={open?.id === c.id && open.what === 'history'}>
                  History
                </button>{' '}
                <button onClick={() => show(c.id, 'hours')} aria-expanded={open?.id === c.id && open.what === 'hours'}>
                  Hours
                </button>
                {c.connected_in_ui && (
                  <>
                    {' '}
                    <button onClick={() => show(c.id, 'edit')} aria-expanded={open?.id === c.id && open.what === 'edit'}>
                      Edit
                    </button>{' '}
                    <button onClick={() => remove(c)}>Remove</button>
                  </>
                )}
                {tests[c.id] && (
                  <div class={tests[c.id].ok ? 'muted' : 'error'} data-test-result={c.id} role="status">
                    {tests[c.id].words}
                  </div>
                )}
              </td>
            </tr>,
            open?.id === c.id && (
              <tr class="channel-detail" data-detail={c.id}>
                <td colSpan={7}>
                  {open.what === 'hours' ? (
                    <ChannelHours id={c.id} value={hours[c.id]} onDone={(all) => (setHours(all), setOpen(null))} />
                  ) : open.what === 'edit' ? (
                    <Edit
                      c={c}
                      onDone={(updated) => {
                        setChannels((cs) => cs.map((x) => (x.id === c.id ? updated : x)));
                        setOpen(null);
                      }}
                    />
                  ) : open.what === 'reconnect' ? (
                    <Reconnect
                      c={c}
                      onDone={(updated) => {
                        setChannels((cs) => cs.map((x) => (x.id === c.id ? updated : x)));
                        setOpen(null);
                      }}
                    />
                  ) : (
                    <History id={c.id} />
                  )}
                </td>
              </tr>
            ),
          ])}
        </tbody>
      </table>
      <ConnectChannel onDone={load} />
      <InstallPlugin onDone={load} />
      <p class="hint">Secrets are never shown again once saved: Reconnect replaces them. Those entered here are kept sealed with the server's secret key and take the place of plugins.toml's.</p>
    </main>
  );
}

/// New values for a channel's secrets (a revoked token, say): saved sealed, used from the
/// channel's next call; the current values are never shown.
function Reconnect({ c, onDone }: { c: ChannelSummary; onDone: (updated: ChannelSummary) => void }) {
  const [values, setValues] = useState<Record<string, string>>({});
  const [error, setError] = useState('');
  const [saving, setSaving] = useState(false);
  const save = async (e: Event) => {
    e.preventDefault();
    const secrets = Object.fromEntries(Object.entries(values).filter(([, v]) => v.trim() !== ''));
    if (Object.keys(secrets).length === 0) {
      setError('Enter a new value for at least one secret.');
      return;
    }
    setSaving(true);
    setError('');
    try {
      const updated = await call(api.PUT('/api/v1/channels/{id}/secrets', { params: { path: { id: c.id } }, body: { secrets } }));
      setValues({});
      onDone(updated);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setSaving(false);
    }
  };
  return (
    <form class="reconnect" data-reconnect={c.id} onSubmit={save}>
      {c.settings
        .filter((s) => s.secret)
        .map((s) => (
          <SettingField setting={s} value={values[s.name] ?? ''} onInput={(v) => setValues((x) => ({ ...x, [s.name]: v }))} placeholder="a new value (the saved one is never shown)" />
        ))}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" disabled={saving}>
        {saving ? 'Saving…' : 'Save and reconnect'}
      </button>
    </form>
  );
}

/// What admins changed on a channel, newest first.
function History({ id }: { id: string }) {
  const [changes, setChanges] = useState<ChannelChange[] | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    call(api.GET('/api/v1/channels/{id}/history', { params: { path: { id } } })).then(setChanges, (e) => setError(e.message));
  }, [id]);
  if (error) return <p class="error">{error}</p>;
  if (!changes) return <p class="loading">Loading…</p>;
  if (changes.length === 0) return <p class="muted">No changes by admins yet.</p>;
  return (
    <ul class="channel-history" data-history={id}>
      {changes.map((ch) => (
        <li>
          <span title={when(ch.at)}>{ago(ch.at)}</span> · {ch.by} {ch.change}
        </li>
      ))}
    </ul>
  );
}

/// Install or upgrade a plugin from its `.wasm`: the server checks it against every channel that
/// runs it and swaps it in; a broken one is refused and the running version goes on.
function InstallPlugin({ onDone }: { onDone: () => void }) {
  const [words, setWords] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const upload = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const file = (form.elements.namedItem('wasm') as HTMLInputElement).files?.[0];
    if (!file) {
      setWords({ ok: false, text: 'Choose a .wasm file.' });
      return;
    }
    const name = file.name.replace(/\.wasm$/, '');
    setBusy(true);
    setWords({ ok: true, text: `Checking ${file.name}…` });
    try {
      const r = await call(
        api.PUT('/api/v1/plugins/{name}', {
          params: { path: { name } },
          body: (await file.arrayBuffer()) as unknown as number[],
          bodySerializer: (b: unknown) => b as ArrayBuffer,
          headers: { 'content-type': 'application/wasm' },
        }),
      );
      const on = r.channels.length ? `now running on ${r.channels.join(', ')}` : 'no channel runs it yet';
      setWords({ ok: true, text: `Installed ${r.name} (contract ${r.contract}, SHA-256 ${r.sha256.slice(0, 12)}…): ${on}.` });
      form.reset();
      onDone();
    } catch (err) {
      setWords({ ok: false, text: (err as Error).message });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="install-plugin" onSubmit={upload}>
      <h2>Install or upgrade a plugin</h2>
      <label>
        <span>Component (.wasm, named after the plugin: telegram.wasm upgrades telegram)</span>
        <input type="file" name="wasm" accept=".wasm,application/wasm" />
      </label>
      <button type="submit" disabled={busy}>
        Install
      </button>
      {words && (
        <p class={words.ok ? 'muted' : 'error'} role={words.ok ? 'status' : 'alert'} data-install-result>
          {words.text}
        </p>
      )}
    </form>
  );
}

/// Connect a new channel: an installed plugin, its declared settings and secrets, the hosts it
/// may reach (those it asks for, approved one by one, and any other its settings point at).
function ConnectChannel({ onDone }: { onDone: () => void }) {
  const [plugins, setPlugins] = useState<AvailablePlugin[]>([]);
  const [picked, setPicked] = useState('');
  const [values, setValues] = useState<Record<string, string>>({});
  const [hosts, setHosts] = useState<Record<string, boolean>>({});
  const [words, setWords] = useState<{ ok: boolean; text: string } | null>(null);
  useEffect(() => {
    call(api.GET('/api/v1/plugins')).then(setPlugins, (e) => setWords({ ok: false, text: e.message }));
  }, []);
  const plugin = plugins.find((p) => p.name === picked);
  const pick = (name: string) => {
    setPicked(name);
    setValues({});
    const p = plugins.find((x) => x.name === name);
    setHosts(Object.fromEntries((p?.declared_hosts ?? []).map((h) => [h, true])));
    setWords(null);
  };
  const set = (k: string, v: string) => setValues((x) => ({ ...x, [k]: v }));
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!plugin) return;
    const filled = (secret: boolean) =>
      Object.fromEntries(plugin.settings.filter((s) => s.secret === secret && (values[s.name] ?? '').trim() !== '').map((s) => [s.name, values[s.name].trim()]));
    const other = (values['@hosts'] ?? '').split(/[\s,]+/).filter(Boolean);
    try {
      const created = await call(
        api.POST('/api/v1/channels', {
          body: {
            id: (values['@id'] ?? '').trim(),
            display_name: (values['@name'] ?? '').trim(),
            plugin: plugin.name,
            config: filled(false),
            secrets: filled(true),
            allowed_hosts: [...Object.keys(hosts).filter((h) => hosts[h]), ...other],
          },
        }),
      );
      setWords({ ok: true, text: `Connected ${created.display_name}.${created.webhooks ? ` Its webhook URL: ${location.origin}${created.webhook_path}` : ''}` });
      setPicked('');
      onDone();
    } catch (err) {
      setWords({ ok: false, text: (err as Error).message });
    }
  };
  return (
    <form class="connect-channel" onSubmit={submit}>
      <h2>Connect a channel</h2>
      <label>
        <span>Plugin</span>
        <select name="plugin" value={picked} onChange={(e) => pick((e.target as HTMLSelectElement).value)}>
          <option value="">Choose…</option>
          {plugins.map((p) => (
            <option value={p.name}>
              {p.platform_name} ({p.name})
            </option>
          ))}
        </select>
      </label>
      {plugin && (
        <>
          <label>
            <span>Channel id (in its webhook URL)</span>
            <input name="id" value={values['@id'] ?? ''} onInput={(e) => set('@id', (e.target as HTMLInputElement).value)} />
          </label>
          <label>
            <span>Name agents see</span>
            <input name="display_name" value={values['@name'] ?? ''} onInput={(e) => set('@name', (e.target as HTMLInputElement).value)} />
          </label>
          {plugin.settings.map((s) => (
            <SettingField setting={s} value={values[s.name] ?? ''} onInput={(v) => set(s.name, v)} marksRequired />
          ))}
          <fieldset>
            <legend>Hosts it may reach</legend>
            {plugin.declared_hosts.map((h) => (
              <label class="check">
                <input type="checkbox" checked={hosts[h]} onChange={(e) => setHosts((x) => ({ ...x, [h]: (e.target as HTMLInputElement).checked }))} /> {h}
              </label>
            ))}
            <label>
              <span>Other hosts its settings point at (e.g. http://127.0.0.1:8081)</span>
              <input name="other_hosts" value={values['@hosts'] ?? ''} onInput={(e) => set('@hosts', (e.target as HTMLInputElement).value)} />
            </label>
          </fieldset>
          <button type="submit">Connect</button>
        </>
      )}
      {words && (
        <p class={words.ok ? 'muted' : 'error'} role={words.ok ? 'status' : 'alert'} data-connect-result>
          {words.text}
        </p>
      )}
    </form>
  );
}

/// A channel connected here: its name and its settings that are not secrets.
function Edit({ c, onDone }: { c: ChannelSummary; onDone: (updated: ChannelSummary) => void }) {
  const [name, setName] = useState(c.display_name);
  const [values, setValues] = useState<Record<string, string>>({ ...c.config });
  const [error, setError] = useState('');
  const save = async (e: Event) => {
    e.preventDefault();
    try {
      const config = Object.fromEntries(Object.entries(values).filter(([, v]) => v.trim() !== ''));
      onDone(await call(api.PATCH('/api/v1/channels/{id}', { params: { path: { id: c.id } }, body: { display_name: name, config } })));
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form class="reconnect" data-edit={c.id} onSubmit={save}>
      <label>
        <span>Name agents see</span>
        <input name="display_name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
      </label>
      {c.settings
        .filter((s) => !s.secret)
        .map((s) => (
          <SettingField setting={s} value={values[s.name] ?? ''} onInput={(v) => setValues((x) => ({ ...x, [s.name]: v }))} />
        ))}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit">Save</button>
    </form>
  );
}

/// One setting a plugin declares, as an input: a secret as a password field, the rest as text
/// with the plugin's default as the placeholder, the plugin's help beneath.
function SettingField(props: { setting: Schemas['Setting']; value: string; onInput: (v: string) => void; placeholder?: string; marksRequired?: boolean }) {
  const s = props.setting;
  return (
    <label>
      <span>
        {s.label}
        {props.marksRequired && s.required && !s.default ? ' (required)' : ''}
      </span>
      <input
        type={s.secret ? 'password' : 'text'}
        name={s.name}
        autocomplete="off"
        placeholder={props.placeholder ?? s.default ?? ''}
        value={props.value}
        onInput={(e) => props.onInput((e.target as HTMLInputElement).value)}
      />
      {s.help && <span class="muted">{s.help}</span>}
    </label>
  );
}

/** The channel's settings that are not secrets (a verify token to paste beside the webhook URL, ids), as set. */
function ChannelSettings({ c }: { c: ChannelSummary }) {
  const shown = c.settings.filter((s) => !s.secret && (c.config[s.name] ?? s.default));
  if (shown.length === 0) return null;
  return (
    <dl class="channel-settings muted">
      {shown.map((s) => (
        <div key={s.name} data-setting={s.name}>
          <dt>{s.label}</dt>
          <dd>{c.config[s.name] ?? s.default}</dd>
        </div>
      ))}
    </dl>
  );
}

/** Days without an agent's answer after which a channel is shown as inactive. */
const INACTIVE_DAYS = 30;

function ChannelHours({ id, value, onDone }: { id: string; value: Schemas['Schedule'] | undefined; onDone: (all: Record<string, Schemas['Schedule']>) => void }) {
  const [h, setH] = useState<Schemas['Schedule'] | null>(value ?? null);
  const [error, setError] = useState('');
  const save = async (e: Event) => {
    e.preventDefault();
    setError('');
    try {
      onDone(await call(api.PUT('/api/v1/channels/{id}/business-hours', { params: { path: { id } }, body: { business_hours: h } })));
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form class="team-form" aria-label="Channel hours" onSubmit={save}>
      <HoursEditor value={h} onChange={setH} label="This channel has its own business hours (over its team's)" />
      {error && <p class="error" role="alert">{error}</p>}
      <button class="primary" type="submit">Save hours</button>
    </form>
  );
}
