//! Who is asking: the signed-in account (reloaded from the database on every request, so a
//! disabled account or a changed role takes effect at once) and the role guards built on it.

use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use sqlx::PgPool;
use tower_sessions::Session;

use crate::auth::AuthSession;
use crate::db::audit::Actor;
use crate::db::ids::UserId;
use crate::db::users::{self, UserRow};
use crate::domain::account::{Role, Status};
use crate::error::AppError;

/// A signed-in, usable account.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// The stored account.
    pub row: UserRow,
    /// Its role.
    pub role: Role,
    /// Its status (`pending` or `active`; others cannot be signed in).
    pub status: Status,
    /// The sign-in record.
    pub auth: AuthSession,
    /// The session, for privilege changes and sign-out.
    pub session: Session,
    /// Who this is in the audit log.
    pub actor: Actor,
}

impl CurrentUser {
    /// The account id.
    pub fn id(&self) -> UserId {
        self.row.id
    }

    /// Whether the email address was verified.
    pub fn verified(&self) -> bool {
        self.row.email_verified_at.is_some()
    }

    /// Whether TOTP is switched on.
    pub fn totp_enabled(&self) -> bool {
        self.row.totp_enabled_at.is_some()
    }
}

/// The address of the client that made the request, as far as the portal can tell: the TCP
/// peer, or behind trusted proxies the address they saw (set by `routes::edge::find_client`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::IpAddr);

/// The client address, as text for the audit log and the throttle keys.
pub fn client_addr(parts: &Parts) -> Option<String> {
    parts.extensions.get::<ClientAddr>().map(|c| c.0.to_string())
}

/// The request id set by the request-id layer.
pub fn request_id(parts: &Parts) -> Option<String> {
    parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn sign_in_required(parts: &Parts) -> AppError {
    let next = parts.uri.path_and_query().map_or("/account", |p| p.as_str()).to_owned();
    AppError::SignInRequired { next }
}

async fn load<S>(parts: &mut Parts, state: &S) -> Result<Option<CurrentUser>, AppError>
where
    S: Send + Sync,
    PgPool: FromRef<S>,
{
    let Some(session) = parts.extensions.get::<Session>().cloned() else { return Ok(None) };
    let Some(auth) = AuthSession::current(&session).await else { return Ok(None) };
    let pool = PgPool::from_ref(state);
    let Some(row) = users::find(&pool, auth.user_id).await? else {
        AuthSession::end(&session).await?;
        return Ok(None);
    };
    let (role, status) = (row.role, row.status);
    let revoked = row.sessions_valid_after.is_some_and(|after| auth.predates(after));
    if matches!(status, Status::Disabled | Status::Deleted) || revoked {
        AuthSession::end(&session).await?;
        return Ok(None);
    }
    let actor = Actor { id: Some(row.id), label: row.email.clone(), addr: client_addr(parts), request_id: request_id(parts) };
    Ok(Some(CurrentUser { row, role, status, auth, session, actor }))
}

impl<S> FromRequestParts<S> for CurrentUser
where
    S: Send + Sync,
    PgPool: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        load(parts, state).await?.ok_or_else(|| sign_in_required(parts))
    }
}

impl<S> OptionalFromRequestParts<S> for CurrentUser
where
    S: Send + Sync,
    PgPool: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, Self::Rejection> {
        load(parts, state).await
    }
}

/// An approved enterprise account and the enterprise it acts for.
#[derive(Debug, Clone)]
pub struct EnterpriseUser {
    /// The account.
    pub user: CurrentUser,
    /// Its enterprise.
    pub enterprise_id: i64,
}

impl<S> FromRequestParts<S> for EnterpriseUser
where
    S: Send + Sync,
    PgPool: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = <CurrentUser as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        match (user.role, user.status, user.row.enterprise_id) {
            (Role::Enterprise, Status::Active, Some(enterprise_id)) => Ok(Self { user, enterprise_id }),
            _ => Err(AppError::Forbidden),
        }
    }
}

/// Staff who pass `allowed` and have given their second factor in this session.
async fn staff<S>(parts: &mut Parts, state: &S, allowed: fn(Role) -> bool) -> Result<CurrentUser, AppError>
where
    S: Send + Sync,
    PgPool: FromRef<S>,
{
    let user = <CurrentUser as FromRequestParts<S>>::from_request_parts(parts, state).await?;
    if !allowed(user.role) || user.status != Status::Active {
        return Err(AppError::Forbidden);
    }
    if !user.auth.second_factor {
        return Err(AppError::SecondFactorRequired);
    }
    Ok(user)
}

/// Defines a staff extractor: a [`CurrentUser`] whose role passes `$allowed` and who has given
/// the second factor in this session.
macro_rules! staff_extractor {
    ($(#[$doc:meta])* $name:ident, $allowed:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub CurrentUser);

        impl<S> FromRequestParts<S> for $name
        where
            S: Send + Sync,
            PgPool: FromRef<S>,
        {
            type Rejection = AppError;

            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
                staff(parts, state, $allowed).await.map(Self)
            }
        }
    };
}

staff_extractor!(
    /// A moderator or admin (second factor given).
    Moderator,
    Role::can_moderate
);
staff_extractor!(
    /// Any staff member: moderator, evaluator or admin (second factor given).
    Staff,
    Role::is_staff
);
staff_extractor!(
    /// An admin (second factor given).
    Admin,
    |r| r == Role::Admin
);
