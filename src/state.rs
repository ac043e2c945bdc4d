//! `AppState`: what every handler may need, handed out through `FromRef`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::FromRef;
use sqlx::PgPool;

use crate::auth::Keys;
use crate::config::Config;
use crate::search::Search;

/// Shared state of the application.
#[derive(Clone)]
pub struct AppState {
    /// The database pool.
    pub pool: PgPool,
    /// The configuration read at start-up.
    pub config: Arc<Config>,
    /// The search service of this process.
    pub search: Search,
    /// Keys derived from the portal's secret key.
    pub keys: Keys,
    /// The portal's public address for links in mails: `NDP_BASE_URL`, else the bound address.
    /// Never taken from a request.
    pub site: Arc<str>,
}

impl AppState {
    /// Builds the state from a pool, the configuration, the search service, the keys and the
    /// address the server is bound to.
    pub fn new(pool: PgPool, config: Config, search: Search, keys: Keys, bound: SocketAddr) -> Self {
        let site = config.public_url(bound).into();
        Self { pool, config: Arc::new(config), search, keys, site }
    }

    /// An absolute link to `path` (which starts with `/`) on this portal.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.site)
    }
}

impl FromRef<AppState> for Search {
    fn from_ref(state: &AppState) -> Self {
        state.search.clone()
    }
}

impl FromRef<AppState> for PgPool {
    fn from_ref(state: &AppState) -> Self {
        state.pool.clone()
    }
}

impl FromRef<AppState> for Arc<Config> {
    fn from_ref(state: &AppState) -> Self {
        state.config.clone()
    }
}
