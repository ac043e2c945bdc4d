//! Operations endpoints (health, readiness, metrics), static files and robots.txt.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sqlx::PgPool;

use crate::error::error_response;
use crate::search::Search;

/// `/healthz`: the process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `/readyz`: the database answers and every migration is applied.
pub async fn readyz(State(pool): State<PgPool>) -> (StatusCode, &'static str) {
    if crate::db::is_ready(&pool).await { (StatusCode::OK, "ready") } else { (StatusCode::SERVICE_UNAVAILABLE, "not ready") }
}

/// `/metrics`: figures of this process in the Prometheus text format.
pub async fn metrics(State(search): State<Search>) -> ([(header::HeaderName, &'static str); 1], String) {
    let s = search.stats();
    let p = crate::auth::password::stats();
    let lines = [
        ("ndp_password_slots", "gauge", "password hashes that may run at once (one per core)", p.slots),
        ("ndp_password_slots_peak", "gauge", "the most password hashes that ran at once since the start", p.peak),
        ("ndp_password_refused_total", "counter", "sign-ins and password changes refused because every slot stayed busy", p.refused),
        ("ndp_search_ready", "gauge", "1 when the search index is open and answering", u64::from(s.ready)),
        ("ndp_search_documents", "gauge", "documents in the search index", s.documents),
        ("ndp_search_commits_total", "counter", "search index commits applied since the start", s.commits),
        ("ndp_search_cache_hits_total", "counter", "searches answered from the results cache", s.cache_hits),
        ("ndp_search_cache_misses_total", "counter", "searches the results cache could not answer", s.cache_misses),
        ("ndp_search_row_cache_hits_total", "counter", "rows of search pages found in the row cache", s.row_hits),
        ("ndp_search_row_cache_misses_total", "counter", "rows of search pages read from the database", s.row_misses),
    ];
    let mut body = String::new();
    for (name, kind, help, value) in lines {
        body.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body)
}

/// `/robots.txt`.
pub async fn robots() -> ([(header::HeaderName, &'static str); 1], &'static str) {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "User-agent: *\nDisallow: /account/\nDisallow: /staff/\n")
}

/// `/static/{file}`: an embedded file under its hashed name, cached for a year, gzip when accepted.
pub async fn static_file(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some(asset) = crate::assets::get(&file) else {
        return error_response(StatusCode::NOT_FOUND, "error.not_found");
    };
    let accepts_gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let mut response = match (&asset.gzip, accepts_gzip) {
        (Some(gzip), true) => ([(header::CONTENT_ENCODING, "gzip")], gzip.clone()).into_response(),
        _ => asset.bytes.into_response(),
    };
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    response
}
