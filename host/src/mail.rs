//! Mail transport: the IMAP reads and SMTP sends the host makes, for a plugin's `mail` import
//! or for the installation's own mail (consultations), only to servers the caller was granted
//! (`imaps://`, `imap://` with STARTTLS, `smtps://`, `smtp://` with STARTTLS), always over TLS,
//! with timeouts and size caps; IDLE to hear of new mail at once; parts by IMAP URL (RFC 5092).

use futures::TryStreamExt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// Who is using the transport: what they were granted and hold.
pub trait MailAccess: Send + Sync {
    /// Shown in logs.
    fn label(&self) -> &str;
    /// Whether `scheme://host:port` was granted.
    fn allowed(&self, scheme: &str, host: &str, port: u16) -> bool;
    /// Whether a server's name may resolve to `ip` (plugins: public addresses only).
    fn admits_address(&self, ip: std::net::IpAddr) -> bool;
    /// The password held under `name`.
    fn password(&self, name: &str) -> Option<String>;
    /// `text` without any secret in it.
    fn redact(&self, text: &str) -> String;
}

/// A mailbox's server, login and the name of the secret holding its password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub server: String,
    pub username: String,
    pub password_secret: String,
}

/// One message of a folder: its UID, size and bytes (empty when larger than handed over).
#[derive(Clone, Debug)]
pub struct Fetched {
    pub uid: u32,
    pub size: u64,
    pub raw: Vec<u8>,
}

/// The messages after a UID, within a page's limits.
#[derive(Clone, Debug)]
pub struct MailboxPage {
    pub uid_validity: u32,
    pub messages: Vec<Fetched>,
    pub more: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    #[error("not granted: {0}")]
    NotAllowed(String),
    #[error("refused the login: {0}")]
    Auth(String),
    #[error("connection failed: {0}")]
    Connection(String),
    #[error("the mail server took too long")]
    Timeout,
    #[error("the mail server refused: {0}")]
    Rejected(String),
    #[error("{0}")]
    Invalid(String),
}

/// The largest message handed to a plugin whole: a 20 MB attachment, base64-encoded, and more.
pub const MAX_MESSAGE_BYTES: u64 = 32 << 20;
/// What one `fetch` hands over at most (a larger message comes alone).
const MAX_PAGE_BYTES: u64 = 16 << 20;
const MAX_SEND_BYTES: usize = 40 << 20;
const MAX_RECIPIENTS: usize = 100;
const TIMEOUT: Duration = Duration::from_secs(30);
/// Room for a large message to arrive on a slow link.
const FETCH_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Security {
    /// TLS from the first byte (`imaps`, `smtps`).
    Tls,
    /// STARTTLS before anything else (`imap`, `smtp`); a server that does not offer it is refused.
    StartTls,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Imap,
    Smtp,
}

#[derive(Debug)]
struct Server {
    security: Security,
    host: String,
    port: u16,
}

/// Extra roots to trust for mail servers (a PEM file), beside the system's: a company's own CA,
/// or the test servers' certificate.
pub const CA_ENV: &str = "HELPDESK_MAIL_CA";

fn roots() -> Arc<rustls::RootCertStore> {
    let mut store = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = store.add(cert);
    }
    for cert in extra_roots() {
        let _ = store.add(cert.clone());
    }
    Arc::new(store)
}

static TRUSTED: OnceLock<std::path::PathBuf> = OnceLock::new();

/// Trust `pem` (a file of certificates) for mail servers too, as `HELPDESK_MAIL_CA` does: set
/// before the first mail connection (the demo's own servers).
pub fn trust_mail_ca(pem: std::path::PathBuf) {
    let _ = TRUSTED.set(pem);
}

/// Read once, at the first mail connection.
fn extra_roots() -> &'static [rustls::pki_types::CertificateDer<'static>] {
    use rustls::pki_types::pem::PemObject;
    static EXTRA: OnceLock<Vec<rustls::pki_types::CertificateDer<'static>>> = OnceLock::new();
    EXTRA.get_or_init(|| {
        let Some(path) = TRUSTED.get().map(|p| p.as_os_str().to_owned()).or_else(|| std::env::var_os(CA_ENV)) else { return Vec::new() };
        match rustls::pki_types::CertificateDer::pem_file_iter(&path) {
            Ok(certs) => certs.flatten().collect(),
            Err(e) => {
                tracing::warn!(path = %std::path::Path::new(&path).display(), "{CA_ENV} could not be read: {e}");
                Vec::new()
            }
        }
    })
}

