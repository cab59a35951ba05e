//! Consult by email: from a ticket, an agent writes to someone outside the helpdesk (a lawyer,
//! the warehouse) quoting what they chose of the conversation; the answer comes back to the
//! installation's mailbox, is matched to its consultation by a signed token, and lands in the
//! ticket as an internal note from that person, never sent to the customer. The installation's
//! mail settings (an admin's: SMTP out, IMAP in, the password sealed) serve this and digests.

pub mod digest;
pub mod letter;

use crate::inbox::{Inbox, InboxError};
use crate::mail::{self, Account, MailAccess, MailError};
use crate::model::{now_ms, stable_id, Millis, Note};
use crate::store::{Store, StoreError};
use crate::sync::vault::{SealedSecret, Vault, VaultError};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use utoipa::ToSchema;

/// The installation's mail, as everyone may see it (the password never).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct MailSettings {
    /// The installation's address (`consult@shop.test`): mail is sent from it and answers come
    /// back to it (as `consult+<token>@shop.test`). A mailbox of its own, not a channel's.
    pub address: String,
    /// The name mail is sent under (`Shop support`).
    pub display_name: String,
    /// `smtps://mail.example.com:465` (TLS) or `smtp://mail.example.com:587` (STARTTLS).
    pub smtp_server: String,
    /// `imaps://mail.example.com:993` (TLS) or `imap://mail.example.com:143` (STARTTLS).
    pub imap_server: String,
    /// The login for both (the address when not set).
    pub username: String,
    pub folder: String,
    /// How often the mailbox is read when its server has no IDLE.
    pub poll_seconds: u32,
    /// How often an away agent who asked for digests gets one (minutes).
    #[serde(default = "hourly")]
    #[schema(required = true)]
    pub digest_minutes: u32,
    #[serde(default)]
    #[schema(required = true)]
    pub password_set: bool,
}

/// What an admin sets.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MailInput {
    pub address: String,
    #[serde(default)]
    pub display_name: Option<String>,
    pub smtp_server: String,
    pub imap_server: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub folder: Option<String>,
    #[serde(default)]
    pub poll_seconds: Option<u32>,
    #[serde(default)]
    pub digest_minutes: Option<u32>,
    /// A new password; absent keeps the stored one.
    #[serde(default)]
    pub password: Option<String>,
}

/// How reading the mailbox goes, for the admin page.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct MailStatus {
    /// The last time the mailbox was read without a failure.
    pub read_at: Option<Millis>,
    /// The last failure, while it lasts.
    pub error: Option<String>,
}

/// The settings with how reading the mailbox goes.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MailView {
    pub settings: Option<MailSettings>,
    pub status: MailStatus,
}

/// A question sent outside from a ticket, and its answers.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Consultation {
    pub id: String,
    pub ticket_id: String,
    pub subject: String,
    /// Who is written to: those consulted, and whoever answered since.
    pub participants: Vec<String>,
    /// The agent who asked (user id and name).
    pub started_by: String,
    pub started_by_name: String,
    pub created_at: Millis,
    pub last_at: Millis,
    pub answers: u32,
    /// The address answers go to (`consult+<token>@…`).
    pub reply_address: String,
    /// The emails' Message-IDs, oldest first: the next one references them.
    pub message_ids: Vec<String>,
}

impl Consultation {
    /// Another email of the consultation, for the next one's `References`: the first and the
    /// newest 20 are kept (RFC 5322 allows trimming the middle).
    fn remember(&mut self, message_id: String) {
        self.message_ids.push(message_id);
        let extra = self.message_ids.len().saturating_sub(21);
        self.message_ids.drain(1..1 + extra);
    }
}

/// What an agent sends.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartConsultation {
    /// One or more outside addresses.
    pub to: Vec<String>,
    /// The question, above the quoted messages.
    pub note: String,
    /// The messages to quote (ids); none or absent: the whole conversation.
    #[serde(default)]
    pub messages: Option<Vec<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConsultError {
    #[error("no outgoing mail is configured: an admin sets it under Settings → Email")]
    NotConfigured,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("the mail server: {0}")]
    Mail(MailError),
    #[error(transparent)]
    Inbox(#[from] InboxError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Accounts(#[from] crate::accounts::AccountError),
}

fn hourly() -> u32 {
    60
}

