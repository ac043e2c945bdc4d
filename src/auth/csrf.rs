//! The CSRF guard, in front of every route. An unsafe request (anything but GET, HEAD, OPTIONS)
//! must come from this site (Fetch-Metadata, then Origin) and carry the CSRF token in a
//! `csrf_token` field, whatever its content type: in a URL-encoded form anywhere in the body, in a
//! multipart form as the first part (only routes that take uploads accept multipart at all). Any
//! other content type is answered 415.
//!
//! The token is the session's when there is a session with one (every signed-in session has);
//! otherwise an anonymous visitor's token lives in a cookie signed with the portal's key, so that
//! showing a sign-in or registration form creates no database session. Pages carry the token
//! masked with a fresh random pad per response, so compressing a page that also reflects input
//! cannot reveal it.

use std::sync::{Arc, OnceLock};

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::{Cookie, SameSite};
use base64::Engine as _;
use futures_util::StreamExt as _;
use rand::RngCore as _;
use tower_sessions::Session;

use crate::auth::Keys;
use crate::error::error_response;
use crate::state::AppState;

/// Largest URL-encoded form accepted.
pub const FORM_LIMIT: usize = 256 * 1024;

/// Routes that take multipart bodies (uploads); everywhere else multipart is refused (415).
const MULTIPART_ROUTES: [&str; 1] = ["/account/platforms/{slug}/logo"];

/// The anonymous token's cookie (with the `__Host-` prefix when the portal is served over https).
const ANON_COOKIE: &str = "ndp_csrf";
const ANON_COOKIE_HTTPS: &str = "__Host-ndp_csrf";

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The anonymous visitor's token for this request: the one in their signed cookie, or one issued
/// when a form page needs it (the guard then sets the cookie on the response).
#[derive(Debug, Clone, Default)]
pub struct AnonToken {
    existing: Option<String>,
    issued: Arc<OnceLock<String>>,
}

impl AnonToken {
    /// The visitor's token, if they have one.
    pub fn existing(&self) -> Option<&str> {
        self.existing.as_deref()
    }

    /// The visitor's token, issuing one if they have none.
    pub fn get_or_issue(&self) -> String {
        match &self.existing {
            Some(token) => token.clone(),
            None => self.issued.get_or_init(crate::auth::token::random_token).clone(),
        }
    }
}

fn forbidden() -> Response {
    error_response(StatusCode::FORBIDDEN, "error.csrf")
}

fn route(req: &Request) -> &str {
    req.extensions().get::<MatchedPath>().map_or("(no route)", MatchedPath::as_str)
}

/// The middleware.
pub async fn guard(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let https = state.config.is_https();
    let anon = AnonToken { existing: read_anon_cookie(req.headers(), &state.keys, https), issued: Arc::default() };
    req.extensions_mut().insert(anon.clone());
    let mut response = if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        next.run(req).await
    } else {
        check_unsafe(req, anon.existing.clone(), next, state.config.base_url.as_deref()).await
    };
    if let Some(token) = anon.issued.get() {
        let cookie = anon_cookie(&state.keys, token, https);
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

async fn check_unsafe(req: Request, anon: Option<String>, next: Next, base_url: Option<&str>) -> Response {
    if !same_origin(&req, base_url) {
        tracing::warn!(route = route(&req), "cross-site unsafe request refused");
        return forbidden();
    }
    let session_token = match req.extensions().get::<Session>() {
        Some(session) => crate::auth::session::csrf_token(session).await,
        None => None,
    };
    let expected = session_token.or(anon);
    // Only the media type is compared without case: a multipart boundary is case-sensitive.
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let media_type = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let checked = if media_type == "application/x-www-form-urlencoded" {
        check_form(req, expected.as_deref()).await
    } else if media_type == "multipart/form-data" && MULTIPART_ROUTES.contains(&route(&req)) {
        check_multipart(req, &content_type, expected.as_deref()).await
    } else {
        Err(error_response(StatusCode::UNSUPPORTED_MEDIA_TYPE, "error.bad_request"))
    };
    match checked {
        Ok(req) => next.run(req).await,
        Err(response) => response,
    }
}

/// A URL-encoded form: the token anywhere among the fields; no NUL anywhere.
async fn check_form(req: Request, expected: Option<&str>) -> Result<Request, Response> {
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, FORM_LIMIT).await {
        Ok(bytes) => bytes,
        Err(e) if is_too_large(&e) => return Err(error_response(StatusCode::PAYLOAD_TOO_LARGE, "error.too_large")),
        // The body stopped arriving (see `server::BODY_IDLE_TIMEOUT`) or the connection broke.
        Err(_) => return Err(error_response(StatusCode::REQUEST_TIMEOUT, "error.body_timeout")),
    };
    let pairs = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes).unwrap_or_default();
    if pairs.iter().any(|(k, v)| k.contains('\0') || v.contains('\0')) {
        // PostgreSQL text cannot hold NUL, and no form field legitimately carries one.
        return Err(error_response(StatusCode::BAD_REQUEST, "error.bad_request"));
    }
    let sent = pairs.into_iter().find(|(k, _)| k == "csrf_token").map(|(_, v)| v);
    if !matches(expected, sent.as_deref()) {
        tracing::warn!(
            route = parts.extensions.get::<MatchedPath>().map_or("(no route)", MatchedPath::as_str),
            "missing or wrong CSRF token"
        );
        return Err(forbidden());
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// Whether reading a body failed because it was over a size limit.
fn is_too_large(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// A multipart form: the first part must be the token. The bytes read to find it are put back in
/// front of the rest of the body, which the handler then streams as usual.
async fn check_multipart(req: Request, content_type: &str, expected: Option<&str>) -> Result<Request, Response> {
    let Ok(boundary) = multer::parse_boundary(content_type) else {
        return Err(error_response(StatusCode::BAD_REQUEST, "error.bad_request"));
    };
    let (parts, body) = req.into_parts();
    let mut data = body.into_data_stream();
    let mut seen: Vec<u8> = Vec::new();
    let sent = {
        let recording = (&mut data).inspect(|chunk| {
            if let Ok(bytes) = chunk {
                seen.extend_from_slice(bytes);
            }
        });
        let limits = multer::Constraints::new().size_limit(multer::SizeLimit::new().for_field("csrf_token", 512));
        let mut multipart = multer::Multipart::with_constraints(recording, boundary, limits);
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("csrf_token") => field.text().await.ok(),
            _ => None,
        }
    };
    if !matches(expected, sent.as_deref()) {
        tracing::warn!(
            route = parts.extensions.get::<MatchedPath>().map_or("(no route)", MatchedPath::as_str),
            "missing or wrong CSRF token in a multipart form"
        );
        return Err(forbidden());
    }
    let rest = futures_util::stream::once(std::future::ready(Ok::<_, axum::Error>(Bytes::from(seen)))).chain(data);
    Ok(Request::from_parts(parts, Body::from_stream(rest)))
}

/// Whether the masked token `sent` is `expected`.
fn matches(expected: Option<&str>, sent: Option<&str>) -> bool {
    match (expected, sent.and_then(unmask)) {
        (Some(expected), Some(sent)) => crate::auth::token::same(expected, &sent),
        _ => false,
    }
}

/// The token as a page carries it: a random pad and the token XOR the pad, so its bytes differ
/// in every response.
pub fn mask(token: &str) -> String {
    let Ok(raw) = B64.decode(token) else { return String::new() };
    let mut pad = vec![0u8; raw.len()];
    rand::rng().fill_bytes(&mut pad);
    let masked: Vec<u8> = pad.iter().zip(&raw).map(|(p, t)| p ^ t).collect();
    pad.extend_from_slice(&masked);
    B64.encode(pad)
}

fn unmask(sent: &str) -> Option<String> {
    let bytes = B64.decode(sent.trim()).ok()?;
    if bytes.is_empty() || bytes.len() % 2 != 0 {
        return None;
    }
    let (pad, masked) = bytes.split_at(bytes.len() / 2);
    let raw: Vec<u8> = pad.iter().zip(masked).map(|(p, m)| p ^ m).collect();
    Some(B64.encode(raw))
}

fn anon_cookie_name(https: bool) -> &'static str {
    if https { ANON_COOKIE_HTTPS } else { ANON_COOKIE }
}

