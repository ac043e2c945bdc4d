//! `AppError`, the one error type of request handlers, and how each error becomes a response.
//!
//! An error response carries an [`ErrorPage`] extension and no body; the `render_errors`
//! middleware (in `routes`) turns it into the HTML error page in the visitor's language, with the
//! request id. Server errors are logged once, here, inside the request's span.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Result of a handler.
pub type AppResult<T> = Result<T, AppError>;

/// What went wrong while answering a request.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The page or record does not exist.
    #[error("not found")]
    NotFound,
    /// The request could not be understood; the text is safe to show.
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// The page needs a signed-in account; the visitor is sent to sign in, then back to `next`.
    #[error("sign-in required")]
    SignInRequired {
        /// Where to return after signing in.
        next: String,
    },
    /// The page needs a second factor this session has not given (staff without TOTP set up).
    #[error("second factor required")]
    SecondFactorRequired,
    /// Signed in, but this account may not do this.
    #[error("forbidden")]
    Forbidden,
    /// The request conflicts with the current state; the key explains it to the visitor.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// Too many attempts; the key explains, the number is the seconds to wait.
    #[error("too many requests")]
    TooManyRequests(&'static str, u64),
    /// The server is too busy for this now; the key explains, the number is the seconds to wait.
    #[error("busy")]
    Busy(&'static str, u64),
    /// A database error.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Any other server-side failure.
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

impl From<crate::auth::password::PasswordError> for AppError {
    fn from(e: crate::auth::password::PasswordError) -> Self {
        match e {
            crate::auth::password::PasswordError::Busy(_) => Self::Busy("error.busy", 5),
            crate::auth::password::PasswordError::Failed(e) => Self::Internal(e),
        }
    }
}

impl From<tower_sessions::session::Error> for AppError {
    fn from(e: tower_sessions::session::Error) -> Self {
        Self::Internal(anyhow::Error::new(e))
    }
}

/// Marker put on error responses so the error-page middleware knows what to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorPage {
    /// The status the page is rendered with.
    pub status: StatusCode,
    /// A translation key for the explanation shown to the visitor.
    pub message_key: &'static str,
}

/// Named constraints whose violation a person can cause (two people at once, or a value taken
/// meanwhile), with the message shown; other violations are answered by their class below.
const CONSTRAINTS: [(&str, StatusCode, &str); 8] = [
    ("users_email_key", StatusCode::CONFLICT, "error.email_taken"),
    ("enterprises_tax_code_key", StatusCode::CONFLICT, "staff.tax_code_taken"),
    ("enterprises_slug_key", StatusCode::CONFLICT, "error.duplicate"),
    ("platforms_slug_key", StatusCode::CONFLICT, "error.duplicate"),
    ("ratings_platform_id_user_id_key", StatusCode::CONFLICT, "error.duplicate"),
    ("monthly_reports_platform_id_period_key", StatusCode::CONFLICT, "error.duplicate"),
    ("revisions_platform_id_open_key", StatusCode::CONFLICT, "listing.conflict_review"),
    ("appeals_target_type_target_id_key", StatusCode::CONFLICT, "opinions.already_appealed"),
];

/// How a violated constraint is answered: a named one from [`CONSTRAINTS`], else by the class of
/// its SQLSTATE (unique 23505 and foreign key 23503: 409; check 23514, not-null 23502 and too
/// long 22001: 422). `None` for anything that is not a constraint.
fn constraint_answer(code: Option<&str>, constraint: Option<&str>) -> Option<(StatusCode, &'static str)> {
    if let Some((_, status, key)) = CONSTRAINTS.iter().find(|(name, _, _)| Some(*name) == constraint) {
        return Some((*status, key));
    }
    match code? {
        "23505" => Some((StatusCode::CONFLICT, "error.duplicate")),
        "23503" => Some((StatusCode::CONFLICT, "error.reference")),
        "23514" | "23502" | "22001" => Some((StatusCode::UNPROCESSABLE_ENTITY, "error.bad_request")),
        _ => None,
    }
}

/// The answer to a database error that is a constraint violation.
fn violated(e: &sqlx::Error) -> Option<(StatusCode, &'static str)> {
    let db = e.as_database_error()?;
    constraint_answer(db.code().as_deref(), db.constraint())
}

impl AppError {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        if let Self::Database(e) = self
            && let Some((status, _)) = violated(e)
        {
            return status;
        }
        match self {
            Self::NotFound | Self::Database(sqlx::Error::RowNotFound) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::SignInRequired { .. } | Self::SecondFactorRequired => StatusCode::SEE_OTHER,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooManyRequests(..) => StatusCode::TOO_MANY_REQUESTS,
            Self::Busy(..) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(e) if is_unavailable(e) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn message_key(&self) -> &'static str {
        if let Self::Database(e) = self
            && let Some((_, key)) = violated(e)
        {
            return key;
        }
        match self {
            Self::Conflict(key) | Self::TooManyRequests(key, _) | Self::Busy(key, _) => return key,
            Self::Forbidden => return "error.forbidden",
            _ => {}
        }
        match self.status() {
            StatusCode::NOT_FOUND => "error.not_found",
            StatusCode::BAD_REQUEST => "error.bad_request",
            StatusCode::SERVICE_UNAVAILABLE => "error.unavailable",
            _ => "error.internal",
        }
    }
}

fn is_unavailable(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_))
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match &self {
            Self::SignInRequired { next } => {
                let query = serde_urlencoded::to_string([("next", next.as_str())]).unwrap_or_default();
                return axum::response::Redirect::to(&format!("/login?{query}")).into_response();
            }
            Self::SecondFactorRequired => return axum::response::Redirect::to("/account/security?required=1").into_response(),
            Self::TooManyRequests(_, secs) | Self::Busy(_, secs) => {
                let mut response = error_response(self.status(), self.message_key());
                if let Ok(value) = axum::http::HeaderValue::from_str(&secs.to_string()) {
                    response.headers_mut().insert(axum::http::header::RETRY_AFTER, value);
                }
                return response;
            }
            _ => {}
        }
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        } else if let Self::Database(e) = &self
            && let Some(db) = e.as_database_error()
        {
            tracing::info!(constraint = db.constraint().unwrap_or("-"), "request refused by a database constraint");
        }
        error_response(status, self.message_key())
    }
}