const SETTINGS_ID: &str = "mail";
const CURSOR_ID: &str = "mail_cursor";
/// The vault's scopes: no channel id has a colon.
const PASSWORD_SCOPE: &str = ":mail";
const KEY_SCOPE: &str = ":mail-token";
const PASSWORD: &str = "password";
const MAX_RECIPIENTS: usize = 20;
/// Of a long conversation, the newest messages quoted when "the whole thread" is asked.
const MAX_QUOTED: usize = 50;
const MAX_NOTE_CHARS: usize = 10_000;
const PAGE: u32 = 50;

/// The installation's mail servers as the transport sees them: exactly the two configured,
/// on whatever address they resolve to (an admin's own servers may be on a private network).
struct Installation {
    settings: MailSettings,
    password: String,
}

impl MailAccess for Installation {
    fn label(&self) -> &str {
        "installation mail"
    }
    fn allowed(&self, scheme: &str, host: &str, port: u16) -> bool {
        [&self.settings.smtp_server, &self.settings.imap_server].iter().any(|s| {
            reqwest::Url::parse(s).is_ok_and(|u| {
                u.scheme() == scheme && u.host_str().map(|h| h.trim_start_matches('[').trim_end_matches(']')) == Some(host) && u.port().unwrap_or_else(|| default_port(scheme)) == port
            })
        })
    }
    fn admits_address(&self, _: std::net::IpAddr) -> bool {
        true
    }
    fn password(&self, name: &str) -> Option<String> {
        (name == PASSWORD).then(|| self.password.clone())
    }
    fn redact(&self, text: &str) -> String {
        if self.password.len() >= 4 { text.replace(&self.password, "[secret]") } else { text.to_string() }
    }
}

fn default_port(scheme: &str) -> u16 {
    match scheme {
        "imaps" => 993,
        "imap" => 143,
        "smtps" => 465,
        _ => 587,
    }
}

impl Installation {
    fn account(&self, server: &str) -> Account {
        Account { server: server.to_string(), username: self.settings.username.clone(), password_secret: PASSWORD.into() }
    }
}

fn is_address(a: &str) -> bool {
    a.parse::<lettre::Address>().is_ok()
}

fn check_server(url: &str, schemes: [&str; 2]) -> Result<String, ConsultError> {
    let u = reqwest::Url::parse(url.trim()).map_err(|_| ConsultError::BadRequest(format!("`{url}` is not a server URL ({}://mail.example.com)", schemes[0])))?;
    if !schemes.contains(&u.scheme()) || u.host_str().is_none() || !u.username().is_empty() || !matches!(u.path(), "" | "/") || u.query().is_some() {
        return Err(ConsultError::BadRequest(format!("`{url}` is {}://host[:port] or {}://host[:port]", schemes[0], schemes[1])));
    }
    Ok(format!("{}://{}:{}", u.scheme(), u.host_str().unwrap_or_default(), u.port().unwrap_or_else(|| default_port(u.scheme()))))
}

#[derive(Serialize, Deserialize, Default, Clone, Copy)]
struct Cursor {
    validity: Option<u32>,
    uid: u32,
}

pub struct Consultations {
    inbox: Arc<Inbox>,
    vault: Vault,
    status: Mutex<MailStatus>,
    /// Settings changed: read the mailbox again now.
    changed: tokio::sync::Notify,
    /// The key tokens are signed with, once read or made.
    key: tokio::sync::OnceCell<Vec<u8>>,
}

impl Consultations {
    /// The service, with its reader of the mailbox and its sender of digests running for as
    /// long as the server does.
    pub fn spawn(inbox: Arc<Inbox>, vault: Vault, accounts: crate::accounts::Accounts, public_origin: Option<String>) -> Arc<Self> {
        let me = Arc::new(Consultations { inbox, vault, status: Mutex::default(), changed: tokio::sync::Notify::new(), key: tokio::sync::OnceCell::new() });
        tokio::spawn(read_mailbox(Arc::downgrade(&me)));
        tokio::spawn(send_digests(Arc::downgrade(&me), accounts, public_origin));
        me
    }

    fn store(&self) -> &Store {
        self.inbox.store()
    }

    pub async fn settings(&self) -> Result<Option<MailSettings>, ConsultError> {
        Ok(self.store().get::<MailSettings>("settings", SETTINGS_ID).await?)
    }

