//! A fake host for `cargo test`: the config, secrets, kv, clock and HTTP answers a test sets
//! up, and a record of what the plugin sent. Built for the machine running the tests (not for
//! wasm), the SDK's helpers call this instead of the host, so a plugin's logic runs natively:
//!
//! ```
//! use helpdesk_plugin_sdk::prelude::*;
//! use helpdesk_plugin_sdk::testing::{Fake, Reply};
//!
//! let fake = Fake::new()
//!     .config("base_url", "https://api.example")
//!     .secret("token", "t0ken")
//!     .on("GET", "https://api.example/me", Reply::json(200, serde_json::json!({"name": "acme"})));
//! let me: serde_json::Value = Request::get("https://api.example/me").bearer(&require_secret("token").unwrap()).send().unwrap().json().unwrap();
//! assert_eq!(me["name"], "acme");
//! assert_eq!(fake.requests()[0].header("authorization"), Some("Bearer t0ken"));
//! ```
//!
//! One `Fake` per test (it belongs to the test's thread); dropping it uninstalls it.

use crate::http::{Response, SendError};
use crate::{HttpRequest, Level};
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

/// What the fake answers to a request.
#[derive(Clone, Debug)]
pub enum Reply {
    Response(Response),
    /// The host's own failures: a timeout, a refused connection.
    Fail(SendError),
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply::Response(Response { status, headers: vec![("content-type".into(), "application/json".into())], body: body.to_string().into_bytes() })
    }
    pub fn text(status: u16, body: &str) -> Reply {
        Reply::Response(Response { status, headers: vec![("content-type".into(), "text/plain".into())], body: body.as_bytes().to_vec() })
    }
    pub fn status(status: u16) -> Reply {
        Reply::Response(Response { status, headers: Vec::new(), body: Vec::new() })
    }
    pub fn timeout() -> Reply {
        Reply::Fail(SendError::Timeout)
    }
    /// The same answer with a header added.
    pub fn header(self, name: &str, value: &str) -> Reply {
        match self {
            Reply::Response(mut r) => {
                r.headers.push((name.into(), value.into()));
                Reply::Response(r)
            }
            other => other,
        }
    }
}

#[derive(Default)]
struct State {
    config: BTreeMap<String, String>,
    secrets: BTreeMap<String, String>,
    kv: BTreeMap<String, Vec<u8>>,
    kv_broken: bool,
    now: Option<i64>,
    /// (method, URL or prefix ending in `*`) → answers in order; the last one repeats.
    routes: Vec<(String, String, VecDeque<Reply>)>,
    granted: Option<Vec<String>>,
    requests: Vec<HttpRequest>,
    logs: Vec<(Level, String)>,
    /// The mailbox `mail::fetch` reads: (UIDVALIDITY, messages by UID).
    mailbox: (u32, BTreeMap<u32, Vec<u8>>),
    /// What `mail::send` sent: (sender, recipients, message).
    sent_mail: Vec<(String, Vec<String>, Vec<u8>)>,
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<RefCell<State>>>> = const { RefCell::new(None) };
}

/// The fake host of one test.
pub struct Fake {
    state: Rc<RefCell<State>>,
}

impl Default for Fake {
    fn default() -> Self {
        Self::new()
    }
}

impl Fake {
    /// Install an empty fake host for this thread.
    pub fn new() -> Fake {
        let state = Rc::new(RefCell::new(State::default()));
        CURRENT.with(|c| *c.borrow_mut() = Some(state.clone()));
        Fake { state }
    }
    pub fn config(self, key: &str, value: &str) -> Fake {
        self.state.borrow_mut().config.insert(key.into(), value.into());
        self
    }
    pub fn secret(self, name: &str, value: &str) -> Fake {
        self.state.borrow_mut().secrets.insert(name.into(), value.into());
        self
    }
    /// The clock `time::now_ms` reads.
    pub fn now(self, ms: i64) -> Fake {
        self.set_now(ms);
        self
    }
    pub fn set_now(&self, ms: i64) {
        self.state.borrow_mut().now = Some(ms);
    }
    /// Answer `method url` (a `*` at the end matches any rest) with `reply`; several answers
    /// to the same request are given in order, the last one again and again.
    pub fn on(self, method: &str, url: &str, reply: Reply) -> Fake {
        self.answer(method, url, reply);
        self
    }
    pub fn answer(&self, method: &str, url: &str, reply: Reply) {
        let mut s = self.state.borrow_mut();
        match s.routes.iter_mut().find(|(m, u, _)| m.eq_ignore_ascii_case(method) && u == url) {
            Some((_, _, replies)) => replies.push_back(reply),
            None => s.routes.push((method.into(), url.into(), VecDeque::from([reply]))),
        }
    }
    /// Only these hosts (`https://api.example`, as in `allowed_hosts`) are reachable, as the
    /// host enforces; by default every host is.
    pub fn granted(self, hosts: &[&str]) -> Fake {
        self.state.borrow_mut().granted = Some(hosts.iter().map(|h| h.trim_end_matches('/').to_string()).collect());
        self
    }
    /// A stored kv value.
    pub fn kv(&self, key: &str) -> Option<Vec<u8>> {
        self.state.borrow().kv.get(key).cloned()
    }
    pub fn put_kv(self, key: &str, value: &[u8]) -> Fake {
        self.state.borrow_mut().kv.insert(key.into(), value.to_vec());
        self
    }
    /// Make `kv.get` fail, as a host whose store is down.
    pub fn break_kv(&self, broken: bool) {
        self.state.borrow_mut().kv_broken = broken;
    }
    /// Every request the plugin sent, in order.
    pub fn requests(&self) -> Vec<HttpRequest> {
        self.state.borrow().requests.clone()
    }
    pub fn logs(&self) -> Vec<(Level, String)> {
        self.state.borrow().logs.clone()
    }
    /// A message in the mailbox `mail::fetch` reads (UIDVALIDITY 1 unless renumbered).
    pub fn deliver(&self, uid: u32, raw: &[u8]) {
        let mut s = self.state.borrow_mut();
        if s.mailbox.0 == 0 {
            s.mailbox.0 = 1;
        }
        s.mailbox.1.insert(uid, raw.to_vec());
    }
    /// Renumber the mailbox (a new UIDVALIDITY).
    pub fn renumber(&self, uid_validity: u32) {
        self.state.borrow_mut().mailbox.0 = uid_validity;
    }
    /// Every message the plugin sent: (sender, recipients, message).
    pub fn sent_mail(&self) -> Vec<(String, Vec<String>, Vec<u8>)> {
        self.state.borrow().sent_mail.clone()
    }
}