/// One TLS configuration for every IMAP connection (the roots are read once).
fn tls_connector() -> tokio_rustls::TlsConnector {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    let config = CONFIG.get_or_init(|| {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default versions")
            .with_root_certificates(roots())
            .with_no_client_auth();
        Arc::new(config)
    });
    tokio_rustls::TlsConnector::from(config.clone())
}

/// `server` as granted to the channel, for `protocol`.
fn server(ch: &dyn MailAccess, url: &str, protocol: Protocol) -> Result<Server, MailError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| MailError::Invalid(format!("bad server `{url}`: {e}")))?;
    let (security, port) = match (protocol, parsed.scheme()) {
        (Protocol::Imap, "imaps") => (Security::Tls, 993),
        (Protocol::Imap, "imap") => (Security::StartTls, 143),
        (Protocol::Smtp, "smtps") => (Security::Tls, 465),
        (Protocol::Smtp, "smtp") => (Security::StartTls, 587),
        (Protocol::Imap, s) => return Err(MailError::Invalid(format!("`{s}://` is not an IMAP server (write imaps:// or imap://)"))),
        (Protocol::Smtp, s) => return Err(MailError::Invalid(format!("`{s}://` is not an SMTP server (write smtps:// or smtp://)"))),
    };
    let host = parsed.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_string();
    let port = parsed.port().unwrap_or(port);
    if !ch.allowed(parsed.scheme(), &host, port) {
        let shown = format!("{}://{host}:{port}", parsed.scheme());
        tracing::warn!(by = %ch.label(), server = %shown, "a mail server that was not granted");
        return Err(MailError::NotAllowed(shown));
    }
    Ok(Server { security, host, port })
}

fn password(ch: &dyn MailAccess, account: &Account) -> Result<String, MailError> {
    ch.password(&account.password_secret)
        .ok_or_else(|| MailError::Invalid(format!("there is no secret `{}` for {}'s password", account.password_secret, account.username)))
}

/// Where `server` is: for a plugin its name must resolve to public addresses unless the grant
/// names an IP itself (as for HTTP: no DNS rebinding onto loopback or the cloud's metadata).
async fn resolve(ch: &dyn MailAccess, server: &Server) -> Result<Vec<std::net::SocketAddr>, MailError> {
    if let Ok(ip) = server.host.parse::<std::net::IpAddr>() {
        return Ok(vec![(ip, server.port).into()]);
    }
    let all: Vec<_> = within(TIMEOUT, tokio::net::lookup_host((server.host.as_str(), server.port)))
        .await?
        .map_err(|e| MailError::Connection(format!("{} could not be resolved: {e}", server.host)))?
        .collect();
    let public: Vec<_> = all.iter().copied().filter(|a| ch.admits_address(a.ip())).collect();
    if public.is_empty() {
        return Err(MailError::NotAllowed(format!("{} resolves to a loopback, private or link-local address; grant that IP itself to reach it", server.host)));
    }
    Ok(public)
}

async fn connect(ch: &dyn MailAccess, server: &Server) -> Result<tokio::net::TcpStream, MailError> {
    let addrs = resolve(ch, server).await?;
    match tokio::time::timeout(TIMEOUT, tokio::net::TcpStream::connect(&addrs[..])).await {
        Err(_) => Err(MailError::Timeout),
        Ok(Err(e)) => Err(MailError::Connection(format!("{}:{}: {e}", server.host, server.port))),
        Ok(Ok(s)) => Ok(s),
    }
}

async fn tls<S: AsyncRead + AsyncWrite + Unpin>(server: &Server, stream: S) -> Result<tokio_rustls::client::TlsStream<S>, MailError> {
    let name = rustls::pki_types::ServerName::try_from(server.host.clone())
        .map_err(|_| MailError::Invalid(format!("`{}` is not a host name", server.host)))?;
    tls_connector()
        .connect(name, stream)
        .await
        .map_err(|e| MailError::Connection(format!("TLS with {}:{} failed: {e}", server.host, server.port)))
}

type ImapSession = async_imap::Session<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>;

