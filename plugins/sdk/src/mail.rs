//! Mail through the host (the `mail` import): read a mailbox over IMAP and send over SMTP,
//! with the host holding the connections, the TLS and the password (or, under `cargo test`,
//! the mailbox of [`crate::testing::Fake`]).

pub use crate::bindings::helpdesk::channel::mail::{Account, Fetched, MailError, MailboxPage};
use crate::{err, ChannelError};

#[cfg(target_arch = "wasm32")]
mod imports {
    use super::*;
    use crate::bindings::helpdesk::channel::mail;
    pub fn fetch(account: &Account, folder: &str, uid_validity: Option<u32>, after_uid: u32, limit: u32) -> Result<MailboxPage, MailError> {
        mail::fetch(account, folder, uid_validity, after_uid, limit)
    }
    pub fn send(account: &Account, sender: &str, recipients: &[String], raw: &[u8]) -> Result<(), MailError> {
        mail::send(account, sender, recipients, raw)
    }
}

#[cfg(not(target_arch = "wasm32"))]
use crate::testing::mail_imports as imports;

/// Messages of `folder` after `after_uid` (the whole folder again when its UIDVALIDITY is not
/// `uid_validity`), oldest first, at most `limit`.
pub fn fetch(account: &Account, folder: &str, uid_validity: Option<u32>, after_uid: u32, limit: u32) -> Result<MailboxPage, ChannelError> {
    imports::fetch(account, folder, uid_validity, after_uid, limit).map_err(channel_error)
}

/// Send a whole message to `recipients` (the envelope) from `sender`.
pub fn send(account: &Account, sender: &str, recipients: &[String], raw: &[u8]) -> Result<(), ChannelError> {
    imports::send(account, sender, recipients, raw).map_err(channel_error)
}

/// The contract's words for what went wrong.
pub fn channel_error(e: MailError) -> ChannelError {
    match e {
        MailError::NotAllowed(s) => err::invalid_config(format!("the mail server {s} is not granted to this channel (allowed_hosts)")),
        MailError::Auth(m) => ChannelError::Unauthorized(m),
        MailError::Connection(m) => err::transient(m),
        MailError::Timeout => err::transient("the mail server took too long"),
        MailError::Rejected(m) => err::permanent(m),
        MailError::Invalid(m) => err::invalid_config(m),
    }
}
