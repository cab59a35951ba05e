import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, call, whenSignedOut, type User } from './api/client';
import { connect, disconnect } from './live';
import { navigate, useRoute } from './route';
import { SignIn } from './pages/SignIn';
import { AcceptInvitation } from './pages/AcceptInvitation';
import { Inbox } from './pages/Inbox';
import { Channels } from './pages/Channels';
import { Users } from './pages/Users';
import { Teams } from './pages/Teams';
import { Rules } from './pages/Rules';
import { SavedRepliesPage } from './pages/SavedRepliesPage';
import { Reports } from './pages/Reports';
import { Targets } from './pages/Targets';
import { Audit } from './pages/Audit';
import { Translation } from './pages/Translation';
import { MailSettings } from './pages/MailSettings';
import { ContactPage } from './pages/ContactPage';
import { ContactAttributesAdmin } from './pages/ContactAttributesAdmin';
import { Sidebar } from './components/Sidebar';
import './style.css';

function App() {
  const route = useRoute();
  const [me, setMe] = useState<User | null | undefined>(undefined);

  useEffect(() => {
    whenSignedOut(() => setMe(null));
    call(api.GET('/api/v1/me')).then(setMe, () => setMe(null));
  }, []);

  useEffect(() => {
    if (!me) return;
    connect();
    return disconnect;
  }, [me?.id]);

  if (me === undefined) return <div class="loading">Loading…</div>;
  if (route.path === '/invite') return <AcceptInvitation onSignedIn={setMe} />;
  if (me === null) return <SignIn onSignedIn={setMe} />;

  const signOut = async () => {
    await api.DELETE('/api/v1/session');
    setMe(null);
    navigate('/');
  };

  let page;
  if (route.path === '/admin/channels' && me.role === 'admin') page = <Channels />;
  else if (route.path === '/admin/users' && me.role === 'admin') page = <Users me={me} />;
  else if (route.path === '/admin/teams' && me.role === 'admin') page = <Teams />;
  else if (route.path === '/admin/rules' && me.role === 'admin') page = <Rules />;
  else if (route.path === '/admin/targets' && me.role === 'admin') page = <Targets />;
  else if (route.path === '/admin/audit' && me.role === 'admin') page = <Audit route={route} />;
  else if (route.path === '/admin/translation' && me.role === 'admin') page = <Translation />;
  else if (route.path === '/admin/email' && me.role === 'admin') page = <MailSettings />;
  else if (route.path === '/admin/contact-attributes' && me.role === 'admin') page = <ContactAttributesAdmin />;
  else if (route.path.startsWith('/contacts/')) page = <ContactPage id={decodeURIComponent(route.path.slice('/contacts/'.length))} me={me} />;
  else if (route.path === '/saved-replies') page = <SavedRepliesPage me={me} />;
  else if (route.path === '/reports') page = <Reports me={me} route={route} />;
  else page = <Inbox me={me} route={route} />;

  return (
    <div class="app">
      <Sidebar me={me} route={route} onSignOut={signOut} />
      {page}
    </div>
  );
}

render(<App />, document.getElementById('app')!);
