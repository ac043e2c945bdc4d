//! THE route table of the portal, and the layers every request passes through.

mod account;
mod auth;
mod catalogue;
mod content;
mod directory;
mod edge;
mod form;
mod home;
mod listings;
mod moderation;
mod opinions;
mod ops;
mod platform_page;
mod qa;
mod reports;
mod search;
mod staff;
mod view;

use std::time::Duration;

use askama::Template;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};
use tower_http::trace::TraceLayer;

use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;

use crate::error::{ErrorPage, error_response};
use crate::extract::Layout;
use crate::i18n::{LANG_COOKIE, Lang};
use crate::state::AppState;

/// Largest request body accepted anywhere: a logo upload (1 MB) with its form. URL-encoded forms
/// are held to `csrf::FORM_LIMIT`.
const BODY_LIMIT: usize = 1024 * 1024 + 64 * 1024;

/// Content-Security-Policy: no inline scripts or styles, nothing from other origins.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Builds the whole application: routes, then layers.
pub fn app(state: AppState) -> Router {
    let timeout = Duration::from_secs(state.config.request_timeout_secs);
    let secure_cookies = state.config.is_https();
    let hsts = secure_cookies.then(|| security_header(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000"));
    let config = state.config.clone();
    let sessions = SessionManagerLayer::new(PostgresStore::new(state.pool.clone()))
        .with_name(crate::auth::SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(tower_sessions::cookie::SameSite::Lax)
        .with_secure(secure_cookies)
        .with_expiry(Expiry::OnInactivity(crate::auth::session::IDLE));
    let csrf_guard = middleware::from_fn_with_state(state.clone(), crate::auth::csrf::guard);
    Router::new()
        .route("/", get(home::show_home))
        .route("/platforms", get(catalogue::list_platforms))
        .route("/platforms/{slug}", get(platform_page::show_platform))
        .route("/search", get(search::search))
        .route("/search/suggest", get(search::suggest))
        .route("/search/about", get(search::about))
        .route("/agencies", get(directory::list_agencies))
        .route("/agencies/{slug}", get(directory::show_agency))
        .route("/enterprises", get(directory::list_enterprises))
        .route("/enterprises/{slug}", get(directory::show_enterprise))
        .route("/documents", get(content::list_documents))
        .route("/documents/{slug}", get(content::show_document))
        .route("/news", get(content::list_news))
        .route("/news/{slug}", get(content::show_news))
        .route("/recognitions", get(content::list_recognitions))
        .route("/recognitions/{slug}", get(content::show_recognition))
        .route("/platforms/{slug}/history", get(listings::platform_history))
        .route("/platforms/{slug}/ratings", post(opinions::rate_platform))
        .route("/platforms/{slug}/ratings/withdraw", post(opinions::withdraw_rating))
        .route("/platforms/{slug}/feedback", post(opinions::send_feedback))
        .route("/flags/{kind}/{id}", post(opinions::flag_item))
        .route("/account/appeals/{kind}/{id}", post(opinions::appeal_item))
        .route("/account/replies/{kind}/{id}", post(opinions::reply_item))
        .route("/account/opinions", get(moderation::opinions_about_us))
        .route("/staff/moderation", get(moderation::list_queue))
        .route("/staff/moderation/{kind}/{id}", get(moderation::show_item).post(moderation::decide_item))
        .route("/staff/blocklist", get(moderation::list_terms).post(moderation::change_terms))
        .route("/moderation-report", get(moderation::public_report))
        .route("/qa", get(qa::list_questions))
        .route("/qa/ask", get(qa::ask_form).post(qa::ask_question))
        .route("/qa/{id}", get(qa::show_question))
        .route("/qa/{id}/answers", post(qa::answer_question))
        .route("/qa/{id}/accept", post(qa::accept_answer))
        .route("/qa/{id}/faq", post(qa::set_faq))
        .route("/media/logos/{file}", get(listings::logo))
        .route("/register", get(auth::register_form).post(auth::register))
        .route("/register/sent", get(auth::register_sent))
        .route("/verify-email/{token}", get(auth::verify_email_form).post(auth::verify_email))
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/login/second-factor", get(auth::second_factor_form).post(auth::second_factor))
        .route("/logout", post(auth::logout))
        .route("/password/forgot", get(auth::forgot_form).post(auth::forgot))
        .route("/password/forgot/sent", get(auth::forgot_sent))
        .route("/password/reset/{token}", get(auth::reset_form).post(auth::reset))
        .route("/account", get(account::account_home))
        .route("/account/settings", get(account::settings))
        .route("/account/settings/password", post(account::change_password))
        .route("/account/settings/email", post(account::change_email))
        .route("/account/security", get(account::security))
        .route("/account/security/totp", post(account::enable_totp))
        .route("/account/security/totp/disable", post(account::disable_totp))
        .route("/account/security/recovery-codes", post(account::new_recovery_codes))
        .route("/account/export", get(account::export_data))
        .route("/account/delete", get(account::delete_form).post(account::delete_account))
        .route("/account/platforms/new", get(listings::new_platform_form).post(listings::register_platform))
        .route("/account/platforms/{slug}/edit", get(listings::edit_listing_form).post(listings::save_listing))
        .route("/account/platforms/{slug}/confirm", post(listings::confirm_listing))
        .route("/account/platforms/{slug}/logo", post(listings::upload_logo))
        .route("/account/reports", get(reports::list_reports))
        .route("/account/platforms/{slug}/reports/{period}", get(reports::report_form).post(reports::submit_report))
        .route("/staff", get(staff::staff_home))
        .route("/staff/revisions", get(staff::list_revisions))
        .route("/staff/revisions/{id}", get(staff::show_revision))
        .route("/staff/revisions/{id}/approve", post(staff::approve_revision))
        .route("/staff/revisions/{id}/reject", post(staff::reject_revision))
        .route("/staff/enterprises", get(staff::list_enterprise_accounts))
        .route("/staff/enterprises/{user_id}/approve", post(staff::approve_enterprise_account))
        .route("/staff/enterprises/{user_id}/reject", post(staff::reject_enterprise_account))
        .route("/staff/users", get(staff::list_users))
        .route("/staff/users/{user_id}/role", post(staff::set_user_role))
        .route("/staff/users/{user_id}/status", post(staff::set_user_status))
        .route("/staff/audit", get(staff::list_audit))
        .route("/staff/reports", get(staff::list_missing_reports))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics).layer(middleware::from_fn_with_state(config.clone(), edge::guard_metrics)))
        .route("/robots.txt", get(ops::robots))
        .route("/static/{*file}", get(ops::static_file))
        .fallback(not_found)
        .layer(csrf_guard)
        .layer(middleware::from_fn(edge::private_pages))
        .layer(sessions)
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(middleware::from_fn(drop_client_request_id))
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
                    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                    // The route's pattern, never the raw path: paths carry one-time tokens.
                    let route = req.extensions().get::<MatchedPath>().map_or("(no route)", MatchedPath::as_str);
                    tracing::info_span!("request", request.id = %id, method = %req.method(), route)
                }))
                .layer(middleware::from_fn_with_state(config.clone(), edge::find_client))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(CompressionLayer::new().quality(CompressionLevel::Fastest).br(false))
                .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, timeout))
                .layer(security_header(header::CONTENT_SECURITY_POLICY, CSP))
                .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
                .layer(security_header(header::REFERRER_POLICY, "strict-origin-when-cross-origin"))
                .layer(security_header(HeaderName::from_static("permissions-policy"), "camera=(), microphone=(), geolocation=()"))
                .option_layer(hsts)
                .layer(middleware::from_fn(drop_nul))
                .layer(middleware::from_fn(negotiate_lang))
                .layer(middleware::from_fn(render_errors))
                .layer(middleware::from_fn_with_state(config, edge::check_host))
                .layer(CatchPanicLayer::custom(|_| error_response(StatusCode::INTERNAL_SERVER_ERROR, "error.internal")))
                .layer(RequestBodyTimeoutLayer::new(crate::server::BODY_IDLE_TIMEOUT))
                .layer(RequestBodyLimitLayer::new(BODY_LIMIT)),
        )
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

