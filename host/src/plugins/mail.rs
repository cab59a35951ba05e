//! The `mail` import: the host's mail transport offered to a plugin, only to the servers its
//! channel was granted, with the password taken from the channel's secrets; and attachments'
//! IMAP URLs downloaded for agents in the words of a download's failures.

use super::bindings::latest::helpdesk::channel::mail as import;
use super::sandbox::HostState;
use super::{ChannelContext, ChannelFailure};
use crate::mail::{self, Account, MailAccess, MailError};

impl MailAccess for ChannelContext {
    fn label(&self) -> &str {
        &self.id
    }
    fn allowed(&self, scheme: &str, host: &str, port: u16) -> bool {
        self.host_allowed(scheme, host, port)
    }
    fn admits_address(&self, ip: std::net::IpAddr) -> bool {
        super::imports::is_public(ip)
    }
    fn password(&self, name: &str) -> Option<String> {
        self.secrets.get(name).cloned()
    }
    fn redact(&self, text: &str) -> String {
        ChannelContext::redact(self, text)
    }
}

fn account(a: import::Account) -> Account {
    Account { server: a.server, username: a.username, password_secret: a.password_secret }
}

impl From<MailError> for import::MailError {
    fn from(e: MailError) -> Self {
        match e {
            MailError::NotAllowed(m) => import::MailError::NotAllowed(m),
            MailError::Auth(m) => import::MailError::Auth(m),
            MailError::Connection(m) => import::MailError::Connection(m),
            MailError::Timeout => import::MailError::Timeout,
            MailError::Rejected(m) => import::MailError::Rejected(m),
            MailError::Invalid(m) => import::MailError::Invalid(m),
        }
    }
}

/// Download the part an attachment's IMAP URL names, decoded from its transfer encoding, with
/// its content type.
pub(crate) async fn download_part(ch: &ChannelContext, url: &str, headers: &[(String, String)], max: usize) -> Result<(Option<String>, Vec<u8>), ChannelFailure> {
    let too_large = || ChannelFailure::Permanent(format!("the file is larger than {} MiB; open it in the mailbox", max >> 20));
    match mail::fetch_part(ch, url, headers, max).await {
        Ok(Some(part)) => Ok(part),
        Ok(None) => Err(too_large()),
        Err(e) => Err(match e {
            MailError::NotAllowed(s) => ChannelFailure::InvalidConfig(format!("the file is on {s}, which this channel was not granted (allowed_hosts)")),
            MailError::Auth(m) => ChannelFailure::Unauthorized(m),
            MailError::Timeout => ChannelFailure::Transient("the mail server took too long to send the file".into()),
            MailError::Connection(m) => ChannelFailure::Transient(ch.redact(&m)),
            MailError::Rejected(m) | MailError::Invalid(m) => ChannelFailure::Permanent(ch.redact(&m)),
        }),
    }
}

impl import::Host for HostState {
    async fn fetch(&mut self, a: import::Account, folder: String, uid_validity: Option<u32>, after_uid: u32, limit: u32) -> wasmtime::Result<Result<import::MailboxPage, import::MailError>> {
        let started = std::time::Instant::now();
        let account = account(a);
        let got = mail::fetch(&*self.channel, account.clone(), folder.clone(), uid_validity, after_uid, limit).await;
        if got.is_ok() {
            // The poll loop waits on this mailbox with IDLE until the next fetch.
            self.channel.watch_mailbox(account, folder);
        }
        self.host_call_ended(started);
        Ok(got
            .map(|p| import::MailboxPage {
                uid_validity: p.uid_validity,
                more: p.more,
                messages: p.messages.into_iter().map(|m| import::Fetched { uid: m.uid, size: m.size, raw: m.raw }).collect(),
            })
            .map_err(Into::into))
    }

    async fn send(&mut self, a: import::Account, sender: String, recipients: Vec<String>, raw: Vec<u8>) -> wasmtime::Result<Result<(), import::MailError>> {
        let started = std::time::Instant::now();
        let sent = mail::send(&*self.channel, account(a), sender, recipients, raw).await;
        self.host_call_ended(started);
        Ok(sent.map_err(Into::into))
    }
}