/// `mail` under `cargo test`.
pub(crate) mod mail_imports {
    use super::*;
    use crate::mail::{Account, Fetched, MailError, MailboxPage};

    pub fn fetch(_account: &Account, _folder: &str, uid_validity: Option<u32>, after_uid: u32, limit: u32) -> Result<MailboxPage, MailError> {
        imports::with(|s| {
            let validity = s.mailbox.0.max(1);
            let after = if uid_validity == Some(validity) { after_uid } else { 0 };
            let all: Vec<_> = s.mailbox.1.range(after + 1..).collect();
            let messages: Vec<Fetched> =
                all.iter().take(limit as usize).map(|(uid, raw)| Fetched { uid: **uid, size: raw.len() as u64, raw: raw.to_vec() }).collect();
            Ok(MailboxPage { uid_validity: validity, more: all.len() > messages.len(), messages })
        })
    }
    pub fn send(_account: &Account, sender: &str, recipients: &[String], raw: &[u8]) -> Result<(), MailError> {
        imports::with(|s| s.sent_mail.push((sender.into(), recipients.to_vec(), raw.to_vec())));
        Ok(())
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        CURRENT.with(|c| {
            let mut c = c.borrow_mut();
            if c.as_ref().is_some_and(|s| Rc::ptr_eq(s, &self.state)) {
                *c = None;
            }
        });
    }
}

/// The SDK's helpers under `cargo test`.
pub(crate) mod imports {
    use super::*;

    pub(super) fn with<T>(f: impl FnOnce(&mut State) -> T) -> T {
        CURRENT.with(|c| {
            let c = c.borrow();
            let state = c.as_ref().expect("no helpdesk_plugin_sdk::testing::Fake in this test: create one first (Fake::new())");
            f(&mut state.borrow_mut())
        })
    }

    pub fn config(key: &str) -> Option<String> {
        with(|s| s.config.get(key).cloned())
    }
    pub fn secret(name: &str) -> Option<String> {
        with(|s| s.secrets.get(name).cloned())
    }
    pub fn kv_get(key: &str) -> Result<Option<Vec<u8>>, String> {
        with(|s| if s.kv_broken { Err("the store is unavailable (testing::Fake::break_kv)".into()) } else { Ok(s.kv.get(key).cloned()) })
    }
    pub fn kv_set(key: &str, value: &[u8]) -> Result<(), String> {
        if key.is_empty() || key.len() > 256 || value.len() > 64 << 10 {
            return Err(format!("refused by the quotas: a key of 1 to 256 bytes, a value of at most 64 KiB (got {} and {})", key.len(), value.len()));
        }
        with(|s| {
            s.kv.insert(key.into(), value.to_vec());
            Ok(())
        })
    }
    pub fn kv_delete(key: &str) {
        with(|s| {
            s.kv.remove(key);
        })
    }
    pub fn log(level: Level, message: &str) {
        with(|s| s.logs.push((level, message.into())))
    }
    pub fn now_ms() -> Option<i64> {
        CURRENT.with(|c| c.borrow().as_ref().and_then(|s| s.borrow().now))
    }
    pub fn send(req: &HttpRequest, _timeout_ms: Option<u32>) -> Result<Response, SendError> {
        with(|s| {
            s.requests.push(req.clone());
            if let Some(granted) = &s.granted {
                let origin = origin(&req.url);
                if !granted.iter().any(|g| *g == origin) {
                    return Err(SendError::NotAllowed(origin));
                }
            }
            let route = s.routes.iter_mut().find(|(m, u, _)| {
                m.eq_ignore_ascii_case(&req.method) && (*u == req.url || u.strip_suffix('*').is_some_and(|p| req.url.starts_with(p)))
            });
            let Some((_, _, replies)) = route else {
                return Err(SendError::Connection(format!("the test set no answer for {} {}", req.method, req.url)));
            };
            let reply = if replies.len() > 1 { replies.pop_front() } else { replies.front().cloned() };
            match reply.expect("a route has an answer") {
                Reply::Response(r) => Ok(r),
                Reply::Fail(e) => Err(e),
            }
        })
    }

    /// `scheme://host[:port]` of a URL.
    fn origin(url: &str) -> String {
        let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        format!("{scheme}://{host}")
    }
}