async fn not_found() -> Response {
    error_response(StatusCode::NOT_FOUND, "error.not_found")
}

/// The request id is always the portal's own: one sent by the client would reach the logs and the
/// audit trail unchecked.
async fn drop_client_request_id(mut req: Request, next: Next) -> Response {
    req.headers_mut().remove("x-request-id");
    next.run(req).await
}

/// NUL cannot be stored in PostgreSQL text and no person types it: a path containing one is
/// refused (400), and NULs in the query string are dropped (so a search with one still answers).
/// Form bodies are checked by the CSRF guard, which reads them anyway.
async fn drop_nul(mut req: Request, next: Next) -> Response {
    if req.uri().path().contains("%00") {
        return error_response(StatusCode::BAD_REQUEST, "error.bad_request");
    }
    if let Some(query) = req.uri().query().filter(|q| q.contains("%00")) {
        let rebuilt = format!("{}?{}", req.uri().path(), query.replace("%00", ""));
        match rebuilt.parse() {
            Ok(uri) => *req.uri_mut() = uri,
            Err(_) => return error_response(StatusCode::BAD_REQUEST, "error.bad_request"),
        }
    }
    next.run(req).await
}

/// Picks the page language (`?lang=`, then the cookie, then Vietnamese) and remembers an explicit choice.
async fn negotiate_lang(mut req: Request, next: Next) -> Response {
    let from_query = req
        .uri()
        .query()
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "lang"))
        .and_then(|(_, v)| Lang::parse(&v));
    let jar = CookieJar::from_headers(req.headers());
    let from_cookie = jar.get(LANG_COOKIE).and_then(|c| Lang::parse(c.value()));
    req.extensions_mut().insert(from_query.or(from_cookie).unwrap_or_default());
    let mut response = next.run(req).await;
    if let Some(lang) = from_query.filter(|l| Some(*l) != from_cookie) {
        let cookie = Cookie::build((LANG_COOKIE, lang.code()))
            .path("/")
            .max_age(time::Duration::days(365))
            .same_site(SameSite::Lax)
            .http_only(true)
            .build();
        if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response.headers_mut().append(header::VARY, HeaderValue::from_static("Cookie"));
    response
}

