//! The CSRF guard, in front of every route: an unsafe request (anything but GET, HEAD, OPTIONS)
//! must come from this site (Fetch-Metadata, then Origin) and carry the session's token in the
//! `csrf_token` form field. Multipart forms (uploads) are checked by their handler through
//! [`check_token`] before any file is read, since reading the body here would buffer the file.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use tower_sessions::Session;

use crate::error::error_response;
use crate::state::AppState;

/// Largest URL-encoded form accepted.
pub const FORM_LIMIT: usize = 256 * 1024;

fn forbidden() -> Response {
    error_response(StatusCode::FORBIDDEN, "error.csrf")
}

/// The middleware.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    if !same_origin(&req, state.config.base_url.as_deref()) {
        tracing::warn!(path = %req.uri().path(), "cross-site unsafe request refused");
        return forbidden();
    }
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        return next.run(req).await;
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return error_response(StatusCode::UNSUPPORTED_MEDIA_TYPE, "error.bad_request");
    }
    let Some(session) = req.extensions().get::<Session>().cloned() else { return forbidden() };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, FORM_LIMIT).await else {
        return error_response(StatusCode::PAYLOAD_TOO_LARGE, "error.too_large");
    };
    if form_urlencoded_pairs(&bytes).iter().any(|(k, v)| k.contains('\0') || v.contains('\0')) {
        // PostgreSQL text cannot hold NUL, and no form field legitimately carries one.
        return error_response(StatusCode::BAD_REQUEST, "error.bad_request");
    }
    let sent = form_field(&bytes, "csrf_token");
    if !check_token(&session, sent.as_deref()).await {
        tracing::warn!(path = %parts.uri.path(), "missing or wrong CSRF token");
        return forbidden();
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// Whether `sent` is this session's CSRF token.
pub async fn check_token(session: &Session, sent: Option<&str>) -> bool {
    match (crate::auth::session::csrf_token(session).await, sent) {
        (Some(expected), Some(sent)) => crate::auth::token::same(&expected, sent),
        _ => false,
    }
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    form_urlencoded_pairs(body).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn form_urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).unwrap_or_default()
}

/// Fetch-Metadata first (browsers send it on every request since 2023); when absent, Origin must
/// be the portal's own (the base URL, or this request's Host). A request with neither header is
/// let through here: it cannot be a browser's cross-site request, and the token still applies.
fn same_origin(req: &Request, base_url: Option<&str>) -> bool {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return true };
    if base_url.is_some_and(|b| b.eq_ignore_ascii_case(origin)) {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let origin_host = origin.split_once("://").map_or("", |(_, rest)| rest);
    !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)]) -> Request {
        let mut builder = Request::builder().method("POST").uri("/login");
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        builder.body(Body::empty()).unwrap()
    }

    #[test]
    fn cross_site_requests_are_recognised() {
        type Case<'a> = (&'a [(&'a str, &'a str)], bool, &'a str);
        let cases: [Case<'_>; 7] = [
            (&[("sec-fetch-site", "same-origin")], true, "same origin by Fetch-Metadata"),
            (&[("sec-fetch-site", "cross-site"), ("origin", "http://portal.vn"), ("host", "portal.vn")], false, "Fetch-Metadata wins"),
            (&[("sec-fetch-site", "same-site")], false, "a sibling subdomain is not trusted"),
            (&[("origin", "http://portal.vn"), ("host", "portal.vn")], true, "Origin matches Host"),
            (&[("origin", "http://evil.example"), ("host", "portal.vn")], false, "foreign Origin"),
            (&[("origin", "null"), ("host", "portal.vn")], false, "opaque Origin"),
            (&[], true, "no browser headers: the token decides"),
        ];
        for (headers, expected, why) in cases {
            assert_eq!(same_origin(&request(headers), None), expected, "{why}");
        }
        assert!(same_origin(&request(&[("origin", "https://ndp.gov.vn"), ("host", "10.0.0.5:8080")]), Some("https://ndp.gov.vn")));
    }

    #[test]
    fn the_token_field_is_found_among_others() {
        assert_eq!(form_field(b"email=a%40b.vn&csrf_token=abc%2Bd&x=1", "csrf_token").as_deref(), Some("abc+d"));
        assert_eq!(form_field(b"email=a", "csrf_token"), None);
        assert_eq!(form_field(b"\xff\xfe", "csrf_token"), None);
    }
}
