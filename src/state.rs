//! `AppState`: what every handler may need, handed out through `FromRef`.

use std::sync::Arc;

use axum::extract::FromRef;
use sqlx::PgPool;

use crate::config::Config;

/// Shared state of the application.
#[derive(Clone)]
pub struct AppState {
    /// The database pool.
    pub pool: PgPool,
    /// The configuration read at start-up.
    pub config: Arc<Config>,
}

impl AppState {
    /// Builds the state from a pool and the configuration.
    pub fn new(pool: PgPool, config: Config) -> Self {
        Self { pool, config: Arc::new(config) }
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
