//! The HTTP server: accepts connections and serves HTTP/1.1 with hyper, bounded so that slow or
//! many clients cannot take the portal down.
//!
//! - A client must send a request's whole header within [`HEADER_TIMEOUT`]; the same limit closes
//!   a kept-alive connection that sends no next request (hyper starts the clock whenever it waits
//!   for a header).
//! - At most `NDP_MAX_CONNECTIONS` connections are open at once; further ones wait in the
//!   kernel's queue until one closes, so the process never runs out of file descriptors.
//! - Request bodies must keep arriving (see `routes`: a pause of [`BODY_IDLE_TIMEOUT`] ends the
//!   request) and every request ends within the request timeout.
//!
//! On shutdown the listener closes, idle connections close at once, and requests in flight finish.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

/// Time a client has to send a request's header (and a kept-alive connection may stay idle).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest pause while a request body arrives.
pub const BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` with at most `max_connections` open connections until `shutdown`
/// resolves, then lets requests in flight finish.
pub async fn serve(listener: TcpListener, app: Router, max_connections: usize, shutdown: impl Future<Output = ()>) {
    let permits = Arc::new(Semaphore::new(max_connections.max(1)));
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
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
