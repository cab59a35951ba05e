//! Invitations by link: an admin makes a link for a role, the teammate opens it and picks their
//! own name and password (an admin never handles it). A link works once, for seven days; only its
//! SHA-256 is stored.

use super::{check_password, password, AccountError, Accounts, NewUser, Role, User};
use crate::model::{now_ms, Millis};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

const INVITATION_TTL_MS: Millis = 7 * 24 * 3_600_000;

/// An invitation as admins list it (the link itself is shown once, when it is made).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Invitation {
    /// Not the secret (its SHA-256): the id to revoke it by.
    pub id: String,
    pub role: Role,
    /// Who it is meant for, as the admin wrote it (the form starts with it).
    pub email: Option<String>,
    /// The admin who made it.
    pub invited_by: String,
    pub created_at: Millis,
    pub expires_at: Millis,
}

/// Someone accepting an invitation.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Acceptance {
    /// The secret of the link (`/invite#<secret>`).
    pub secret: String,
    pub email: String,
    pub name: String,
    pub password: String,
}

impl Accounts {
    /// A new invitation for `role`; returns it and the secret its link carries.
    pub async fn invite(&self, by: &User, role: Role, email: Option<String>) -> Result<(Invitation, String), AccountError> {
        let email = email.map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty());
        if let Some(e) = &email {
            super::check_email(e)?;
        }
        let secret = password::random_secret();
        let now = now_ms();
        let id = password::secret_id(&secret);
        let invitation = Invitation { id: id.clone(), role, email, invited_by: by.name.clone(), created_at: now, expires_at: now + INVITATION_TTL_MS };
        self.store.put("invitation", &id, &invitation).await?;
        Ok((invitation, secret))
    }

    /// The invitations not yet used or expired, newest first.
    pub async fn invitations(&self) -> Result<Vec<Invitation>, AccountError> {
        let mut all: Vec<Invitation> = self.store.all("invitation", "created_at").await?;
        all.retain(|i| i.expires_at > now_ms());
        all.reverse();
        Ok(all)
    }

    pub async fn revoke_invitation(&self, id: &str) -> Result<(), AccountError> {
        match self.store.get::<Invitation>("invitation", id).await? {
            Some(_) => Ok(self.store.delete("invitation", id).await?),
            None => Err(AccountError::NotFound(format!("no invitation `{id}`"))),
        }
    }

    /// The invitation a link's secret opens, if it is still good.
    pub async fn invitation(&self, secret: &str) -> Result<Invitation, AccountError> {
        let gone = || AccountError::NotFound("this invitation link is not valid any more: ask an admin for a new one".into());
        let invitation: Invitation = self.store.get("invitation", &password::secret_id(secret)).await?.ok_or_else(gone)?;
        if invitation.expires_at <= now_ms() {
            return Err(gone());
        }
        Ok(invitation)
    }

    /// Create the invited user and sign them in; the link stops working. Returns the user and
    /// the session secret.
    pub async fn accept(&self, a: Acceptance) -> Result<(User, String), AccountError> {
        // One acceptance at a time, so a link used twice at once makes one account.
        static ACCEPTING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
        let _one = ACCEPTING.lock().await;
        let invitation = self.invitation(&a.secret).await?;
        check_password(&a.password)?;
        let user = self.add_user(NewUser { email: a.email, name: a.name, role: invitation.role, password: a.password.clone() }).await?;
        self.store.delete("invitation", &invitation.id).await?;
        let (user, session) = self.sign_in(&user.email, &a.password, None).await?;
        Ok((user, session))
    }
}
