//! All SQL of the portal: the connection (external server or embedded cluster), migrations, and
//! one module per table or aggregate. Functions take `impl PgExecutor<'_>` so they work on the
//! pool and inside a transaction.

pub mod audit;
pub mod catalogue;
pub mod content;
pub mod contributions;
pub mod directory;
pub mod ids;
pub mod limits;
pub mod moderation;
pub mod outbox;
pub mod qa;
pub mod registrations;
pub mod reports;
pub mod revisions;
pub mod search_source;
pub mod types;
pub mod users;

use std::time::Duration;

use anyhow::Context as _;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions as _, Connection as _, PgPool};

use crate::config::Config;
use crate::embedded_pg::{self, EmbeddedPg};

/// The migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The portal's database: a pool, and the embedded cluster when the portal runs one.
#[derive(Debug)]
pub struct Database {
    /// The connection pool.
    pub pool: PgPool,
    /// The embedded cluster, and whether [`Database::shutdown`] stops it.
    pub embedded: Option<(EmbeddedPg, bool)>,
}

/// Who owns an embedded cluster that is already running when we connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterUse {
    /// The server: a running cluster is adopted (left over from a portal that was killed) and
    /// stopped when the server stops.
    Serve,
    /// An operator command: a running cluster belongs to a running portal and is left running.
    Tool,
}

impl Database {
    /// Connects to `DATABASE_URL`, or starts the embedded cluster and connects to it.
    pub async fn connect(config: &Config, usage: ClusterUse) -> anyhow::Result<Self> {
        match &config.database_url {
            Some(url) => {
                let options: PgConnectOptions = url.parse().context("DATABASE_URL is not a valid PostgreSQL URL")?;
                Ok(Self { pool: pool(config, options).await?, embedded: None })
            }
            None => {
                let cluster = EmbeddedPg::new(&config.data_dir, config.pg_bindir.as_deref(), &config.pg_system_user)?;
                let started = cluster.start().await?;
                let stop_at_end = usage == ClusterUse::Serve || !started.was_running;
                tracing::info!(
                    pgdata = %cluster.pgdata().display(),
                    created = started.created,
                    reused_running = started.was_running,
                    system_user = cluster.system_user(),
                    "embedded PostgreSQL running"
                );
                let connected = async {
                    create_database_if_missing(cluster.connect_options("postgres"), embedded_pg::DATABASE).await?;
                    pool(config, cluster.connect_options(embedded_pg::DATABASE)).await
                }
                .await;
                match connected {
                    Ok(pool) => Ok(Self { pool, embedded: Some((cluster, stop_at_end)) }),
                    Err(e) => {
                        if stop_at_end && let Err(stop) = cluster.stop().await {
                            tracing::warn!(error = %stop, "could not stop the embedded cluster");
                        }
                        Err(e)
                    }
                }
            }
        }
    }

    /// Closes the pool and stops the embedded cluster, if any.
    pub async fn shutdown(self) {
        self.pool.close().await;
        if let Some((cluster, true)) = self.embedded {
            match cluster.stop().await {
                Ok(()) => tracing::info!("embedded PostgreSQL stopped"),
                Err(e) => tracing::warn!(error = %e, "could not stop the embedded cluster"),
            }
        }
    }
}

async fn pool(config: &Config, options: PgConnectOptions) -> anyhow::Result<PgPool> {
    let options = options
        .log_statements(tracing::log::LevelFilter::Trace)
        .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_millis(500));
    PgPoolOptions::new()
        .max_connections(config.db_max_connections)
        .acquire_timeout(Duration::from_secs(10))
        // sqlx would otherwise ping the server before handing out each connection: one more round
        // trip per query (a tenth of a search page's cost). A connection the server dropped fails
        // its next query instead, and the pool replaces it.
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .context("could not connect to PostgreSQL")
}

/// Creates `name` in the server `admin` points at, unless it exists.
pub async fn create_database_if_missing(admin: PgConnectOptions, name: &str) -> anyhow::Result<()> {
    let mut conn = sqlx::PgConnection::connect_with(&admin).await.context("could not connect to PostgreSQL")?;
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)").bind(name).fetch_one(&mut conn).await?;
    if !exists {
        let quoted = name.replace('"', "\"\"");
        sqlx::raw_sql(&format!("create database \"{quoted}\" encoding 'UTF8' template template0"))
            .execute(&mut conn)
            .await
            .with_context(|| format!("could not create database {name}"))?;
    }
    conn.close().await?;
    Ok(())
}

/// Applies the embedded migrations.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(pool).await.context("could not apply the migrations")
}

/// Whether the database answers and every embedded migration is applied.
pub async fn is_ready(pool: &PgPool) -> bool {
    let applied: Result<Vec<i64>, _> =
        sqlx::query_scalar("select version from _sqlx_migrations where success order by version").fetch_all(pool).await;
    match applied {
        Ok(applied) => MIGRATOR.iter().filter(|m| m.migration_type.is_up_migration()).all(|m| applied.contains(&m.version)),
        Err(_) => false,
    }
}
