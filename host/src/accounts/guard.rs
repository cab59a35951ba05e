//! Guessing passwords and setup codes is slow and bounded: sign-ins are rate-limited per
//! address and per account (token buckets, answered 429 with the wait), password hashes run
//! about one per core at most (the rest are turned away, not queued), and the first-admin setup
//! code is long, compared in constant time and replaced after a few wrong tries.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use subtle::ConstantTimeEq;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Sign-in attempts from one address: a burst of 20, then one every 3 s.
const PER_IP_BURST: u32 = 20;
const PER_IP_EVERY: Duration = Duration::from_secs(3);
/// Attempts on one account, from anywhere: a burst of 10, then one every 6 s.
const PER_ACCOUNT_BURST: u32 = 10;
const PER_ACCOUNT_EVERY: Duration = Duration::from_secs(6);
/// Wrong setup codes before the code is replaced.
pub const SETUP_TRIES: u32 = 5;

/// Why a sign-in was not even tried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Refusal {
    /// Too many attempts: try again after this long.
    Throttled(Duration),
    /// Every password-hashing slot is busy.
    Busy,
}

pub struct SignInGuard {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_account: DefaultKeyedRateLimiter<String>,
    hashing: Arc<Semaphore>,
}

fn quota(burst: u32, every: Duration) -> Quota {
    Quota::with_period(every).expect("a positive period").allow_burst(NonZeroU32::new(burst).expect("a positive burst"))
}

impl Default for SignInGuard {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        SignInGuard {
            per_ip: RateLimiter::keyed(quota(PER_IP_BURST, PER_IP_EVERY)),
            per_account: RateLimiter::keyed(quota(PER_ACCOUNT_BURST, PER_ACCOUNT_EVERY)),
            hashing: Arc::new(Semaphore::new(cores)),
        }
    }
}

impl SignInGuard {
    /// Take one attempt from `ip`'s and `account`'s buckets and a hashing slot.
    pub fn admit(&self, ip: Option<IpAddr>, account: &str) -> Result<OwnedSemaphorePermit, Refusal> {
        let now = DefaultClock::default().now();
        if let Some(ip) = ip {
            self.per_ip.check_key(&ip).map_err(|n| Refusal::Throttled(n.wait_time_from(now)))?;
        }
        self.per_account.check_key(&account.to_string()).map_err(|n| Refusal::Throttled(n.wait_time_from(now)))?;
        // Buckets of addresses and accounts not seen for a while are dropped, so a spray of
        // addresses or emails cannot grow them without end.
        if self.per_account.len() > 10_000 || self.per_ip.len() > 10_000 {
            self.per_account.retain_recent();
            self.per_ip.retain_recent();
        }
        self.hashing.clone().try_acquire_owned().map_err(|_| Refusal::Busy)
    }

    /// A hashing slot for admins' password changes: waits rather than refuses.
    pub async fn hashing_slot(&self) -> OwnedSemaphorePermit {
        self.hashing.clone().acquire_owned().await.expect("the semaphore is never closed")
    }
}

/// 128 random bits from the OS, as 32 hex digits in groups of four for reading aloud.
fn new_code() -> String {
    let hex = super::password::random_hex(16);
    hex.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).expect("hex")).collect::<Vec<_>>().join("-")
}

/// The one-time code that creates the first admin, printed on the server's console.
pub struct SetupCode {
    state: Mutex<(String, u32)>,
    announce: Box<dyn Fn(&str) + Send + Sync>,
}

/// What a wrong setup code did.
#[derive(Debug, PartialEq)]
pub enum SetupCheck {
    Right,
    /// Wrong; this many tries remain.
    Wrong(u32),
    /// Wrong, and the last try: a new code was printed.
    Replaced,
}

impl SetupCode {
    /// A fresh code, announced at once (and again whenever it is replaced).
    pub fn new(announce: impl Fn(&str) + Send + Sync + 'static) -> Self {
        let code = new_code();
        announce(&code);
        SetupCode { state: Mutex::new((code, 0)), announce: Box::new(announce) }
    }

    pub fn check(&self, given: &str) -> SetupCheck {
        let normalise = |s: &str| s.chars().filter(|c| c.is_ascii_hexdigit()).collect::<String>().to_ascii_lowercase();
        let mut state = self.state.lock().expect("setup code lock");
        if bool::from(normalise(given).as_bytes().ct_eq(normalise(&state.0).as_bytes())) {
            return SetupCheck::Right;
        }
        state.1 += 1;
        if state.1 < SETUP_TRIES {
            return SetupCheck::Wrong(SETUP_TRIES - state.1);
        }
        *state = (new_code(), 0);
        (self.announce)(&state.0);
        SetupCheck::Replaced
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setup_code_is_replaced_after_five_wrong_tries() {
        let printed = Arc::new(Mutex::new(Vec::<String>::new()));
        let p = printed.clone();
        let code = SetupCode::new(move |c| p.lock().unwrap().push(c.to_string()));
        let first = printed.lock().unwrap()[0].clone();
        assert_eq!(first.chars().filter(|c| c.is_ascii_hexdigit()).count(), 32, "128 bits: {first}");
        for left in (1..SETUP_TRIES).rev() {
            assert_eq!(code.check("0000-0000"), SetupCheck::Wrong(left));
        }
        assert_eq!(code.check("nope"), SetupCheck::Replaced);
        assert_eq!(code.check(&first), SetupCheck::Wrong(SETUP_TRIES - 1), "the old code no longer works");
        let second = printed.lock().unwrap()[1].clone();
        assert_ne!(first, second);
        assert_eq!(code.check(&second.to_uppercase().replace('-', " ")), SetupCheck::Right, "spacing and case do not matter");
    }

    #[test]
    fn sign_ins_are_throttled_per_account_and_hashes_are_bounded() {
        let guard = SignInGuard::default();
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        let mut admitted = 0;
        let refusal = loop {
            match guard.admit(Some(ip), "ann@example.com") {
                Ok(permit) => {
                    drop(permit);
                    admitted += 1;
                }
                Err(r) => break r,
            }
        };
        assert_eq!(admitted, PER_ACCOUNT_BURST);
        assert!(matches!(refusal, Refusal::Throttled(d) if d > Duration::ZERO && d <= PER_ACCOUNT_EVERY), "{refusal:?}");
        // Holding every hashing slot turns the next attempt away at once.
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let held: Vec<_> = (0..cores).map(|n| guard.admit(None, &format!("u{n}@example.com")).unwrap()).collect();
        assert_eq!(guard.admit(None, "other@example.com").unwrap_err(), Refusal::Busy);
        drop(held);
    }
}