/// An empty response marked for the error-page middleware.
pub fn error_response(status: StatusCode, message_key: &'static str) -> Response {
    let mut response = status.into_response();
    response.extensions_mut().insert(ErrorPage { status, message_key });
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_the_right_status() {
        let cases = [
            (AppError::NotFound, StatusCode::NOT_FOUND),
            (AppError::Database(sqlx::Error::RowNotFound), StatusCode::NOT_FOUND),
            (AppError::BadRequest("x"), StatusCode::BAD_REQUEST),
            (AppError::Database(sqlx::Error::PoolTimedOut), StatusCode::SERVICE_UNAVAILABLE),
            (AppError::Internal(anyhow::anyhow!("boom")), StatusCode::INTERNAL_SERVER_ERROR),
        ];
        for (error, status) in cases {
            assert_eq!(error.status(), status, "{error}");
        }
    }

    #[test]
    fn constraint_violations_are_answered_by_name_then_by_class() {
        type Case<'a> = (Option<&'a str>, Option<&'a str>, Option<(StatusCode, &'a str)>, &'a str);
        let cases: [Case<'_>; 6] = [
            (Some("23505"), Some("users_email_key"), Some((StatusCode::CONFLICT, "error.email_taken")), "a named unique constraint"),
            (Some("23505"), Some("news_slug_key"), Some((StatusCode::CONFLICT, "error.duplicate")), "another unique constraint"),
            (Some("23503"), Some("ratings_platform_id_fkey"), Some((StatusCode::CONFLICT, "error.reference")), "a foreign key"),
            (Some("23514"), Some("ratings_stars_check"), Some((StatusCode::UNPROCESSABLE_ENTITY, "error.bad_request")), "a check"),
            (Some("22001"), None, Some((StatusCode::UNPROCESSABLE_ENTITY, "error.bad_request")), "a value too long"),
            (Some("40001"), None, None, "a serialisation failure is not the visitor's doing"),
        ];
        for (code, constraint, expected, why) in cases {
            assert_eq!(constraint_answer(code, constraint), expected, "{why}");
        }
    }

    #[tokio::test]
    async fn error_responses_carry_the_page_marker_and_no_cause() {
        let response = AppError::Internal(anyhow::anyhow!("secret cause")).into_response();
        let page = response.extensions().get::<ErrorPage>().copied().unwrap();
        assert_eq!(page.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(page.message_key, "error.internal");
        let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
        assert!(body.is_empty(), "the page is rendered later from the marker alone, so the cause cannot reach it");
    }
}