async fn imap_session(ch: &dyn MailAccess, account: &Account) -> Result<ImapSession, MailError> {
    let server = server(ch, &account.server, Protocol::Imap)?;
    let password = password(ch, account)?;
    let tcp = connect(ch, &server).await?;
    let stream = match server.security {
        Security::Tls => tls(&server, tcp).await?,
        Security::StartTls => {
            let mut plain = async_imap::Client::new(tcp);
            greeting(&mut plain).await?;
            within(TIMEOUT, plain.run_command_and_check_ok("STARTTLS", None))
                .await?
                .map_err(|e| MailError::Connection(format!("{} refused STARTTLS ({e}); the password is never sent in the clear", server.host)))?;
            tls(&server, plain.into_inner()).await?
        }
    };
    let mut client = async_imap::Client::new(stream);
    if server.security == Security::Tls {
        greeting(&mut client).await?;
    }
    match within(TIMEOUT, client.login(&account.username, &password)).await? {
        Ok(session) => Ok(session),
        Err((e, _)) => Err(MailError::Auth(ch.redact(&format!("{} refused {}: {e}", server.host, account.username)))),
    }
}

async fn greeting<S: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send>(client: &mut async_imap::Client<S>) -> Result<(), MailError> {
    match within(TIMEOUT, client.read_response()).await? {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(MailError::Connection("the server closed the connection before greeting".into())),
        Err(e) => Err(MailError::Connection(format!("no greeting: {e}"))),
    }
}

async fn within<T>(limit: Duration, f: impl std::future::Future<Output = T>) -> Result<T, MailError> {
    tokio::time::timeout(limit, f).await.map_err(|_| MailError::Timeout)
}

fn imap_error(ch: &dyn MailAccess, what: &str, e: async_imap::error::Error) -> MailError {
    use async_imap::error::Error as E;
    match e {
        E::No(m) | E::Bad(m) => MailError::Rejected(format!("{what}: {m}")),
        e => MailError::Connection(ch.redact(&format!("{what}: {e}"))),
    }
}

/// The messages of `folder` after `after_uid` (all of them when its UIDVALIDITY is not
/// `uid_validity`), at most `limit` and a page's bytes.
pub async fn fetch(ch: &dyn MailAccess, account: Account, folder: String, uid_validity: Option<u32>, after_uid: u32, limit: u32) -> Result<MailboxPage, MailError> {
    let mut session = imap_session(ch, &account).await?;
    let page = fetch_in(ch, &mut session, &folder, uid_validity, after_uid, limit).await;
    let _ = within(Duration::from_secs(5), session.logout()).await;
    page
}

async fn fetch_in(ch: &dyn MailAccess, session: &mut ImapSession, folder: &str, uid_validity: Option<u32>, after_uid: u32, limit: u32) -> Result<MailboxPage, MailError> {
    let mailbox = within(TIMEOUT, session.examine(folder)).await?.map_err(|e| imap_error(ch, &format!("opening {folder}"), e))?;
    let validity = mailbox.uid_validity.unwrap_or(0);
    // Renumbered UIDs: everything is new again (the host skips what it stored already).
    let after = if uid_validity == Some(validity) { after_uid } else { 0 };
    if mailbox.exists == 0 {
        return Ok(MailboxPage { uid_validity: validity, messages: Vec::new(), more: false });
    }
    // Sizes first, so a page stays within what a plugin is handed.
    let sizes: Vec<(u32, u64)> = {
        let stream = within(TIMEOUT, session.uid_fetch(format!("{}:*", after + 1), "(UID RFC822.SIZE)"))
            .await?
            .map_err(|e| imap_error(ch, "listing messages", e))?;
        let all: Vec<_> = within(TIMEOUT, stream.try_collect::<Vec<_>>()).await?.map_err(|e| imap_error(ch, "listing messages", e))?;
        // `n:*` names the last message even when its UID is below n.
        let mut v: Vec<(u32, u64)> = all.iter().filter_map(|f| Some((f.uid?, f.size.unwrap_or(0) as u64))).filter(|(u, _)| *u > after).collect();
        v.sort();
        v
    };
    let limit = (limit.clamp(1, 500)) as usize;
    let mut chosen = Vec::new();
    let mut bytes = 0u64;
    for &(uid, size) in sizes.iter().take(limit) {
        let handed = if size > MAX_MESSAGE_BYTES { 0 } else { size };
        if !chosen.is_empty() && bytes + handed > MAX_PAGE_BYTES {
            break;
        }
        bytes += handed;
        chosen.push((uid, size));
    }
    let more = chosen.len() < sizes.len();
    let wanted: Vec<String> = chosen.iter().filter(|(_, s)| *s <= MAX_MESSAGE_BYTES).map(|(u, _)| u.to_string()).collect();
    let mut bodies = std::collections::HashMap::new();
    if !wanted.is_empty() {
        let stream = within(TIMEOUT, session.uid_fetch(wanted.join(","), "(UID BODY.PEEK[])"))
            .await?
            .map_err(|e| imap_error(ch, "fetching messages", e))?;
        let all: Vec<_> = within(FETCH_TIMEOUT, stream.try_collect::<Vec<_>>()).await?.map_err(|e| imap_error(ch, "fetching messages", e))?;
        for f in &all {
            if let (Some(uid), Some(body)) = (f.uid, f.body()) {
                bodies.insert(uid, body.to_vec());
            }
        }
    }
    let messages = chosen.into_iter().map(|(uid, size)| Fetched { uid, size, raw: bodies.remove(&uid).unwrap_or_default() }).collect();
    Ok(MailboxPage { uid_validity: validity, messages, more })
}