    pub async fn view(&self) -> Result<MailView, ConsultError> {
        Ok(MailView { settings: self.settings().await?, status: self.status.lock().expect("not poisoned").clone() })
    }

    /// Check and keep an admin's settings (the password sealed apart).
    pub async fn configure(&self, input: MailInput) -> Result<MailSettings, ConsultError> {
        let address = input.address.trim().to_ascii_lowercase();
        if !is_address(&address) {
            return Err(ConsultError::BadRequest(format!("`{}` is not an email address", input.address)));
        }
        let smtp_server = check_server(&input.smtp_server, ["smtps", "smtp"])?;
        let imap_server = check_server(&input.imap_server, ["imaps", "imap"])?;
        let poll_seconds = input.poll_seconds.unwrap_or(30);
        if !(5..=3600).contains(&poll_seconds) {
            return Err(ConsultError::BadRequest("poll_seconds is 5 to 3600".into()));
        }
        let digest_minutes = input.digest_minutes.unwrap_or(60);
        if !(5..=10_080).contains(&digest_minutes) {
            return Err(ConsultError::BadRequest("digest_minutes is 5 to 10080 (a week)".into()));
        }
        let has_password = self.store().get::<SealedSecret>("channel_secret", PASSWORD_SCOPE).await?.is_some();
        match input.password.as_deref() {
            Some(p) if !p.is_empty() => {
                let sealed = SealedSecret { channel: PASSWORD_SCOPE.into(), name: PASSWORD.into(), sealed: self.vault.seal(PASSWORD_SCOPE, PASSWORD, p)?, updated_at: now_ms() };
                self.store().put("channel_secret", PASSWORD_SCOPE, &sealed).await?;
            }
            _ if has_password => {}
            _ => return Err(ConsultError::BadRequest("the mailbox's password is needed".into())),
        }
        self.token_key().await?;
        let text = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let settings = MailSettings {
            display_name: text(input.display_name).unwrap_or_else(|| "Support".into()),
            username: text(input.username).unwrap_or_else(|| address.clone()),
            folder: text(input.folder).unwrap_or_else(|| "INBOX".into()),
            address,
            smtp_server,
            imap_server,
            poll_seconds,
            digest_minutes,
            password_set: true,
        };
        let before = self.settings().await?;
        self.store().put("settings", SETTINGS_ID, &settings).await?;
        if before.is_none_or(|b| b.imap_server != settings.imap_server || b.username != settings.username || b.folder != settings.folder) {
            // Another mailbox: its UIDs mean nothing to the old cursor.
            self.store().delete("settings", CURSOR_ID).await?;
        }
        *self.status.lock().expect("not poisoned") = MailStatus::default();
        self.changed.notify_one();
        Ok(settings)
    }

    /// The key tokens are signed with: made once, sealed like a secret, read once per process.
    async fn token_key(&self) -> Result<&[u8], ConsultError> {
        let key = self
            .key
            .get_or_try_init(|| async {
                let hex_key = match self.store().get::<SealedSecret>("channel_secret", KEY_SCOPE).await? {
                    Some(s) => self.vault.open(&s)?,
                    None => {
                        use chacha20poly1305::aead::rand_core::RngCore;
                        let mut bytes = [0u8; 32];
                        chacha20poly1305::aead::OsRng.fill_bytes(&mut bytes);
                        let key = hex::encode(bytes);
                        let sealed = SealedSecret { channel: KEY_SCOPE.into(), name: "key".into(), sealed: self.vault.seal(KEY_SCOPE, "key", &key)?, updated_at: now_ms() };
                        self.store().put("channel_secret", KEY_SCOPE, &sealed).await?;
                        key
                    }
                };
                match hex::decode(hex_key) {
                    Ok(k) if k.len() == 32 => Ok(k),
                    _ => Err(ConsultError::Vault(VaultError::WrongKey("the consultations' signing key".into()))),
                }
            })
            .await?;
        Ok(key)
    }

    async fn installation(&self) -> Result<Installation, ConsultError> {
        let settings = self.settings().await?.ok_or(ConsultError::NotConfigured)?;
        let sealed = self.store().get::<SealedSecret>("channel_secret", PASSWORD_SCOPE).await?.ok_or(ConsultError::NotConfigured)?;
        Ok(Installation { password: self.vault.open(&sealed)?, settings })
    }