/// The error page, in the visitor's language, with the request id.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTemplate {
    layout: Layout,
    status: u16,
    title_key: &'static str,
    message_key: &'static str,
}

/// Replaces every error response without a page of its own (our `AppError`s, axum's plain-text
/// rejections, 404s, 405s, 413s, timeouts, panics) by the HTML error page.
async fn render_errors(State(()): State<()>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let layout = Layout::from_parts(&parts);
    let response = next.run(Request::from_parts(parts, body)).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let marked = response.extensions().get::<ErrorPage>().copied();
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html") || v.starts_with("application/json"));
    if marked.is_none() && is_html {
        return response;
    }
    let message_key = marked.map_or_else(|| default_message_key(status), |m| m.message_key);
    let page = ErrorTemplate { layout, status: status.as_u16(), title_key: title_key(status), message_key };
    let mut rendered = match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "error page failed to render");
            (status, "Error").into_response()
        }
    };
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(value) = response.headers().get(&name) {
            rendered.headers_mut().insert(name, value.clone());
        }
    }
    rendered
}

fn default_message_key(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "error.not_found",
        StatusCode::METHOD_NOT_ALLOWED => "error.method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "error.too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE | StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => "error.bad_request",
        StatusCode::REQUEST_TIMEOUT | StatusCode::SERVICE_UNAVAILABLE => "error.unavailable",
        s if s.is_client_error() => "error.bad_request",
        _ => "error.internal",
    }
}

fn title_key(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "error.not_found_title",
        s if s.is_client_error() => "error.client_title",
        _ => "error.server_title",
    }
}
