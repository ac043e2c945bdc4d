//! The portal's limits, counted in PostgreSQL (`db::limits`) so that every process shares them:
//! sign-in throttling with locks ([`AttemptKeys`]) and hourly allowances for what people post
//! and the mails they ask for ([`Hourly`]).
//!
//! Sign-in throttling: each attempt at a password (at sign-in, or when a signed-in person confirms
//! an action with it) or at a second factor is counted, before it is checked, against three keys:
//!
//! - the account and the client address together (5 failures allowed),
//! - the client address, whatever account it names (20),
//! - the account, from anywhere (50 for passwords; 10 for second factors, which only someone who
//!   has the password can fail).
//!
//! A key over its allowance is locked for 1, 2, 4, 8, then 15 minutes. Counting and checking are
//! one database statement, so parallel attempts cannot all pass one check. A success forgets the
//! account's own keys and gives the attempt back to the address, whose other failures stay.
//!
//! Typing someone's account name from many addresses must not lock its owner out: the lock of a
//! whole account does not stop a device that has signed in to that account before (it carries a
//! signed cookie, [`device_cookie`]) from an address that has not failed. IPv6 addresses count by
//! their /64 network, which one subscriber usually holds whole.

use std::net::IpAddr;

use axum::http::HeaderMap;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

use crate::auth::Keys;
use crate::db::audit::{self, Actor, Event};
use crate::db::ids::UserId;
use crate::db::limits::{self as counters, Attempt};
use crate::error::{AppError, AppResult};

/// Failures within this window count together.
pub const WINDOW: time::Duration = time::Duration::minutes(15);
/// Failures allowed for one account from one address.
pub const PAIR_FREE: i32 = 5;
/// Failures allowed from one address.
pub const ADDRESS_FREE: i32 = 20;
/// Password failures allowed for one account from all addresses.
pub const ACCOUNT_FREE: i32 = 50;
/// Second-factor failures allowed for one account from all addresses.
pub const SECOND_FACTOR_ACCOUNT_FREE: i32 = 10;

/// The device cookie (with the `__Host-` prefix when the portal is served over https).
const DEVICE_COOKIE: &str = "ndp_device";
const DEVICE_COOKIE_HTTPS: &str = "__Host-ndp_device";
/// How long a device is remembered after its last sign-in.
const DEVICE_DAYS: i64 = 400;

/// The throttle keys of one kind of attempt by one client.
#[derive(Debug, Clone)]
pub struct AttemptKeys {
    pair: String,
    address: String,
    account: String,
    account_free: i32,
}

impl AttemptKeys {
    /// Keys of a password attempt at sign-in for the account name `email` as typed.
    pub fn password(email: &str, addr: Option<&str>) -> Self {
        Self::new("pair", "account", &email.trim().to_lowercase(), addr, ACCOUNT_FREE)
    }

    /// Keys of a password typed by signed-in account `user_id` to confirm an action.
    pub fn current_password(user_id: UserId, addr: Option<&str>) -> Self {
        Self::new("reauth-pair", "reauth", &user_id.to_string(), addr, ACCOUNT_FREE)
    }

    /// Keys of a second-factor attempt (TOTP or recovery code) for account `user_id`.
    pub fn second_factor(user_id: UserId, addr: Option<&str>) -> Self {
        Self::new("totp-pair", "totp", &user_id.to_string(), addr, SECOND_FACTOR_ACCOUNT_FREE)
    }

    fn new(pair: &str, account: &str, name: &str, addr: Option<&str>, account_free: i32) -> Self {
        let addr = address_bucket(addr);
        Self { pair: format!("{pair}:{name}|{addr}"), address: format!("ip:{addr}"), account: format!("{account}:{name}"), account_free }
    }

    fn all(&self) -> [(String, i32); 3] {
        [(self.pair.clone(), PAIR_FREE), (self.address.clone(), ADDRESS_FREE), (self.account.clone(), self.account_free)]
    }