    /// Log in to both servers: what an admin tries after saving.
    pub async fn check(&self) -> Result<String, ConsultError> {
        let inst = self.installation().await?;
        let s = &inst.settings;
        let held = mail::check_imap(&inst, &inst.account(&s.imap_server), &s.folder).await.map_err(ConsultError::Mail)?;
        mail::check_smtp(&inst, &inst.account(&s.smtp_server)).await.map_err(ConsultError::Mail)?;
        Ok(format!("{} reads {} ({held} emails) and sends through {}", s.username, s.folder, s.smtp_server))
    }

    /// Send `raw` from the installation's address: a consultation, a digest.
    pub async fn send(&self, recipients: Vec<String>, envelope_from: &str, raw: Vec<u8>) -> Result<(), ConsultError> {
        let inst = self.installation().await?;
        mail::send(&inst, inst.account(&inst.settings.smtp_server), envelope_from.to_string(), recipients, raw).await.map_err(ConsultError::Mail)
    }

    pub async fn of_ticket(&self, ticket_id: &str) -> Result<Vec<Consultation>, ConsultError> {
        self.inbox.ticket(ticket_id).await?;
        Ok(self.store().find("consultation", "ticket_id", ticket_id, "created_at").await?)
    }

    /// Ask someone outside about a ticket: the email goes out, the question is kept as a note.
    pub async fn start(&self, ticket_id: &str, agent: (&str, &str), req: StartConsultation) -> Result<Consultation, ConsultError> {
        let mut to: Vec<String> = Vec::new();
        for a in &req.to {
            let a = a.trim().to_ascii_lowercase();
            if !is_address(&a) {
                return Err(ConsultError::BadRequest(format!("`{a}` is not an email address")));
            }
            if !to.contains(&a) {
                to.push(a);
            }
        }
        if to.is_empty() || to.len() > MAX_RECIPIENTS {
            return Err(ConsultError::BadRequest(format!("a consultation goes to 1 to {MAX_RECIPIENTS} addresses")));
        }
        let note = req.note.trim();
        if note.is_empty() || note.chars().count() > MAX_NOTE_CHARS {
            return Err(ConsultError::BadRequest(format!("the question is 1 to {MAX_NOTE_CHARS} characters")));
        }
        let chosen = req.messages.as_deref().unwrap_or_default();
        if chosen.len() > MAX_QUOTED {
            return Err(ConsultError::BadRequest(format!("a consultation quotes at most {MAX_QUOTED} messages; send none to quote the conversation")));
        }
        let ticket = self.inbox.ticket(ticket_id).await?;
        let inst = self.installation().await?;
        let (quoted, left_out) = self.quoted(&ticket, chosen).await?;
        let now = now_ms();
        let id = stable_id(ticket_id, &format!("consultation:{now}:{}", fastrand::u64(..)));
        let token = letter::token(self.token_key().await?, &id);
        let brand = inst.settings.display_name.clone();
        let title = crate::model::preview(ticket.preview.lines().next().unwrap_or(""), 60);
        let subject = format!("Question about {}'s {} [{token}]", ticket.contact.name, if title.is_empty() { "message".to_string() } else { format!("message \"{title}\"") });
        let mut c = Consultation {
            id: id.clone(),
            ticket_id: ticket_id.into(),
            subject,
            participants: to,
            started_by: agent.0.into(),
            started_by_name: agent.1.into(),
            created_at: now,
            last_at: now,
            answers: 0,
            reply_address: letter::reply_address(&inst.settings.address, &token),
            message_ids: Vec::new(),
        };
        let text = letter::question(agent.1, &brand, note, &ticket.platform, &quoted, left_out);
        self.send_and_note(&inst, &mut c, &token, text, agent, note).await?;
        Ok(c)
    }

