//! What every form page shares: field errors (with the summary at the top of the form), and the
//! answers a form handler gives (the page again with 422, or a 303 redirect).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::domain::account::Invalid;

/// Errors of a submitted form, by field name; each message is a translation key.
#[derive(Debug, Clone, Default)]
pub struct FormErrors(Vec<(&'static str, &'static str)>);

impl FormErrors {
    /// No errors.
    pub fn new() -> Self {
        Self::default()
    }

    /// Errors from a validation result list.
    pub fn from_list(list: Vec<(&'static str, &'static str)>) -> Self {
        Self(list)
    }

    /// Adds an error.
    pub fn add(&mut self, field: &'static str, key: &'static str) {
        self.0.push((field, key));
    }

    /// Records the outcome of a field check; gives the value when it passed.
    pub fn check<T>(&mut self, field: &'static str, result: Result<T, Invalid>) -> Option<T> {
        result.map_err(|e| self.add(field, e.message_key())).ok()
    }

    /// Whether nothing was refused.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The message key of `field`'s first error.
    pub fn of(&self, field: &str) -> Option<&'static str> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, k)| *k)
    }

    /// Whether `field` has an error.
    pub fn has(&self, field: &str) -> bool {
        self.of(field).is_some()
    }

    /// All errors, for the summary.
    pub fn all(&self) -> &[(&'static str, &'static str)] {
        &self.0
    }
}

/// The form page again, with status 422 (Unprocessable Content).
pub fn invalid(page: impl IntoResponse) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
}

/// A 303 redirect after a successful POST.
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// `response` with a `Set-Cookie` header added.
pub fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = axum::http::HeaderValue::from_str(cookie) {
        response.headers_mut().append(axum::http::header::SET_COOKIE, value);
    }
    response
}

/// A `next` parameter that stays on this site (a path, not `//host` or a URL).
pub fn safe_next(next: &str) -> String {
    let ok = next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') && !next.chars().any(char::is_control);
    if ok { next.to_owned() } else { "/account".to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next("/account/platforms"), "/account/platforms");
        for bad in ["https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)", ""] {
            assert_eq!(safe_next(bad), "/account", "{bad}");
        }
    }
}
