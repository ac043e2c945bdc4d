//! Sign-in throttling. Each attempt at a password or a second factor is counted, before it is
//! checked, against three keys:
//!
//! - the account name typed and the client address together ([`PAIR_FREE`] failures allowed),
//! - the client address, whatever account it names ([`ADDRESS_FREE`]),
//! - the account name, from anywhere ([`ACCOUNT_FREE`], much higher: typing someone's address a
//!   few times must not lock them out).
//!
//! A key over its allowance is locked for 1, 2, 4, 8, then 15 minutes. Counting and checking are
//! one database statement, so parallel attempts cannot all pass one check. A success forgets the
//! account's own keys and gives the attempt back to the address (whose other failures stay). The
//! lock of a whole account does not stop an account with a second factor from an address that has
//! not failed: a password alone does not let anyone in there, and staff must always be able to
//! sign in.

use crate::db::audit::{self, Actor, Event};
use crate::db::users::{self, Attempt};
use crate::error::{AppError, AppResult};

/// Failures within this window count together.
pub const WINDOW: time::Duration = time::Duration::minutes(15);
/// Failures allowed for one account name from one address.
pub const PAIR_FREE: i32 = 5;
/// Failures allowed from one address.
pub const ADDRESS_FREE: i32 = 20;
/// Failures allowed for one account name from all addresses.
pub const ACCOUNT_FREE: i32 = 50;

/// The throttle keys of one kind of attempt by one client.
#[derive(Debug, Clone)]
pub struct AttemptKeys {
    pair: String,
    address: String,
    account: String,
}

impl AttemptKeys {
    /// Keys of a password attempt for the account name `email` as typed.
    pub fn password(email: &str, addr: Option<&str>) -> Self {
        let name = email.trim().to_lowercase();
        let addr = addr.unwrap_or("unknown");
        Self { pair: format!("pair:{name}|{addr}"), address: format!("ip:{addr}"), account: format!("account:{name}") }
    }

    /// Keys of a second-factor attempt (TOTP or recovery code) for account `user_id`.
    pub fn second_factor(user_id: i64, addr: Option<&str>) -> Self {
        let addr = addr.unwrap_or("unknown");
        Self { pair: format!("totp-pair:{user_id}|{addr}"), address: format!("ip:{addr}"), account: format!("totp:{user_id}") }
    }

    fn all(&self) -> [(String, i32); 3] {
        [(self.pair.clone(), PAIR_FREE), (self.address.clone(), ADDRESS_FREE), (self.account.clone(), ACCOUNT_FREE)]
    }

    /// Counts an attempt, or refuses it (429 with the wait) while a key is locked. With
    /// `has_second_factor`, the account-wide lock does not refuse an address that has not failed.
    pub async fn count(&self, pool: &sqlx::PgPool, has_second_factor: bool, actor: &Actor) -> AppResult<()> {
        let soft = has_second_factor.then_some((self.account.as_str(), self.pair.as_str()));
        match users::login_attempt(pool, &self.all(), WINDOW, soft).await? {
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
        for key in users::login_succeeded(pool, &cleared, &[(self.address.clone(), ADDRESS_FREE)]).await? {
            let kind = kind_of(&key);
            tracing::info!(throttle.kind = kind, "sign-in lock cleared by a successful sign-in");
            audit::record(pool, actor, Event::new("login.unlocked", "throttle", kind)).await?;
        }
        Ok(())
    }
}

/// The kind of a key (`pair`, `ip`, `account`, …), never the account name or address in it.
fn kind_of(key: &str) -> &str {
    key.split(':').next().unwrap_or("key")
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
        assert_eq!(AttemptKeys::second_factor(7, None).account, "totp:7");
        assert_eq!(kind_of(&keys.pair), "pair");
    }
}
