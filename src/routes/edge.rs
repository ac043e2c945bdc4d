//! What is settled about every request before a handler sees it: that it names the portal's own
//! host, which client address it comes from (believing `X-Forwarded-For` only from trusted
//! proxies), who may read `/metrics`, and that pages for one person are never stored by caches.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;
use tower_sessions::Session;

use crate::auth::AuthSession;
use crate::config::Config;
use crate::error::error_response;
use crate::extract::ClientAddr;

/// Paths that load balancers and health checks call by address: no `Host` check.
const BY_ADDRESS: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// Path prefixes whose pages hold one person's data or a form secret: never stored by a cache.
const PRIVATE: [&str; 6] = ["/account", "/staff", "/login", "/register", "/password", "/verify-email"];

/// Refuses (421) a request naming another host than `NDP_BASE_URL`'s, so that no cache key or
/// absolute link can be built from a forged `Host`. Without a base URL the portal only listens on
/// loopback (see [`Config::check_for_serving`]) and nothing is checked.
pub async fn check_host(State(config): State<Arc<Config>>, req: Request, next: Next) -> Response {
    if let Some(expected) = config.base_host()
        && !BY_ADDRESS.contains(&req.uri().path())
    {
        let named = req.headers().get(header::HOST).and_then(|v| v.to_str().ok()).or_else(|| req.uri().authority().map(|a| a.as_str()));
        if !named.is_some_and(|host| same_host(host, expected, config.is_https())) {
            tracing::warn!("request for another host refused");
            return error_response(StatusCode::MISDIRECTED_REQUEST, "error.wrong_host");
        }
    }
    next.run(req).await
}

/// Whether `named` (a `Host` value) is `expected` (already lower-case, default port dropped).
fn same_host(named: &str, expected: &str, https: bool) -> bool {
    let named = named.trim().to_ascii_lowercase();
    let default_port = if https { ":443" } else { ":80" };
    named.strip_suffix(default_port).unwrap_or(&named) == expected
}

/// Records the client address: the TCP peer, or, when the peer is a trusted proxy, the
/// right-most address in `X-Forwarded-For` that is not a trusted proxy (what a client writes on
/// the left of that list is not believed).
pub async fn find_client(State(config): State<Arc<Config>>, mut req: Request, next: Next) -> Response {
    if let Some(peer) = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()) {
        let client = client_of(peer.to_canonical(), req.headers(), &config.trusted_proxies);
        if client == peer.to_canonical() && is_local(client) && req.headers().contains_key("x-forwarded-for") {
            warn_untrusted_proxy();
        }
        req.extensions_mut().insert(ClientAddr(client));
    }
    next.run(req).await
}

/// A proxy on this host or network whose `X-Forwarded-For` is not believed: every visitor then
/// shares its address (and its sign-in and posting limits). Said once per process.
fn warn_untrusted_proxy() {
    static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !SAID.swap(true, std::sync::atomic::Ordering::Relaxed) {
        tracing::warn!(
            "requests arrive through a local proxy that is not in NDP_TRUSTED_PROXIES: every visitor shares its address; \
             list the proxy there"
        );
    }
}

fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.is_unique_local() || v6.is_unicast_link_local(),
    }
}

fn client_of(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(&ip));
    if !is_trusted(peer) {
        return peer;
    }
    let hops: Vec<&str> =
        headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).map(str::trim).collect();
    // The right-most hop that is not a trusted proxy. When every hop is trusted (or one cannot be
    // read), the hop nearest to us counts: what a client wrote further left is never believed.
    let nearest = hops.last().and_then(|h| parse_hop(h)).unwrap_or(peer);
    for hop in hops.into_iter().rev() {
        match parse_hop(hop) {
            Some(ip) if !is_trusted(ip) => return ip,
            Some(_) => {}
            None => return nearest,
        }
    }
    nearest
}

/// An address as proxies write it: `203.0.113.7`, `203.0.113.7:5123`, `2001:db8::1` or `[2001:db8::1]:443`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>().ok().or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip())).map(|ip| ip.to_canonical())
}

/// `/metrics` answers only scrapers that connect directly (no proxy in between: a request that
/// came through one could be anyone's) from an address in `NDP_METRICS_ALLOW` (loopback by
/// default); others get 403.
pub async fn guard_metrics(State(config): State<Arc<Config>>, req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_canonical());
    let proxied = req.headers().contains_key("x-forwarded-for") || req.headers().contains_key(header::FORWARDED);
    if proxied || !peer.is_some_and(|ip| config.metrics_allow.iter().any(|n| n.contains(&ip))) {
        return error_response(StatusCode::FORBIDDEN, "error.forbidden");
    }
    next.run(req).await
}

/// `Cache-Control: no-store` on the account, staff and sign-in pages and on every page shown to a
/// signed-in person (unless the handler chose a policy, as static files do).
pub async fn private_pages(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let private_path = PRIVATE.iter().any(|p| path == *p || path.strip_prefix(p).is_some_and(|rest| rest.starts_with('/')));
    let session = req.extensions().get::<Session>().cloned();
    let mut response = next.run(req).await;
    let chosen = response.headers().contains_key(header::CACHE_CONTROL);
    let signed_in = match &session {
        Some(session) if !private_path && !chosen => AuthSession::current(session).await.is_some(),
        _ => false,
    };
    if private_path || signed_in {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        headers
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        type Case<'a> = (&'a str, &'a [&'a str], &'a str, &'a str);
        let cases: [Case<'_>; 9] = [
            ("203.0.113.9", &["198.51.100.1"], "203.0.113.9", "a peer that is not a proxy is the client, whatever it claims"),
            ("10.0.0.2", &["198.51.100.1"], "198.51.100.1", "one trusted proxy: the address it saw"),
            ("10.0.0.2", &["6.6.6.6, 198.51.100.1"], "198.51.100.1", "a forged left-most hop is ignored"),
            ("10.0.0.2", &["198.51.100.1, 10.0.0.3"], "198.51.100.1", "two trusted proxies in a row"),
            ("10.0.0.2", &["127.0.0.1, 10.0.0.9"], "127.0.0.1", "the untrusted hop behind two trusted ones"),
            ("10.0.0.2", &["10.0.0.7, 10.0.0.9"], "10.0.0.9", "every hop trusted: the nearest one, not a client's claim"),
            ("10.0.0.2", &["6.6.6.6", "198.51.100.1"], "198.51.100.1", "several headers read as one list"),
            ("10.0.0.2", &[], "10.0.0.2", "a proxy that forwarded nothing"),
            ("10.0.0.2", &["garbage, [2001:db8::1]:443"], "2001:db8::1", "a bracketed address with a port"),
        ];
        for (peer, headers, expected, why) in cases {
            assert_eq!(client_of(ip(peer), &forwarded(headers), &trusted), ip(expected), "{why}");
        }
        assert_eq!(client_of(ip("10.0.0.2"), &forwarded(&["not-an-address"]), &trusted), ip("10.0.0.2"), "unreadable hop");
    }

    #[test]
    fn the_host_is_compared_without_case_or_default_port() {
        assert!(same_host("NenTangSo.gov.vn", "nentangso.gov.vn", true));
        assert!(same_host("nentangso.gov.vn:443", "nentangso.gov.vn", true));
        assert!(!same_host("nentangso.gov.vn:80", "nentangso.gov.vn", true));
        assert!(!same_host("evil.example", "nentangso.gov.vn", true));
        assert!(!same_host("nentangso.gov.vn.evil.example", "nentangso.gov.vn", true));
        assert!(same_host("10.0.0.5:8080", "10.0.0.5:8080", false));
    }
}
