//! The operations behind the `ndp` subcommands, as library functions so tests run them as `main` does.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use sqlx::PgPool;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::db::{self, ClusterUse, Database};
use crate::state::AppState;

/// Applies the migrations and, on an empty database, loads the reference facts.
pub async fn prepare_database(pool: &PgPool, config: &Config) -> anyhow::Result<()> {
    db::migrate(pool).await?;
    if config.auto_seed && crate::seed::is_empty(pool).await? {
        let report = crate::seed::load_reference(pool).await?;
        tracing::info!(%report, "empty database seeded with the reference facts");
    }
    db::moderation::seed_terms(pool).await?;
    Ok(())
}

/// Runs the portal until Ctrl-C or SIGTERM: database (embedded unless `DATABASE_URL`), migrations,
/// first-start seed, then HTTP. Prints the address it serves on standard output.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    config.check_for_serving()?;
    let lock = if config.database_url.is_none() { Some(PidLock::acquire(&config.data_dir)?) } else { None };
    let database = Database::connect(&config, ClusterUse::Serve).await?;
    let served = serve_on(&database.pool, config).await;
    database.shutdown().await;
    drop(lock);
    served
}

async fn serve_on(pool: &PgPool, config: Config) -> anyhow::Result<()> {
    prepare_database(pool, &config).await?;
    let listener = TcpListener::bind(config.bind).await.with_context(|| format!("could not listen on {}", config.bind))?;
    let bound = listener.local_addr()?;
    let url = config.public_url(bound);
    tracing::info!(%bound, "serving");
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "ndp is serving at {url}  (Ctrl-C stops it)")?;
    stdout.flush()?;
    drop(stdout);
    run_server(listener, pool.clone(), config, shutdown_signal()).await?;
    tracing::info!("stopped serving; in-flight requests finished");
    Ok(())
}

/// Serves the application on `listener` until `shutdown` resolves, then lets in-flight requests
/// finish. The tests serve through this too, so they run the application exactly as `main` does.
pub async fn run_server(
    listener: TcpListener,
    pool: PgPool,
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let keys = crate::auth::Keys::load(config.secret_key.as_deref(), &config.data_dir)?;
    crate::auth::password::warm_up();
    let search = crate::search::Search::start(
        pool.clone(),
        &config.data_dir,
        config.search_cache_mb.saturating_mul(1 << 20),
        config.search_row_cache_mb.saturating_mul(1 << 20),
    );
    let background = crate::mail::Background::start(pool.clone(), &config);
    let bound = listener.local_addr()?;
    let state = AppState::new(pool, config, search.clone(), keys, bound);
    let config = state.config.clone();
    crate::server::serve(listener, crate::app(state), &config, shutdown).await;
    search.shutdown().await;
    background.shutdown().await;
    Ok(())
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown requested");
}

/// Runs `work` against the database (embedded or `DATABASE_URL`), then releases it.
pub async fn with_database<T, F>(config: &Config, work: impl FnOnce(PgPool) -> F) -> anyhow::Result<T>
where
    F: std::future::Future<Output = anyhow::Result<T>>,
{
    let database = Database::connect(config, ClusterUse::Tool).await?;
    let result = work(database.pool.clone()).await;
    database.shutdown().await;
    result
}

/// What `ndp reindex` did.
#[derive(Debug, Clone, Copy)]
pub struct ReindexReport {
    /// Documents written.
    pub documents: u64,
    /// Time taken.
    pub elapsed: std::time::Duration,
}

/// Rebuilds the search index of `config.data_dir` from scratch, showing progress on standard
/// error. Refuses while a portal serves from the same data directory (it keeps its own index
/// current; delete the index and restart it to rebuild).
pub async fn reindex(config: &Config) -> anyhow::Result<ReindexReport> {
    let _lock = PidLock::acquire(&config.data_dir)
        .context("the portal rebuilds a missing index by itself: stop it, delete the index directory and start it again")?;
    let dir = crate::search::index_dir(&config.data_dir);
    with_database(config, |pool| async move {
        crate::db::migrate(&pool).await?;
        let building = dir.with_extension("reindex");
        let _ = std::fs::remove_dir_all(&building);
        let bar = indicatif::ProgressBar::new(0).with_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} documents ({per_sec}, {eta} left)")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let started = std::time::Instant::now();
        let documents = crate::search::rebuild_into(&pool, &building, |p| {
            bar.set_length(p.total);
            bar.set_position(p.done);
        })
        .await?;
        bar.finish_and_clear();
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::rename(&building, &dir).with_context(|| format!("could not move the new index to {}", dir.display()))?;
        Ok(ReindexReport { documents, elapsed: started.elapsed() })
    })
    .await
}

/// Re-encrypts the stored secrets from the old secret key (`NDP_OLD_SECRET_KEY`, else the generated
/// key file) to the new one (`NDP_SECRET_KEY`, which must be set). Refuses while a portal serves
/// from the same data directory.
pub async fn rotate_secret(config: &Config) -> anyhow::Result<crate::accounts::Rotated> {
    let _lock = PidLock::acquire(&config.data_dir).context("stop the portal before changing its secret key")?;
    let new = config.secret_key.as_deref().context("set NDP_SECRET_KEY to the new key")?;
    let old = match config.old_secret_key.as_deref() {
        Some(old) => crate::auth::Keys::from_secret(old),
        None => {
            let path = config.data_dir.join("secret-key");
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("set NDP_OLD_SECRET_KEY to the old key (no generated key at {})", path.display()))?;
            crate::auth::Keys::from_secret(text.trim())
        }
    };
    let new = crate::auth::Keys::from_secret(new);
    with_database(config, |pool| async move {
        crate::db::migrate(&pool).await?;
        crate::accounts::rotate_secret(&pool, &old, &new).await
    })
    .await
}

/// A file in the data directory naming the process that serves from it, so two portals never
/// share one embedded cluster.
#[derive(Debug)]
pub struct PidLock {
    path: PathBuf,
}

impl PidLock {
    /// Takes the lock, or explains which process holds it.
    pub fn acquire(data_dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir).with_context(|| format!("could not create {}", data_dir.display()))?;
        let path = data_dir.join("ndp.pid");
        if let Ok(text) = std::fs::read_to_string(&path)
            && let Ok(pid) = text.trim().parse::<u32>()
            && pid != std::process::id()
            && Path::new(&format!("/proc/{pid}")).exists()
        {
            anyhow::bail!(
                "another ndp process (pid {pid}) is serving from {}; stop it first or set NDP_DATA_DIR to another directory",
                data_dir.display()
            );
        }
        std::fs::write(&path, std::process::id().to_string()).with_context(|| format!("could not write {}", path.display()))?;
        Ok(Self { path })
    }
}

impl Drop for PidLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
