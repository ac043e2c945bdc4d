//! What the server-side session holds: the sign-in record and the CSRF token.
//!
//! Sessions live in PostgreSQL (tower-sessions' store). The cookie is HttpOnly, SameSite=Lax and
//! Secure when the base URL is https; a session ends after [`IDLE`] without requests or
//! [`ABSOLUTE`] after sign-in, whichever comes first. The id changes at sign-in and whenever the
//! session gains privilege (second factor passed, role changed by the user's own action).

use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::db::ids::UserId;
use crate::domain::account::Role;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "ndp_session";
/// A session ends after this long without a request.
pub const IDLE: time::Duration = time::Duration::hours(2);
/// A sign-in lasts at most this long.
pub const ABSOLUTE: time::Duration = time::Duration::hours(12);

const AUTH_KEY: &str = "auth";
const PENDING_KEY: &str = "pending_second_factor";
const CSRF_KEY: &str = "csrf";
const FLASH_KEY: &str = "flash";
const TOTP_SETUP_KEY: &str = "totp_setup";

/// A TOTP secret being set up lives this long, in this session only.
pub const TOTP_SETUP_SECS: i64 = 15 * 60;

/// The sign-in record kept in the session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthSession {
    /// The account.
    pub user_id: UserId,
    /// Unix time of sign-in in milliseconds, for the absolute timeout and revocation.
    pub signed_in_ms: i64,
    /// Whether a TOTP code or recovery code was given in this session.
    pub second_factor: bool,
    /// Name shown in the header (refreshed at sign-in).
    pub display_name: String,
    /// Role at sign-in, for the header's links only; every check reloads the account.
    pub role: Role,
}

/// A password accepted, waiting for the second factor.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingSecondFactor {
    /// The account.
    pub user_id: UserId,
    /// Unix time the password was accepted; the code must follow within minutes.
    pub at: i64,
    /// Where to go afterwards.
    pub next: String,
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

impl AuthSession {
    /// The current sign-in, if any and not past the absolute timeout.
    pub async fn current(session: &Session) -> Option<Self> {
        let auth: Self = session.get(AUTH_KEY).await.ok().flatten()?;
        auth.is_fresh(now_ms()).then_some(auth)
    }

    /// Whether the sign-in is younger than the absolute timeout at `now_ms` (Unix milliseconds).
    fn is_fresh(&self, now_ms: i64) -> bool {
        now_ms - self.signed_in_ms < i64::try_from(ABSOLUTE.whole_milliseconds()).unwrap_or(i64::MAX)
    }

    /// Whether the sign-in happened before `moment` (a password change signs such sessions out).
    pub fn predates(&self, moment: time::OffsetDateTime) -> bool {
        i128::from(self.signed_in_ms) < moment.unix_timestamp_nanos() / 1_000_000
    }

    /// Signs in: new session id, new CSRF token, the sign-in record.
    pub async fn begin(session: &Session, auth: Self) -> anyhow::Result<()> {
        session.cycle_id().await?;
        if session.get_value(PENDING_KEY).await?.is_some() {
            session.remove_value(PENDING_KEY).await?;
        }
        session.insert(CSRF_KEY, crate::auth::token::random_token()).await?;
        session.insert(AUTH_KEY, auth).await?;
        Ok(())
    }

    /// A new record for `user_id`, signed in now.
    pub fn new(user_id: UserId, display_name: &str, role: Role, second_factor: bool) -> Self {
        Self { user_id, signed_in_ms: now_ms(), second_factor, display_name: display_name.to_owned(), role }
    }

    /// Marks the second factor as given (a privilege change: the session id changes).
    pub async fn upgrade(session: &Session, mut auth: Self) -> anyhow::Result<()> {
        auth.second_factor = true;
        session.cycle_id().await?;
        session.insert(AUTH_KEY, auth).await?;
        Ok(())
    }

    /// Signs out: the session is deleted from the store and the cookie cleared.
    pub async fn end(session: &Session) -> anyhow::Result<()> {
        session.flush().await?;
        Ok(())
    }
}

impl PendingSecondFactor {
    /// Records that the password was accepted (session id changes: it is a step up).
    pub async fn begin(session: &Session, user_id: UserId, next: String) -> anyhow::Result<()> {
        session.cycle_id().await?;
        session.insert(PENDING_KEY, Self { user_id, at: now(), next }).await?;
        Ok(())
    }

    /// The pending sign-in, if it is under ten minutes old.
    pub async fn current(session: &Session) -> Option<Self> {
        let pending: Self = session.get(PENDING_KEY).await.ok().flatten()?;
        (now() - pending.at < 600).then_some(pending)
    }
}

/// A TOTP secret offered for set-up, sealed with the portal's key, and when it was made.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TotpSetup {
    sealed: String,
    at: i64,
}

/// The sealed TOTP secret this session is setting up, if it is younger than [`TOTP_SETUP_SECS`].
pub async fn totp_setup(session: &Session) -> Option<String> {
    let setup: TotpSetup = session.get(TOTP_SETUP_KEY).await.ok().flatten()?;
    (now() - setup.at < TOTP_SETUP_SECS).then_some(setup.sealed)
}

/// Starts a TOTP set-up in this session with a new sealed secret (replacing any earlier one).
pub async fn begin_totp_setup(session: &Session, sealed: String) -> anyhow::Result<()> {
    session.insert(TOTP_SETUP_KEY, TotpSetup { sealed, at: now() }).await?;
    Ok(())
}

/// Ends the TOTP set-up of this session.
pub async fn end_totp_setup(session: &Session) -> anyhow::Result<()> {
    session.remove_value(TOTP_SETUP_KEY).await?;
    Ok(())
}

/// The session's CSRF token, if it has one.
pub async fn csrf_token(session: &Session) -> Option<String> {
    session.get::<String>(CSRF_KEY).await.ok().flatten()
}

/// Leaves a one-time message (a translation key) for the next page.
pub async fn set_flash(session: &Session, key: &str) -> anyhow::Result<()> {
    session.insert(FLASH_KEY, key).await?;
    Ok(())
}

/// Takes the one-time message, if any.
pub async fn take_flash(session: &Session) -> Option<String> {
    // Look first: removing marks the session modified, which would write it back to the store.
    session.get::<String>(FLASH_KEY).await.ok().flatten()?;
    session.remove::<String>(FLASH_KEY).await.ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sign_in_lasts_twelve_hours_at_most() {
        let auth = AuthSession { signed_in_ms: 1_000_000_000, ..AuthSession::new(UserId(1), "A", Role::Citizen, false) };
        assert!(auth.is_fresh(1_000_000_000 + 11 * 3_600_000));
        assert!(!auth.is_fresh(1_000_000_000 + 12 * 3_600_000));
        assert!(auth.predates(time::OffsetDateTime::from_unix_timestamp(1_000_001).unwrap()));
        assert!(!auth.predates(time::OffsetDateTime::from_unix_timestamp(999_999).unwrap()));
    }
}
