//! Who may use the helpdesk: users with roles, password sign-in, sessions for the web UI and
//! API tokens for integrations. Secrets are stored hashed; nothing here returns them again.

mod guard;
mod invitations;
mod password;
mod teams;

use crate::model::{now_ms, stable_id, Millis};
use crate::store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use guard::{Refusal, SetupCheck, SetupCode, SignInGuard};
pub use invitations::{Acceptance, Invitation};
pub use password::{random_secret, MIN_PASSWORD_CHARS};
pub use teams::{hours_of, hours_open, Availability, AvailabilitySettings, NotificationPrefs, QueueOrder, Schedule, Span, Status, Team, TeamInput};

/// How long a sign-in lasts without use.
const SESSION_TTL_MS: Millis = 14 * 24 * 3_600_000;
/// API tokens start with this, so a leaked one is recognisable in logs and scanners.
pub const TOKEN_PREFIX: &str = "hdk_";

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("wrong email or password")]
    WrongCredentials,
    #[error("too many sign-in attempts: try again in {} s", .0.as_secs().max(1))]
    Throttled(std::time::Duration),
    #[error("the server is busy checking other sign-ins: try again in a moment")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages channels and users, and does everything agents do.
    Admin,
    /// Works the inbox.
    Agent,
}

/// A person who signs in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// A disabled user cannot sign in; their sessions and tokens stop working.
    #[serde(default)]
    pub disabled: bool,
    pub created_at: Millis,
}

impl User {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

#[derive(Serialize, Deserialize)]
struct StoredUser {
    #[serde(flatten)]
    user: User,
    password_hash: String,
}

#[derive(Serialize, Deserialize)]
struct Session {
    user_id: String,
    created_at: Millis,
    expires_at: Millis,
}

/// An API token as its owner sees it (the secret itself is shown once, at creation).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiToken {
    /// Not the secret (its SHA-256): the id to revoke it by.
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub created_at: Millis,
    /// After this time the token no longer works (`None`: until revoked).
    #[serde(default)]
    pub expires_at: Option<Millis>,
}

#[derive(Serialize, Deserialize)]
struct StoredToken {
    #[serde(flatten)]
    token: ApiToken,
}

/// A user to create.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password: String,
}

/// Changes to a user; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UserPatch {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub password: Option<String>,
}

#[derive(Clone)]
pub struct Accounts {
    store: Store,
    guard: std::sync::Arc<SignInGuard>,
    /// Bumped whenever a session or token may have ended or a user changed: live sockets
    /// re-check their sign-in when it moves instead of asking the store every few seconds.
    generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Recent answers of `authenticate`, valid while `generation` has not moved (at most a
    /// minute, and never past the session's or token's expiry): every request authenticates,
    /// and two store reads per request were most of an API call's cost under load.
    known: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Known>>>,
}

#[derive(Clone)]
struct Known {
    generation: u64,
    until: i64,
    user: User,
}

/// Signed-in credentials remembered at once; past this the memory starts again.
const KNOWN_MAX: usize = 10_000;
const KNOWN_FOR_MS: i64 = 60_000;

fn check_password(p: &str) -> Result<(), AccountError> {
    if p.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccountError::BadRequest(format!("a password needs at least {MIN_PASSWORD_CHARS} characters")));
    }
    Ok(())
}

fn check_email(email: &str) -> Result<(), AccountError> {
    if !email.contains('@') || email.len() > 254 || email.contains(char::is_whitespace) {
        return Err(AccountError::BadRequest(format!("`{email}` is not an email address")));
    }
    Ok(())
}

fn check_name(n: &str) -> Result<String, AccountError> {
    let n = n.trim();
    if n.is_empty() || n.chars().count() > 100 {
        return Err(AccountError::BadRequest("a name needs 1 to 100 characters".into()));
    }
    Ok(n.to_string())
}

/// Argon2 is deliberately slow: keep it off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("password hashing panicked")
}

impl Accounts {
    pub fn new(store: Store) -> Self {
        Accounts { store, guard: Default::default(), generation: Default::default(), known: Default::default() }
    }

    /// Moves whenever someone's sign-in may have ended (see `generation`).
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn changed(&self) {
        self.changed_here();
        if self.store.is_shared() {
            // The other hosts' sockets and remembered sign-ins follow (`follow_other_hosts`).
            let store = self.store.clone();
            tokio::spawn(async move {
                if let Err(e) = store.bump("accounts").await {
                    tracing::warn!(error = %e, "cannot tell the other hosts that a sign-in may have ended");
                }
            });
        }
    }

    fn changed_here(&self) {
        self.generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.known.lock().expect("known sign-ins").clear();
    }