/// Log in to `account`'s IMAP server and open `folder`, reading nothing: how many messages it holds.
pub async fn check_imap(ch: &dyn MailAccess, account: &Account, folder: &str) -> Result<u32, MailError> {
    let mut session = imap_session(ch, account).await?;
    let opened = within(TIMEOUT, session.examine(folder)).await?.map_err(|e| imap_error(ch, &format!("opening {folder}"), e));
    let _ = within(Duration::from_secs(5), session.logout()).await;
    Ok(opened?.exists)
}

/// How an IDLE wait ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Woken {
    /// The server said something changed in the folder: fetch now.
    NewMail,
    /// Nothing happened within the wait.
    Quiet,
    /// The server has no IDLE: poll as before.
    Unsupported,
}

/// Wait up to `limit` for new mail in `folder` with IMAP IDLE (RFC 2177), one connection for
/// the wait; servers without IDLE answer at once.
pub async fn wait_for_new(ch: &dyn MailAccess, account: &Account, folder: &str, limit: Duration) -> Result<Woken, MailError> {
    let mut session = imap_session(ch, account).await?;
    let caps = within(TIMEOUT, session.capabilities()).await?.map_err(|e| imap_error(ch, "asking for capabilities", e))?;
    if !caps.has_str("IDLE") {
        let _ = within(Duration::from_secs(5), session.logout()).await;
        return Ok(Woken::Unsupported);
    }
    within(TIMEOUT, session.examine(folder)).await?.map_err(|e| imap_error(ch, &format!("opening {folder}"), e))?;
    let mut idle = session.idle();
    within(TIMEOUT, idle.init()).await?.map_err(|e| imap_error(ch, "starting IDLE", e))?;
    let (wait, _stop) = idle.wait_with_timeout(limit);
    let woken = match wait.await {
        Ok(async_imap::extensions::idle::IdleResponse::NewData(_)) => Woken::NewMail,
        Ok(_) => Woken::Quiet,
        Err(e) => return Err(imap_error(ch, "waiting in IDLE", e)),
    };
    if let Ok(Ok(mut session)) = within(Duration::from_secs(5), idle.done()).await {
        let _ = within(Duration::from_secs(5), session.logout()).await;
    }
    Ok(woken)
}

/// Send `raw` (a whole message) from `sender` to `recipients` (the envelope).
pub async fn send(ch: &dyn MailAccess, account: Account, sender: String, recipients: Vec<String>, raw: Vec<u8>) -> Result<(), MailError> {
    use lettre::AsyncTransport;
    if raw.len() > MAX_SEND_BYTES {
        return Err(MailError::Invalid(format!("a message of {} bytes (at most {MAX_SEND_BYTES})", raw.len())));
    }
    if recipients.is_empty() || recipients.len() > MAX_RECIPIENTS {
        return Err(MailError::Invalid(format!("{} recipients (1 to {MAX_RECIPIENTS})", recipients.len())));
    }
    let bad = |a: &str| MailError::Invalid(format!("`{a}` is not an email address"));
    let from: lettre::Address = sender.parse().map_err(|_| bad(&sender))?;
    let to = recipients.iter().map(|r| r.parse::<lettre::Address>().map_err(|_| bad(r))).collect::<Result<Vec<_>, _>>()?;
    let envelope = lettre::address::Envelope::new(Some(from), to).map_err(|e| MailError::Invalid(e.to_string()))?;
    let transport = smtp(ch, &account).await?;
    match within(FETCH_TIMEOUT, transport.send_raw(&envelope, &raw)).await? {
        Ok(_) => Ok(()),
        Err(e) => Err(smtp_error(ch, e)),
    }
}

