// Queues with live counts, the personal views, admin pages and the signed-in user.
import { useEffect, useState } from 'preact/hooks';
import { api, call, type QueueCounts, type User } from '../api/client';
import { subscribe } from '../live';
import { navigate, type Route } from '../route';
import { Availability } from './Availability';

export const VIEWS: [key: keyof QueueCounts, label: string][] = [
  ['new', 'New'],
  ['pending', 'Pending'],
  ['resolved', 'Resolved'],
  ['archived', 'Archived'],
  ['all', 'All'],
  ['mine', 'Assigned to me'],
  ['flagged', 'Flagged'],
];

export function Sidebar({ me, route, onSignOut }: { me: User; route: Route; onSignOut: () => void }) {
  const [counts, setCounts] = useState<QueueCounts | null>(null);

  useEffect(() => {
    let timers: number[] = [];
    const load = () => call(api.GET('/api/v1/counts')).then(setCounts, () => {});
    load();
    // Many events can arrive at once: count once they settle, and again once the search
    // index (which counts) has surely taken them in.
    const off = subscribe((e) => {
      if (e.type === 'ticket_created' || e.type === 'ticket_updated' || e.type === 'resync') {
        timers.forEach(clearTimeout);
        timers = [window.setTimeout(load, 300), window.setTimeout(load, 1500)];
      }
    });
    return () => {
      off();
      timers.forEach(clearTimeout);
    };
  }, []);

  const current = route.path === '/' ? route.params.get('view') ?? 'new' : null;
  const open = (view: string) => {
    const p = new URLSearchParams(route.path === '/' ? route.params : undefined);
    p.set('view', view);
    p.delete('ticket');
    navigate('/', p);
  };

  return (
    <nav class="sidebar" aria-label="Queues">
      <div class="brand">Helpdesk</div>
      <ul class="views">
        {VIEWS.map(([key, label]) => (
          <li key={key}>
            <a
              href={`/?view=${key}`}
              class={current === key ? 'active' : ''}
              aria-current={current === key ? 'page' : undefined}
              data-view={key}
              onClick={(e) => {
                e.preventDefault();
                open(key);
              }}
            >
              <span>{label}</span>
              <span class="count" data-count={key}>{counts ? counts[key] : ''}</span>
            </a>
          </li>
        ))}
      </ul>
      <ul class="views">
        <li>
          <a href="/saved-replies" class={route.path === '/saved-replies' ? 'active' : ''} onClick={(e) => (e.preventDefault(), navigate('/saved-replies'))}>
            Saved replies
          </a>
        </li>
        <li>
          <a href="/reports" class={route.path === '/reports' ? 'active' : ''} onClick={(e) => (e.preventDefault(), navigate('/reports'))}>
            Reports
          </a>
        </li>
      </ul>
      {me.role === 'admin' && (
        <ul class="views admin">
          <li>
            <a href="/admin/channels" class={route.path === '/admin/channels' ? 'active' : ''} onClick={(e) => (e.preventDefault(), navigate('/admin/channels'))}>
              Channels
            </a>
          </li>
          <li>
            <a href="/admin/users" class={route.path === '/admin/users' ? 'active' : ''} onClick={(e) => (e.preventDefault(), navigate('/admin/users'))}>
              Users
            </a>
          </li>
          <li>
            <a href="/admin/teams" class={route.path === '/admin/teams' ? 'active' : ''} onClick={(e) => (e.preventDefault(), navigate('/admin/teams'))}>
              Teams
            </a>
          </li>
          <li>
            <a href="/admin/rules" class={route.path === '/admin/rules' ? 'active' : ''} onClick={(e) => (e.preventDefault(), navigate('/admin/rules'))}>
              Rules
            </a>
          </li>
          <li>
            <a href="/admin/targets" class={route.path === '/admin/targets' ? 'active' : ''} onClick={(e) => (e.preventDefault(), navigate('/admin/targets'))}>
              Response targets
            </a>
          </li>
          <li>
            <a href="/admin/contact-attributes" class={route.path === '/admin/contact-attributes' ? 'active' : ''} onClick={(e) => (e.preventDefault(), navigate('/admin/contact-attributes'))}>
              Contact attributes
            </a>
          </li>
          <li>
            <a href="/admin/audit" class={route.path === '/admin/audit' ? 'active' : ''} onClick={(e) => (e.preventDefault(), navigate('/admin/audit'))}>
              Audit log
            </a>
          </li>
          <li>
            <a href="/admin/translation" class={route.path === '/admin/translation' ? 'active' : ''} onClick={(e) => (e.preventDefault(), navigate('/admin/translation'))}>
              Translation
            </a>
          </li>
          <li>
            <a href="/admin/email" class={route.path === '/admin/email' ? 'active' : ''} onClick={(e) => (e.preventDefault(), navigate('/admin/email'))}>
              Email
            </a>
          </li>
        </ul>
      )}
      <div class="me">
        <span class="who" title={me.email}>{me.name}</span>
        <Availability me={me} />
        <button class="link" onClick={onSignOut}>Sign out</button>
        <span class="hint">Press ? for shortcuts</span>
      </div>
    </nav>
  );
}