    /// Write again in a consultation, to everyone in it.
    pub async fn follow_up(&self, ticket_id: &str, id: &str, agent: (&str, &str), text: &str) -> Result<Consultation, ConsultError> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > MAX_NOTE_CHARS {
            return Err(ConsultError::BadRequest(format!("a message is 1 to {MAX_NOTE_CHARS} characters")));
        }
        let mut c = self.consultation(ticket_id, id).await?;
        let inst = self.installation().await?;
        let token = letter::token(self.token_key().await?, &c.id);
        let body = letter::follow_up(agent.1, &inst.settings.display_name, text);
        self.send_and_note(&inst, &mut c, &token, body, agent, text).await?;
        Ok(c)
    }

    /// Send the next email of `c` (`body`), keep `c`, and keep what the agent wrote (`text`) as
    /// their note in the ticket, with who was written to in the history.
    async fn send_and_note(&self, inst: &Installation, c: &mut Consultation, token: &str, body: String, agent: (&str, &str), text: &str) -> Result<(), ConsultError> {
        self.mail(inst, c, token, body).await?;
        c.last_at = now_ms();
        self.store().put("consultation", &c.id, &*c).await?;
        let n = Note {
            id: stable_id(&c.ticket_id, &format!("consult-question:{}", c.message_ids.last().cloned().unwrap_or_default())),
            ticket_id: c.ticket_id.clone(),
            author_id: agent.0.into(),
            author_name: agent.1.into(),
            text: text.into(),
            created_at: c.last_at,
            edited_at: None,
            mentions: Vec::new(),
            consultation_id: Some(c.id.clone()),
            email: None,
        };
        self.inbox.record_note(n, "consult.sent", c.participants.join(", ")).await?;
        Ok(())
    }

    async fn consultation(&self, ticket_id: &str, id: &str) -> Result<Consultation, ConsultError> {
        self.store()
            .get::<Consultation>("consultation", id)
            .await?
            .filter(|c| c.ticket_id == ticket_id)
            .ok_or_else(|| ConsultError::NotFound(format!("ticket `{ticket_id}` has no consultation `{id}`")))
    }

    /// Send one email of `c` (to all its participants) and add it to its thread.
    async fn mail(&self, inst: &Installation, c: &mut Consultation, token: &str, text: String) -> Result<(), ConsultError> {
        let domain = mailtext::domain(&inst.settings.address).to_string();
        let message_id = format!("{token}.{}.{:04x}@{domain}", now_ms(), fastrand::u16(..));
        let subject = if c.message_ids.is_empty() { c.subject.clone() } else { format!("Re: {}", c.subject) };
        let raw = letter::write(letter::Letter {
            from: &inst.settings.address,
            from_name: &inst.settings.display_name,
            reply_to: &c.reply_address,
            to: &c.participants,
            subject: &subject,
            message_id: &message_id,
            references: &c.message_ids,
            text,
            date: now_ms(),
        })
        .map_err(ConsultError::BadRequest)?;
        // Bounces come back to the reply address, so they are matched to the consultation too.
        mail::send(inst, inst.account(&inst.settings.smtp_server), c.reply_address.clone(), c.participants.clone(), raw).await.map_err(ConsultError::Mail)?;
        c.remember(message_id);
        Ok(())
    }

    /// The chosen messages (or the newest of the whole conversation), oldest first, and how
    /// many earlier ones were left out.
    async fn quoted(&self, ticket: &crate::model::Ticket, chosen: &[String]) -> Result<(Vec<letter::Quoted>, usize), ConsultError> {
        let mut messages = if chosen.is_empty() {
            let mut all = Vec::new();
            let open = ticket.open_page();
            for page in (0..=open).rev() {
                let mut p = self.store().ticket_page(&ticket.id, page).await?;
                p.append(&mut all);
                all = p;
                if all.len() >= MAX_QUOTED {
                    break;
                }
            }
            all
        } else {
            let found = self.store().messages(chosen).await?;
            let found: Vec<_> = found.into_iter().filter(|m| m.ticket_id == ticket.id).collect();
            if let Some(missing) = chosen.iter().find(|id| !found.iter().any(|m| &m.id == *id)) {
                return Err(ConsultError::BadRequest(format!("ticket `{}` has no message `{missing}`", ticket.id)));
            }
            found
        };
        messages.sort_by_key(|m| m.interaction.created_at);
        let total = if chosen.is_empty() { ticket.message_count as usize } else { messages.len() };
        let keep = messages.len().min(MAX_QUOTED);
        let messages = messages.split_off(messages.len() - keep);
        let quoted = messages
            .into_iter()
            .map(|m| letter::Quoted {
                author: m.interaction.author.name.clone(),
                from_us: m.interaction.direction == crate::model::Direction::Outbound,
                at: m.interaction.created_at,
                text: m.interaction.text.clone(),
                files: m.interaction.attachments.iter().map(|a| a.name.clone().unwrap_or_else(|| format!("{:?}", a.kind).to_lowercase())).collect(),
            })
            .collect();
        Ok((quoted, total.saturating_sub(keep)))
    }

    /// Read what is new in the mailbox; `true` when more is waiting.
    async fn read_once(&self, inst: &Installation) -> Result<bool, ConsultError> {
        let s = &inst.settings;
        let cursor: Cursor = self.store().get("settings", CURSOR_ID).await?.unwrap_or_default();
        let page = mail::fetch(inst, inst.account(&s.imap_server), s.folder.clone(), cursor.validity, cursor.uid, PAGE).await.map_err(ConsultError::Mail)?;
        let key = self.token_key().await?;
        let mut next = Cursor { validity: Some(page.uid_validity), uid: if cursor.validity == Some(page.uid_validity) { cursor.uid } else { 0 } };
        for m in page.messages {
            self.receive(key, &m.raw, m.uid).await?;
            next.uid = next.uid.max(m.uid);
        }
        self.store().put("settings", CURSOR_ID, &next).await?;
        Ok(page.more)
    }

    /// One email of the mailbox: an answer becomes a note; an auto-reply or a bounce a line in
    /// the history; mail for no consultation is left in the mailbox, untouched.
    async fn receive(&self, key: &[u8], raw: &[u8], uid: u32) -> Result<(), ConsultError> {
        if raw.is_empty() {
            tracing::warn!(uid, "an email in the consultation mailbox is too large to read; it stays there");
            return Ok(());
        }
        let r = match letter::read(key, raw) {
            Ok(r) => r,
            Err(why) => {
                tracing::info!(uid, why, "an email in the consultation mailbox answers no consultation; it stays there");
                return Ok(());
            }
        };
        let Some(mut c) = self.store().get::<Consultation>("consultation", &r.consultation_id).await? else {
            tracing::info!(uid, "an email answers a consultation that is no longer kept");
            return Ok(());
        };
        let who = r.name.clone().map(|n| format!("{n} <{}>", r.from)).unwrap_or_else(|| r.from.clone());
        let once = r.message_id.clone().unwrap_or_else(|| format!("uid-{uid}"));
        match r.automated {
            Some(mailtext::Automated::Bounce) => {
                let why = r.reason.unwrap_or_else(|| "an address could not be reached".into());
                self.inbox.record_activity_once(&c.ticket_id, &once, "system", "consult.bounced", format!("The consultation email did not arrive: {why}"), false).await?;
            }
            Some(mailtext::Automated::AutoReply) => {
                let detail = format!("{who} answered automatically: {}", crate::model::preview(&r.subject, 80));
                self.inbox.record_activity_once(&c.ticket_id, &once, &r.from, "consult.auto_reply", detail, true).await?;
            }
            None => {
                let mut text = r.text.trim().to_string();
                if !r.files.is_empty() {
                    text.push_str(&format!("\n\n(Attached in the email: {}; it is in the consultation mailbox.)", r.files.join(", ")));
                }
                if text.chars().count() > MAX_NOTE_CHARS {
                    text = format!("{}… (the rest is in the consultation mailbox)", text.chars().take(MAX_NOTE_CHARS - 60).collect::<String>());
                }
                if text.trim().is_empty() {
                    text = "(an empty answer)".into();
                }
                let note = Note {
                    id: stable_id(&c.ticket_id, &format!("consult-answer:{once}")),
                    ticket_id: c.ticket_id.clone(),
                    author_id: format!("email:{}", r.from),
                    author_name: r.name.clone().unwrap_or_else(|| r.from.clone()),
                    text,
                    created_at: now_ms(),
                    edited_at: None,
                    mentions: Vec::new(),
                    consultation_id: Some(c.id.clone()),
                    email: Some(r.from.clone()),
                };
                if self.inbox.record_note(note, "consult.answered", format!("{who} answered")).await?.is_some() {
                    c.answers += 1;
                    c.last_at = now_ms();
                    if !c.participants.contains(&r.from) {
                        c.participants.push(r.from.clone());
                    }
                    if let Some(id) = r.message_id {
                        c.remember(id);
                    }
                    self.store().put("consultation", &c.id, &c).await?;
                }
            }
        }
        Ok(())
    }

    fn read_ok(&self) {
        *self.status.lock().expect("not poisoned") = MailStatus { read_at: Some(now_ms()), error: None };
    }

    fn read_failed(&self, e: &ConsultError) {
        self.status.lock().expect("not poisoned").error = Some(e.to_string());
    }
}