fn smtp_error(ch: &dyn MailAccess, e: lettre::transport::smtp::Error) -> MailError {
    let text = ch.redact(&e.to_string());
    if e.is_permanent() {
        if text.contains("535") || text.to_ascii_lowercase().contains("authentication") { MailError::Auth(text) } else { MailError::Rejected(text) }
    } else if e.is_timeout() {
        MailError::Timeout
    } else {
        MailError::Connection(text)
    }
}

/// A transport to `account`'s SMTP server as granted: TLS (or STARTTLS, required) and AUTH.
async fn smtp(ch: &dyn MailAccess, account: &Account) -> Result<lettre::AsyncSmtpTransport<lettre::Tokio1Executor>, MailError> {
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::transport::smtp::client::{Tls, TlsParameters};
    let server = server(ch, &account.server, Protocol::Smtp)?;
    let password = password(ch, account)?;
    // Resolved and checked here, as for IMAP; lettre then dials the address we chose.
    let address = resolve(ch, &server).await?[0];
    let mut params = TlsParameters::builder(server.host.clone());
    for cert in extra_roots() {
        if let Ok(c) = lettre::transport::smtp::client::Certificate::from_der(cert.as_ref().to_vec()) {
            params = params.add_root_certificate(c);
        }
    }
    let params = params.build_rustls().map_err(|e| MailError::Invalid(format!("TLS for {}: {e}", server.host)))?;
    Ok(lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous(address.ip().to_string())
        .port(address.port())
        .tls(match server.security {
            Security::Tls => Tls::Wrapper(params),
            Security::StartTls => Tls::Required(params),
        })
        .credentials(Credentials::new(account.username.clone(), password))
        .timeout(Some(TIMEOUT))
        .build())
}

/// Connect and log in to `account`'s SMTP server, sending nothing.
pub async fn check_smtp(ch: &dyn MailAccess, account: &Account) -> Result<(), MailError> {
    let transport = smtp(ch, account).await?;
    match within(TIMEOUT, transport.test_connection()).await? {
        Ok(true) => Ok(()),
        Ok(false) => Err(MailError::Connection("the SMTP server did not answer".into())),
        Err(e) => Err(smtp_error(ch, e)),
    }
}

/// A part named by an IMAP URL (RFC 5092: `imaps://user@host:993/INBOX;UIDVALIDITY=v/;UID=u/;SECTION=2`).
#[derive(Debug, PartialEq)]
struct PartUrl {
    server: String,
    username: String,
    folder: String,
    uid_validity: u32,
    uid: u32,
    section: String,
}

