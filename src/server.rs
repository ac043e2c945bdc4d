//! The HTTP server: accepts connections and serves HTTP/1.1 with hyper, bounded so that slow or
//! many clients cannot take the portal down.
//!
//! - A client must send a request's whole header within [`HEADER_TIMEOUT`]; the same limit closes
//!   a kept-alive connection that sends no next request (hyper starts the clock whenever it waits
//!   for a header).
//! - At most `NDP_MAX_CONNECTIONS` connections are open at once; further ones wait in the
//!   kernel's queue until one closes, so the process never runs out of file descriptors.
//! - One client address (an IPv6 /64) holds at most `NDP_MAX_CONNECTIONS_PER_CLIENT` of them;
//!   more from it are closed at once, so one host cannot fill the portal with kept-alive
//!   connections. Trusted proxies (which carry everyone's requests) are not limited this way.
//! - Request bodies must keep arriving (see `routes`: a pause of [`BODY_IDLE_TIMEOUT`] ends the
//!   request) and every request ends within the request timeout.
//!
//! On shutdown the listener closes, idle connections close at once, and requests in flight finish.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

use crate::config::Config;

/// Time a client has to send a request's header (and a kept-alive connection may stay idle).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest pause while a request body arrives.
pub const BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// How many connections each client address holds, for the per-client cap.
#[derive(Debug, Default)]
struct PerClient(Mutex<HashMap<String, usize>>);

impl PerClient {
    /// Counts a new connection from `client`; `None` when the client already holds `cap`.
    fn enter(self: &Arc<Self>, client: String, cap: usize) -> Option<ClientSlot> {
        let mut held = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = held.entry(client.clone()).or_default();
        if *count >= cap {
            return None;
        }
        *count += 1;
        Some(ClientSlot { table: Arc::clone(self), client })
    }
}

/// A connection counted against its client; uncounted when dropped.
struct ClientSlot {
    table: Arc<PerClient>,
    client: String,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut held = self.table.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = held.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.client);
            }
        }
    }
}

/// Serves `app` on `listener` within the connection limits of `config` until `shutdown`
/// resolves, then lets requests in flight finish.
pub async fn serve(listener: TcpListener, app: Router, config: &Config, shutdown: impl Future<Output = ()>) {
    let permits = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let per_client = Arc::new(PerClient::default());
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(HEADER_TIMEOUT);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors or a connection reset before it was accepted:
                    // wait a moment rather than spin.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let slot = match counted_client(peer.ip(), config) {
            Some(client) => match per_client.enter(client, config.max_connections_per_client.max(1)) {
                Some(slot) => Some(slot),
                None => {
                    tracing::debug!("connection refused: its client holds its share already");
                    continue;
                }
            },
            None => None,
        };
        let _ = stream.set_nodelay(true);
        let router = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            router.clone().oneshot(req)
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(slot);
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The key a peer's connections are counted under, or `None` for a trusted proxy.
fn counted_client(peer: IpAddr, config: &Config) -> Option<String> {
    let peer = peer.to_canonical();
    if config.trusted_proxies.iter().any(|n| n.contains(&peer)) {
        return None;
    }
    Some(crate::limits::address_bucket(Some(&peer.to_string())))
}