/// Every few minutes, the digests that are due.
async fn send_digests(me: std::sync::Weak<Consultations>, accounts: crate::accounts::Accounts, public_origin: Option<String>) {
    loop {
        tokio::time::sleep(Duration::from_secs(300)).await;
        let Some(c) = me.upgrade() else { return };
        // One host of several on a store sends them (the lease outlasts two rounds).
        if !c.inbox.store().runs_here("digests", crate::store::host_id(), Duration::from_secs(900)).await {
            continue;
        }
        let every = match c.settings().await {
            Ok(Some(s)) => Duration::from_secs(u64::from(s.digest_minutes) * 60),
            _ => continue,
        };
        if let Err(e) = c.send_digests(&accounts, public_origin.as_deref(), Some(every)).await {
            tracing::warn!(error = %e, "sending notification digests failed");
        }
    }
}

/// How long a host reading the consultations' mailbox keeps it from the others between rounds.
const MAILBOX_LEASE: Duration = Duration::from_secs(120);

/// Read the mailbox for as long as the service lives: at once when mail arrives (IDLE), else
/// every `poll_seconds`; after a failure, again with backoff.
async fn read_mailbox(me: std::sync::Weak<Consultations>) {
    let mut backoff = crate::sync::poll::Backoff::new();
    // Until a server says it has no IDLE (asked again when the settings change).
    let mut idle = true;
    loop {
        let Some(c) = me.upgrade() else { return };
        let inst = match c.installation().await {
            Ok(i) => Some(i),
            Err(ConsultError::NotConfigured) => None,
            Err(e) => {
                c.read_failed(&e);
                None
            }
        };
        // One host of several on a store reads the mailbox; the others stand by.
        let here = inst.is_some() && c.inbox.store().runs_here("consult-mailbox", crate::store::host_id(), MAILBOX_LEASE).await;
        let wait = match &inst {
            None => Duration::from_secs(30),
            Some(_) if !here => MAILBOX_LEASE / 4,
            Some(inst) => match c.read_once(inst).await {
                Ok(true) => continue,
                Ok(false) => {
                    c.read_ok();
                    backoff.reset();
                    Duration::from_secs(u64::from(inst.settings.poll_seconds))
                }
                Err(e) => {
                    tracing::warn!(error = %e, "reading the consultation mailbox failed");
                    c.read_failed(&e);
                    backoff.next_delay()
                }
            },
        };
        let changed = c.changed.notified();
        let idle_wait = async {
            match &inst {
                Some(inst) if here && idle && c.status.lock().expect("not poisoned").error.is_none() => {
                    let s = &inst.settings;
                    let started = std::time::Instant::now();
                    let woken = mail::wait_for_new(inst, &inst.account(&s.imap_server), &s.folder, wait).await;
                    if woken != Ok(mail::Woken::NewMail) {
                        tokio::time::sleep(wait.saturating_sub(started.elapsed())).await;
                    }
                    woken
                }
                _ => {
                    tokio::time::sleep(wait).await;
                    Ok(mail::Woken::Quiet)
                }
            }
        };
        tokio::select! {
            _ = changed => idle = true,
            woken = idle_wait => idle &= woken != Ok(mail::Woken::Unsupported),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_consultation_references_its_first_email_and_its_newest_twenty() {
        let mut c = Consultation {
            id: "c".into(),
            ticket_id: "t".into(),
            subject: "s".into(),
            participants: vec![],
            started_by: "u".into(),
            started_by_name: "U".into(),
            created_at: 0,
            last_at: 0,
            answers: 0,
            reply_address: "r@x".into(),
            message_ids: vec![],
        };
        for n in 0..30 {
            c.remember(format!("m{n}"));
        }
        assert_eq!(c.message_ids.len(), 21);
        assert_eq!((c.message_ids[0].as_str(), c.message_ids[1].as_str(), c.message_ids[20].as_str()), ("m0", "m10", "m29"));
    }
}