fn anon_signature(keys: &Keys, token: &str) -> String {
    keys.mac("csrf cookie", token.as_bytes())
}

/// The `Set-Cookie` value carrying an anonymous token with its signature.
fn anon_cookie(keys: &Keys, token: &str, https: bool) -> String {
    let value = format!("{token}.{}", anon_signature(keys, token));
    Cookie::build((anon_cookie_name(https), value)).path("/").http_only(true).secure(https).same_site(SameSite::Lax).build().to_string()
}

/// The anonymous token in the request's cookie, when its signature is the portal's.
fn read_anon_cookie(headers: &HeaderMap, keys: &Keys, https: bool) -> Option<String> {
    let jar = axum_extra::extract::cookie::CookieJar::from_headers(headers);
    let (token, signature) = jar.get(anon_cookie_name(https))?.value().split_once('.').map(|(t, s)| (t.to_owned(), s.to_owned()))?;
    crate::auth::token::same(&anon_signature(keys, &token), &signature).then_some(token)
}

/// Fetch-Metadata first (browsers send it on every request since 2023); when absent, Origin must
/// be the portal's own (the base URL, or this request's Host, which `routes::edge` has checked
/// against the base URL). A request with neither header is let through here: it cannot be a
/// browser's cross-site request, and the token still applies.
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
    fn a_masked_token_differs_every_time_and_unmasks_to_the_token() {
        let token = crate::auth::token::random_token();
        let (a, b) = (mask(&token), mask(&token));
        assert_ne!(a, b, "a fresh pad per response");
        assert!(!a.contains(&token));
        assert!(matches(Some(&token), Some(&a)) && matches(Some(&token), Some(&b)));
        assert!(!matches(Some(&token), Some(&token)), "the bare token is not a masked one");
        assert!(!matches(Some(&token), Some(&mask(&crate::auth::token::random_token()))));
        assert!(!matches(None, Some(&a)) && !matches(Some(&token), None) && !matches(Some(&token), Some("!!")));
    }

    #[test]
    fn the_anonymous_cookie_is_believed_only_with_the_portals_signature() {
        let keys = Keys::from_secret("one");
        let token = crate::auth::token::random_token();
        let headers = |cookie: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::COOKIE, HeaderValue::from_str(cookie.split(';').next().unwrap()).unwrap());
            h
        };
        let cookie = anon_cookie(&keys, &token, false);
        assert_eq!(read_anon_cookie(&headers(&cookie), &keys, false), Some(token.clone()));
        assert_eq!(read_anon_cookie(&headers(&cookie), &Keys::from_secret("two"), false), None, "another key");
        assert_eq!(read_anon_cookie(&headers(&format!("ndp_csrf={token}.00")), &keys, false), None, "a forged signature");
        assert!(anon_cookie(&keys, &token, true).starts_with("__Host-ndp_csrf=") && anon_cookie(&keys, &token, true).contains("Secure"));
    }
}