fn part_url(url: &str) -> Option<PartUrl> {
    let parsed = reqwest::Url::parse(url).ok()?;
    let username = percent_decode(parsed.username());
    let server = format!("{}://{}:{}", parsed.scheme(), parsed.host_str()?, parsed.port_or_known_default().or(match parsed.scheme() {
        "imaps" => Some(993),
        "imap" => Some(143),
        _ => None,
    })?);
    let path = parsed.path().trim_start_matches('/');
    let mut pieces = path.split('/');
    let (folder, validity) = pieces.next()?.split_once(";UIDVALIDITY=")?;
    let uid = pieces.next()?.strip_prefix(";UID=")?;
    let section = pieces.next()?.strip_prefix(";SECTION=")?;
    if !section.chars().all(|c| c.is_ascii_digit() || c == '.') || section.is_empty() {
        return None;
    }
    Some(PartUrl { server, username, folder: percent_decode(folder), uid_validity: validity.parse().ok()?, uid: uid.parse().ok()?, section: section.into() })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether `url` is for the mail path rather than HTTP.
pub fn is_mail_url(url: &str) -> bool {
    url.starts_with("imaps://") || url.starts_with("imap://")
}

/// The part, or `None` when it is larger than `max`.
pub async fn fetch_part(ch: &dyn MailAccess, url: &str, headers: &[(String, String)], max: usize) -> Result<Option<(Option<String>, Vec<u8>)>, MailError> {
    let part = part_url(url).ok_or_else(|| MailError::Invalid("the attachment's IMAP URL is unreadable".into()))?;
    let secret = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("password-secret"))
        .map(|(_, v)| v.clone())
        .ok_or_else(|| MailError::Invalid("the attachment's download names no `password-secret`".into()))?;
    let account = Account { server: part.server.clone(), username: part.username.clone(), password_secret: secret };
    let mut session = imap_session(ch, &account).await?;
    let got = async {
        let mailbox = within(TIMEOUT, session.examine(&part.folder)).await?.map_err(|e| imap_error(ch, "opening the folder", e))?;
        if mailbox.uid_validity != Some(part.uid_validity) {
            return Err(MailError::Rejected("the mailbox was renumbered since; the message is no longer where it was".into()));
        }
        let query = format!("(UID BODY.PEEK[{s}.MIME] BODY.PEEK[{s}])", s = part.section);
        let stream = within(TIMEOUT, session.uid_fetch(part.uid.to_string(), query)).await?.map_err(|e| imap_error(ch, "fetching the part", e))?;
        let all: Vec<_> = within(FETCH_TIMEOUT, stream.try_collect::<Vec<_>>()).await?.map_err(|e| imap_error(ch, "fetching the part", e))?;
        let f = all.iter().find(|f| f.uid == Some(part.uid)).ok_or_else(|| MailError::Rejected("the message is no longer in the mailbox".into()))?;
        let numbers: Vec<u32> = part.section.split('.').filter_map(|n| n.parse().ok()).collect();
        use async_imap::imap_proto::{MessageSection, SectionPath};
        let mime = f.section(&SectionPath::Part(numbers.clone(), Some(MessageSection::Mime))).unwrap_or_default();
        let body = f.section(&SectionPath::Part(numbers, None)).ok_or_else(|| MailError::Rejected("the server has no such part".into()))?;
        if body.len() > max * 2 {
            return Ok(None);
        }
        let (content_type, encoding) = part_headers(mime);
        let bytes = decode(&encoding, body);
        Ok((bytes.len() <= max).then_some((content_type, bytes)))
    }
    .await;
    let _ = within(Duration::from_secs(5), session.logout()).await;
    got
}

/// A part's `Content-Type` (without parameters) and `Content-Transfer-Encoding`.
fn part_headers(mime: &[u8]) -> (Option<String>, String) {
    let text = String::from_utf8_lossy(mime);
    // Folded header lines continue with whitespace.
    let unfolded = text.replace("\r\n ", " ").replace("\r\n\t", " ").replace("\n ", " ");
    let mut content_type = None;
    let mut encoding = String::from("7bit");
    for line in unfolded.lines() {
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-type" => content_type = value.split(';').next().map(|v| v.trim().to_ascii_lowercase()),
                "content-transfer-encoding" => encoding = value.trim().to_ascii_lowercase(),
                _ => {}
            }
        }
    }
    (content_type, encoding)
}

fn decode(encoding: &str, body: &[u8]) -> Vec<u8> {
    use base64::Engine;
    match encoding {
        "base64" => {
            let clean: Vec<u8> = body.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
            base64::engine::general_purpose::STANDARD.decode(&clean).or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(&clean)).unwrap_or_else(|_| body.to_vec())
        }
        "quoted-printable" => quoted_printable::decode(body, quoted_printable::ParseMode::Robust).unwrap_or_else(|_| body.to_vec()),
        _ => body.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attachments_imap_url_names_its_server_folder_message_and_part() {
        let p = part_url("imaps://support%40shop.test@127.0.0.1:10993/INBOX;UIDVALIDITY=7/;UID=42/;SECTION=1.2").unwrap();
        assert_eq!(p, PartUrl { server: "imaps://127.0.0.1:10993".into(), username: "support@shop.test".into(), folder: "INBOX".into(), uid_validity: 7, uid: 42, section: "1.2".into() });
        assert!(part_url("imaps://h/INBOX;UIDVALIDITY=7/;UID=42/;SECTION=1;DROP").is_none());
        assert!(part_url("imaps://h/INBOX/;UID=42").is_none());
    }

    #[test]
    fn a_part_is_decoded_from_its_transfer_encoding() {
        let (ty, enc) = part_headers(b"Content-Type: image/png;\r\n name=\"a.png\"\r\nContent-Transfer-Encoding: BASE64\r\n\r\n");
        assert_eq!((ty.as_deref(), enc.as_str()), (Some("image/png"), "base64"));
        assert_eq!(decode("base64", b"aGVs\r\nbG8=\r\n"), b"hello");
        assert_eq!(decode("quoted-printable", b"caf=C3=A9 =\r\nnoir"), "café noir".as_bytes());
        assert_eq!(decode("8bit", b"as is"), b"as is");
    }
}