    /// On a shared store: when a host signs someone out, disables, demotes or removes a user or
    /// revokes a token, this host's sockets check again and its remembered sign-ins are dropped,
    /// within a second.
    pub fn follow_other_hosts(&self) {
        if !self.store.is_shared() {
            return;
        }
        let accounts = self.clone();
        tokio::spawn(async move {
            let mut seen = accounts.store.counter("accounts").await.unwrap_or(0);
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                match accounts.store.counter("accounts").await {
                    Ok(now) if now != seen => {
                        seen = now;
                        accounts.changed_here();
                    }
                    Ok(_) => {}
                    Err(e) => tracing::debug!(error = %e, "cannot read the accounts' counter"),
                }
            }
        });
    }

    pub async fn has_users(&self) -> Result<bool, AccountError> {
        Ok(self.store.count("user").await? > 0)
    }

    pub async fn add_user(&self, new: NewUser) -> Result<User, AccountError> {
        let email = new.email.trim().to_lowercase();
        check_email(&email)?;
        let name = check_name(&new.name)?;
        check_password(&new.password)?;
        let user = User { id: stable_id("user", &email), email, name, role: new.role, disabled: false, created_at: now_ms() };
        let password = new.password;
        let password_hash = blocking(move || password::hash(&password)).await;
        if !self.store.create("user", &user.id, &StoredUser { user: user.clone(), password_hash }).await? {
            return Err(AccountError::Conflict(format!("a user with email {} already exists", user.email)));
        }
        Ok(user)
    }

    pub async fn users(&self) -> Result<Vec<User>, AccountError> {
        Ok(self.store.all::<StoredUser>("user", "name").await?.into_iter().map(|s| s.user).collect())
    }

    pub async fn user(&self, id: &str) -> Result<User, AccountError> {
        Ok(self.stored(id).await?.user)
    }

    async fn stored(&self, id: &str) -> Result<StoredUser, AccountError> {
        self.store.get("user", id).await?.ok_or_else(|| AccountError::NotFound(format!("no user `{id}`")))
    }

    /// Change a user. A new password, role or disabling ends every session of theirs but
    /// `keep_session` (the admin's own, when they change themselves).
    pub async fn update_user(&self, id: &str, patch: UserPatch, keep_session: Option<&str>) -> Result<User, AccountError> {
        let mut s = self.stored(id).await?;
        let before = s.user.clone();
        if let Some(n) = patch.name {
            s.user.name = check_name(&n)?;
        }
        let demoted = patch.role.is_some_and(|r| r != Role::Admin) || patch.disabled == Some(true);
        if demoted && s.user.is_admin() && !s.user.disabled {
            let admins = self.users().await?.into_iter().filter(|u| u.is_admin() && !u.disabled).count();
            if admins <= 1 {
                return Err(AccountError::Conflict("this is the last admin: make someone else an admin first".into()));
            }
        }
        if let Some(r) = patch.role {
            s.user.role = r;
        }
        if let Some(d) = patch.disabled {
            s.user.disabled = d;
        }
        let new_password = patch.password.is_some();
        if let Some(p) = patch.password {
            check_password(&p)?;
            let slot = self.guard.hashing_slot().await;
            s.password_hash = blocking(move || {
                let _slot = slot;
                password::hash(&p)
            })
            .await;
        }
        self.store.put("user", id, &s).await?;
        self.changed();
        if new_password || s.user.role != before.role || (s.user.disabled && !before.disabled) {
            self.end_sessions(id, keep_session).await?;
        }
        Ok(s.user)
    }

    /// Sign a user out everywhere, but for the session `keep` (a session secret).
    pub async fn end_sessions(&self, user_id: &str, keep: Option<&str>) -> Result<(), AccountError> {
        let keep = keep.map(password::secret_id).unwrap_or_default();
        self.store
            .raw()
            .query("DELETE session WHERE user_id = $u AND record::id(id) != $keep")
            .bind(("u", user_id.to_string()))
            .bind(("keep", keep))
            .await
            .and_then(|r| r.check())
            .map_err(crate::store::StoreError::from)?;
        self.changed();
        Ok(())
    }

    /// Check a password and open a session; returns the user and the session secret. Attempts
    /// from `ip` and on the account are rate-limited, and hashing slots are bounded.
    pub async fn sign_in(&self, email: &str, password: &str, ip: Option<std::net::IpAddr>) -> Result<(User, String), AccountError> {
        let email = email.trim().to_lowercase();
        if email.len() > 254 || password.len() > 1024 {
            return Err(AccountError::WrongCredentials);
        }
        let slot = self.guard.admit(ip, &email).map_err(|r| match r {
            Refusal::Throttled(wait) => AccountError::Throttled(wait),
            Refusal::Busy => AccountError::Busy,
        })?;
        let stored: Option<StoredUser> = self.store.get("user", &stable_id("user", &email)).await?;
        // Verify against something even for unknown emails, so timing does not tell which exist.
        let hash = stored.as_ref().map(|s| s.password_hash.clone()).unwrap_or_else(|| DUMMY_HASH.clone());
        let password = password.to_string();
        let ok = blocking(move || {
            let _slot = slot;
            password::verify(&password, &hash)
        })
        .await;
        let user = match stored {
            Some(s) if ok && !s.user.disabled => s.user,
            _ => return Err(AccountError::WrongCredentials),
        };
        let secret = password::random_secret();
        let now = now_ms();
        let session = Session { user_id: user.id.clone(), created_at: now, expires_at: now + SESSION_TTL_MS };
        self.store.put("session", &password::secret_id(&secret), &session).await?;
        Ok((user, secret))
    }

    pub async fn sign_out(&self, session_secret: &str) -> Result<(), AccountError> {
        self.store.delete("session", &password::secret_id(session_secret)).await?;
        self.changed();
        Ok(())
    }

    /// The user a session cookie or API token belongs to, if it is valid.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<User>, AccountError> {
        let id = password::secret_id(secret);
        let generation = self.generation();
        if let Some(k) = self.known.lock().expect("known sign-ins").get(&id).filter(|k| k.generation == generation && k.until > now_ms()) {
            return Ok(Some(k.user.clone()));
        }
        let (user, expires_at) = match self.authenticate_stored(&id, secret).await? {
            Some(found) => found,
            None => return Ok(None),
        };
        let mut known = self.known.lock().expect("known sign-ins");
        if known.len() >= KNOWN_MAX {
            known.clear();
        }
        let until = expires_at.unwrap_or(i64::MAX).min(now_ms() + KNOWN_FOR_MS);
        known.insert(id, Known { generation, until, user: user.clone() });
        Ok(Some(user))
    }

    /// `authenticate` from the store: the user and when the credential expires.
    async fn authenticate_stored(&self, id: &str, secret: &str) -> Result<Option<(User, Option<i64>)>, AccountError> {
        let (user_id, expires_at) = if secret.starts_with(TOKEN_PREFIX) {
            match self.store.get::<StoredToken>("api_token", id).await? {
                Some(t) if t.token.expires_at.is_none_or(|at| at > now_ms()) => (t.token.user_id, t.token.expires_at),
                _ => return Ok(None),
            }
        } else {
            match self.store.get::<Session>("session", id).await? {
                Some(s) if s.expires_at > now_ms() => (s.user_id, Some(s.expires_at)),
                Some(_) => {
                    self.store.delete("session", id).await?;
                    return Ok(None);
                }
                None => return Ok(None),
            }
        };
        let user = self.store.get::<StoredUser>("user", &user_id).await?.map(|s| s.user).filter(|u| !u.disabled);
        Ok(user.map(|u| (u, expires_at)))
    }

    /// A new API token for `user`, valid for `days` (or until revoked); the secret is returned
    /// once and never stored.
    pub async fn create_token(&self, user: &User, name: &str, days: Option<u32>) -> Result<(ApiToken, String), AccountError> {
        let name = check_name(name)?;
        if days.is_some_and(|d| !(1..=3650).contains(&d)) {
            return Err(AccountError::BadRequest("a token lasts 1 to 3650 days".into()));
        }
        let expires_at = days.map(|d| now_ms() + i64::from(d) * 86_400_000);
        let secret = format!("{TOKEN_PREFIX}{}", password::random_secret());
        let id = password::secret_id(&secret);
        let token = ApiToken { id: id.clone(), user_id: user.id.clone(), name, created_at: now_ms(), expires_at };
        self.store.put("api_token", &id, &StoredToken { token: token.clone() }).await?;
        Ok((token, secret))
    }

    pub async fn tokens(&self, user: &User) -> Result<Vec<ApiToken>, AccountError> {
        let rows: Vec<StoredToken> = self.store.find("api_token", "user_id", &user.id, "created_at").await?;
        Ok(rows.into_iter().map(|s| s.token).collect())
    }

    pub async fn revoke_token(&self, user: &User, token_id: &str) -> Result<(), AccountError> {
        match self.store.get::<StoredToken>("api_token", token_id).await? {
            Some(t) if t.token.user_id == user.id => {
                self.store.delete("api_token", token_id).await?;
                self.changed();
                Ok(())
            }
            _ => Err(AccountError::NotFound(format!("no token `{token_id}`"))),
        }
    }
}

/// A hash of a random password, verified against for unknown emails.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| password::hash(&password::random_secret()));