    /// Counts an attempt, or refuses it (429 with the wait) while a key is locked. A `known_device`
    /// (one that signed in to this account before) is not refused by the lock of the whole account
    /// while its own address has no failures.
    pub async fn count(&self, pool: &sqlx::PgPool, known_device: bool, actor: &Actor) -> AppResult<()> {
        let soft = known_device.then_some((self.account.as_str(), self.pair.as_str()));
        match counters::login_attempt(pool, &self.all(), WINDOW, soft).await? {
            Attempt::Refused(secs) => Err(AppError::TooManyRequests("auth.locked", secs)),
            Attempt::Counted(locked) => {
                for (key, failures) in locked {
                    let kind = kind_of(&key);
                    tracing::warn!(throttle.kind = kind, failures, "sign-in locked after repeated failures");
                    let event = Event::new("login.locked", "throttle", kind).after(serde_json::json!({"failures": failures}));
                    audit::record(pool, actor, event).await?;
                }
                Ok(())
            }
        }
    }

    /// After a success: the account's keys are forgotten, the address gets the attempt back.
    pub async fn succeeded(&self, pool: &sqlx::PgPool, actor: &Actor) -> AppResult<()> {
        let cleared = [self.pair.clone(), self.account.clone()];
        for key in counters::login_succeeded(pool, &cleared, &[(self.address.clone(), ADDRESS_FREE)]).await? {
            let kind = kind_of(&key);
            tracing::info!(throttle.kind = kind, "sign-in lock cleared by a successful sign-in");
            audit::record(pool, actor, Event::new("login.unlocked", "throttle", kind)).await?;
        }
        Ok(())
    }

    /// Gives a counted attempt back to every key, when it could not be checked (the server was
    /// too busy): a person retrying must not lock themselves out.
    pub async fn give_back(&self, pool: &sqlx::PgPool) -> AppResult<()> {
        counters::login_succeeded(pool, &[], &self.all()).await?;
        Ok(())
    }

    /// Counts an attempt, runs `check` (a password or code check), and settles the count: given
    /// back when the check could not run, forgotten (for the account) when it passed.
    pub async fn check<F, E>(&self, pool: &sqlx::PgPool, known_device: bool, actor: &Actor, check: F) -> AppResult<bool>
    where
        F: Future<Output = Result<bool, E>>,
        AppError: From<E>,
    {
        self.count(pool, known_device, actor).await?;
        match check.await {
            Ok(true) => {
                self.succeeded(pool, actor).await?;
                Ok(true)
            }
            Ok(false) => Ok(false),
            Err(e) => {
                self.give_back(pool).await?;
                Err(AppError::from(e))
            }
        }
    }
}

/// An hourly allowance: what one subject (a client address, an account, a recipient) may do in
/// a clock hour.
#[derive(Debug, Clone, Copy)]
pub struct Hourly {
    name: &'static str,
    /// Uses allowed per hour.
    pub per_hour: i32,
}

/// Ratings and feedback from one client address.
pub const POSTS: Hourly = Hourly { name: "post:ip", per_hour: 10 };
/// Questions from one client address.
pub const QUESTIONS: Hourly = Hourly { name: "question:ip", per_hour: 3 };
/// Requests for mails (confirmation, reset, "this address has an account") from one client address.
pub const MAIL_REQUESTS: Hourly = Hourly { name: "mail:ip", per_hour: 10 };
/// Such mails sent to one recipient.
pub const MAILS_TO: Hourly = Hourly { name: "mail:to", per_hour: 3 };

impl Hourly {
    /// Counts one use by `subject`; whether it is within the allowance.
    pub async fn take(&self, db: impl sqlx::PgExecutor<'_>, subject: &str) -> sqlx::Result<bool> {
        Ok(counters::count_in_hour(db, &format!("{}:{subject}", self.name)).await? <= self.per_hour)
    }

    /// Counts one use from a client address (IPv6: its /64).
    pub async fn take_from(&self, db: impl sqlx::PgExecutor<'_>, addr: Option<&str>) -> sqlx::Result<bool> {
        self.take(db, &address_bucket(addr)).await
    }
}

/// The kind of a key (`pair`, `ip`, `account`, …), never the account name or address in it.
fn kind_of(key: &str) -> &str {
    key.split(':').next().unwrap_or("key")
}

/// A client address as the limits count it: IPv4 addresses alone, IPv6 addresses by their /64.
pub fn address_bucket(addr: Option<&str>) -> String {
    match addr.and_then(|a| a.parse::<IpAddr>().ok()).map(|ip| ip.to_canonical()) {
        Some(IpAddr::V6(v6)) => {
            let mut segments = v6.segments();
            segments[4..].fill(0);
            format!("{}/64", std::net::Ipv6Addr::from(segments))
        }
        Some(v4) => v4.to_string(),
        None => addr.unwrap_or("unknown").to_owned(),
    }
}

fn device_cookie_name(https: bool) -> &'static str {
    if https { DEVICE_COOKIE_HTTPS } else { DEVICE_COOKIE }
}

/// The `Set-Cookie` value that marks this device as one that signed in to `user_id`.
pub fn device_cookie(keys: &Keys, user_id: UserId, https: bool) -> String {
    let nonce = crate::auth::token::random_token();
    let value = format!("{user_id}.{nonce}.{}", keys.mac("known device", format!("{user_id}.{nonce}").as_bytes()));
    Cookie::build((device_cookie_name(https), value))
        .path("/")
        .http_only(true)
        .secure(https)
        .same_site(SameSite::Lax)
        .max_age(time::Duration::days(DEVICE_DAYS))
        .build()
        .to_string()
}

/// The account this device signed in to before, if its cookie carries the portal's signature.
pub fn known_device(headers: &HeaderMap, keys: &Keys, https: bool) -> Option<UserId> {
    let jar = CookieJar::from_headers(headers);
    let value = jar.get(device_cookie_name(https))?.value().to_owned();
    let (signed, signature) = value.rsplit_once('.')?;
    let user_id = signed.split_once('.')?.0.parse().ok()?;
    crate::auth::token::same(&keys.mac("known device", signed.as_bytes()), signature).then_some(UserId(user_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_the_typed_account_without_case_or_spaces() {
        let keys = AttemptKeys::password("  An@Example.VN ", Some("203.0.113.9"));
        assert_eq!(keys.pair, "pair:an@example.vn|203.0.113.9");
        assert_eq!(keys.address, "ip:203.0.113.9");
        assert_eq!(keys.account, "account:an@example.vn");
        assert_eq!(AttemptKeys::second_factor(UserId(7), None).account, "totp:7");
        assert_eq!(kind_of(&keys.pair), "pair");
    }

    #[test]
    fn ipv6_addresses_count_by_their_64_network() {
        assert_eq!(address_bucket(Some("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(address_bucket(Some("2001:db8:1:2:ffff::9")), address_bucket(Some("2001:db8:1:2::7")));
        assert_ne!(address_bucket(Some("2001:db8:1:3::1")), address_bucket(Some("2001:db8:1:2::1")));
        assert_eq!(address_bucket(Some("::ffff:203.0.113.9")), "203.0.113.9");
        assert_eq!(address_bucket(None), "unknown");
    }

    #[test]
    fn a_device_is_known_only_with_the_portals_signature() {
        let keys = Keys::from_secret("one");
        let header = |cookie: &str| {
            let mut h = HeaderMap::new();
            h.insert(axum::http::header::COOKIE, cookie.split(';').next().unwrap().parse().unwrap());
            h
        };
        let cookie = device_cookie(&keys, UserId(42), false);
        assert_eq!(known_device(&header(&cookie), &keys, false), Some(UserId(42)));
        assert_eq!(known_device(&header(&cookie), &Keys::from_secret("two"), false), None);
        assert_eq!(known_device(&header(&cookie.replacen("42.", "43.", 1)), &keys, false), None, "another account");
        assert!(device_cookie(&keys, UserId(42), true).starts_with("__Host-ndp_device="));
    }
}
