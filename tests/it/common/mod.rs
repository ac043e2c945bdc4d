//! The test harness: a real PostgreSQL for the whole test process, a fresh database per test
//! cloned from a migrated and seeded template, and the application served on 127.0.0.1:0 exactly
//! as `main` serves it.
//!
//! With `DATABASE_URL` set, that server is used (the role needs CREATEDB). Without it, an embedded
//! cluster is started in a temporary directory with the same code the portal uses, and a watchdog
//! process stops it and removes the directory when the test process ends.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use ndp::config::Config;
use ndp::embedded_pg::EmbeddedPg;
use sha2::{Digest as _, Sha256};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions as _, Connection as _, PgConnection, PgPool};

/// The server every test database lives on.
struct Server {
    admin: PgConnectOptions,
    template: String,
}

static SERVER: OnceLock<Server> = OnceLock::new();
static NEXT_DB: AtomicU32 = AtomicU32::new(0);

fn server() -> &'static Server {
    SERVER.get_or_init(|| {
        // The set-up is async but the tests each have their own runtime: do it on a thread of its own.
        std::thread::spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(start_server())
        })
        .join()
        .expect("test server set-up panicked")
    })
}

async fn start_server() -> Server {
    let admin = match std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        Some(url) => url.parse::<PgConnectOptions>().expect("DATABASE_URL").database("postgres"),
        None => start_embedded().await,
    };
    let admin = admin.disable_statement_logging();
    drop_stale_databases(&admin).await;
    let template = ensure_template(&admin).await;
    Server { admin, template }
}

/// Starts a throw-away cluster for this test process.
async fn start_embedded() -> PgConnectOptions {
    let dir = tempfile::Builder::new()
        .prefix("ndp-test-pg-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .tempdir_in("/tmp")
        .expect("temp dir")
        .keep();
    let cluster = EmbeddedPg::new(&dir, None, "postgres").expect("PostgreSQL server programs (Debian: apt-get install postgresql)");
    cluster.start().await.expect("embedded cluster starts");
    spawn_watchdog(&dir, Some(cluster.pgdata()));
    cluster.connect_options("postgres")
}

/// A data directory for a portal under test. They all live in one directory per test process,
/// removed when the process ends: a portal dropped without [`TestApp::stop`] may still be
/// writing its index after its own directory was removed.
pub fn data_dir() -> tempfile::TempDir {
    static PARENT: OnceLock<PathBuf> = OnceLock::new();
    let parent = PARENT.get_or_init(|| {
        let dir = tempfile::Builder::new().prefix("ndp-test-apps-").tempdir().expect("temp dir").keep();
        spawn_watchdog(&dir, None);
        dir
    });
    tempfile::tempdir_in(parent).expect("data dir")
}

/// A shell process that waits for this test process to end, then stops the cluster in `pgdata`,
/// if any (fast shutdown), and removes `dir`. Root may signal the cluster's postmaster directly.
#[expect(clippy::zombie_processes, reason = "the watchdog must outlive this process to clean up after it")]
fn spawn_watchdog(dir: &std::path::Path, pgdata: Option<&std::path::Path>) {
    let script = r#"while kill -0 "$1" 2>/dev/null; do sleep 1; done
pid=$([ -n "$2" ] && head -n 1 "$2/postmaster.pid" 2>/dev/null)
if [ -n "$pid" ]; then kill -INT "$pid" 2>/dev/null; i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; fi
rm -rf "$3""#;
    std::process::Command::new("sh")
        .args(["-c", script, "ndp-test-watchdog"])
        .arg(std::process::id().to_string())
        .arg(pgdata.map_or(std::ffi::OsStr::new(""), std::path::Path::as_os_str))
        .arg(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("watchdog starts");
}

/// Test databases are named `ndp_t_<pid>_<n>`; those of processes that have ended are dropped.
async fn drop_stale_databases(admin: &PgConnectOptions) {
    let mut conn = PgConnection::connect_with(admin).await.expect("connect to the test server");
    let names: Vec<String> =
        sqlx::query_scalar("select datname from pg_database where datname like 'ndp\\_t\\_%'").fetch_all(&mut conn).await.expect("list");
    for name in names {
        let pid = name.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|p| !std::path::Path::new(&format!("/proc/{p}")).exists()) {
            let _ = sqlx::raw_sql(&format!("drop database if exists \"{name}\" with (force)")).execute(&mut conn).await;
        }
    }
}

/// The template's name changes whenever a migration or a seed file changes.
fn template_name() -> String {
    let mut hash = Sha256::new();
    for m in ndp::db::MIGRATOR.iter() {
        hash.update(m.version.to_le_bytes());
        hash.update(&m.checksum);
    }
    let seed_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("seed");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&seed_dir).expect("seed dir").map(|e| e.expect("entry").path()).collect();
    files.sort();
    for f in files {
        hash.update(std::fs::read(f).expect("seed file"));
    }
    let digest: String = hash.finalize().iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("ndp_tpl_{digest}")
}

/// Creates the migrated, seeded template once (an advisory lock serialises concurrent test processes).
async fn ensure_template(admin: &PgConnectOptions) -> String {
    let name = template_name();
    let mut conn = PgConnection::connect_with(admin).await.expect("connect to the test server");
    sqlx::query("select pg_advisory_lock(4242001)").execute(&mut conn).await.expect("lock");
    let exists: bool = sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
        .bind(&name)
        .fetch_one(&mut conn)
        .await
        .expect("check template");
    if !exists {
        let building = format!("{name}_building");
        sqlx::raw_sql(&format!("drop database if exists \"{building}\"")).execute(&mut conn).await.expect("drop old");
        sqlx::raw_sql(&format!("create database \"{building}\" encoding 'UTF8' template template0"))
            .execute(&mut conn)
            .await
            .expect("create");
        let pool = PgPoolOptions::new().max_connections(2).connect_with(admin.clone().database(&building)).await.expect("pool");
        ndp::cli::prepare_database(&pool, &test_config()).await.expect("migrate and seed the template");
        pool.close().await;
        sqlx::raw_sql(&format!("alter database \"{building}\" rename to \"{name}\"")).execute(&mut conn).await.expect("rename");
    }
    sqlx::query("select pg_advisory_unlock(4242001)").execute(&mut conn).await.expect("unlock");
    name
}

/// The configuration tests run with: defaults, no environment.
pub fn test_config() -> Config {
    config_with_data_dir(None)
}

fn config_with_data_dir(dir: Option<&std::path::Path>) -> Config {
    config_with(dir, &[])
}

/// The test configuration with some variables set.
fn config_with(dir: Option<&std::path::Path>, env: &[(&str, &str)]) -> Config {
    Config::from_lookup(|name| match (name, env.iter().find(|(k, _)| *k == name)) {
        (_, Some((_, v))) => Some((*v).to_owned()),
        ("NDP_BIND", None) => Some("127.0.0.1:0".into()),
        ("NDP_DATA_DIR", None) => dir.map(|d| d.display().to_string()),
        _ => None,
    })
    .expect("test config")
}

/// A fresh database cloned from the template: migrated and seeded, private to one test.
pub async fn fresh_db() -> (PgPool, PgConnectOptions) {
    let server = server();
    let name = format!("ndp_t_{}_{}", std::process::id(), NEXT_DB.fetch_add(1, Ordering::Relaxed));
    let mut conn = PgConnection::connect_with(&server.admin).await.expect("connect");
    sqlx::raw_sql(&format!("create database \"{name}\" template \"{}\"", server.template))
        .execute(&mut conn)
        .await
        .expect("clone template");
    conn.close().await.expect("close");
    let options = server.admin.clone().database(&name);
    let pool = PgPoolOptions::new().max_connections(5).connect_with(options.clone()).await.expect("pool");
    (pool, options)
}

/// A database with the schema but no seed, for tests of seeding itself.
pub async fn empty_db() -> PgPool {
    let server = server();
    let name = format!("ndp_t_{}_{}", std::process::id(), NEXT_DB.fetch_add(1, Ordering::Relaxed));
    let mut conn = PgConnection::connect_with(&server.admin).await.expect("connect");
    sqlx::raw_sql(&format!("create database \"{name}\" encoding 'UTF8' template template0")).execute(&mut conn).await.expect("create");
    conn.close().await.expect("close");
    let pool = PgPoolOptions::new().max_connections(5).connect_with(server.admin.clone().database(&name)).await.expect("pool");
    ndp::db::migrate(&pool).await.expect("migrate");
    pool
}

/// Polls `check` until it holds or `within` passes.
pub async fn wait_until<F, Fut>(within: std::time::Duration, mut check: F) -> Result<(), String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!("condition not met within {within:?}"));
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// A running portal on a fresh database, with a data directory (and so a search index) of its own.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The database, for arranging and checking.
    pub pool: PgPool,
    /// A client that keeps cookies and does not follow redirects.
    pub client: reqwest::Client,
    /// The data directory (search index under `search/`).
    data_dir: Option<tempfile::TempDir>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    /// Serves the application on a fresh database and waits until its search index is ready.
    pub async fn spawn() -> Self {
        let (pool, _) = fresh_db().await;
        Self::spawn_on(pool, data_dir()).await
    }

    /// Serves another instance on an existing database with the given data directory, and
    /// waits until its search index is ready.
    pub async fn spawn_on(pool: PgPool, data_dir: tempfile::TempDir) -> Self {
        let app = Self::spawn_unready(pool, data_dir).await;
        app.wait_for_search().await;
        app
    }

    /// Like `spawn_on`, without waiting for the search index.
    pub async fn spawn_unready(pool: PgPool, data_dir: tempfile::TempDir) -> Self {
        Self::spawn_configured(pool, data_dir, &[]).await
    }

    /// Serves the application on a fresh database with some configuration variables set (such as
    /// `NDP_BASE_URL`), without waiting for the search index.
    pub async fn spawn_with(env: &[(&str, &str)]) -> Self {
        let (pool, _) = fresh_db().await;
        Self::spawn_configured(pool, data_dir(), env).await
    }

    async fn spawn_configured(pool: PgPool, data_dir: tempfile::TempDir, env: &[(&str, &str)]) -> Self {
        ndp::telemetry::init();
        let config = config_with(Some(data_dir.path()), env);
        ndp::cli::prepare_database(&pool, &config).await.expect("prepare");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(ndp::cli::run_server(listener, pool.clone(), config, async move {
            let _ = rx.await;
        }));
        let client = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Self { base, pool, client, data_dir: Some(data_dir), shutdown: Some(tx), server: Some(server) }
    }

    /// Waits (with a deadline) until the search index answers.
    pub async fn wait_for_search(&self) {
        wait_until(std::time::Duration::from_secs(60), || async {
            let (status, body) = self.get("/search/suggest?q=nen").await;
            status == 200 && !body.contains("\"updating\"")
        })
        .await
        .expect("the search index becomes ready");
    }

    /// Stops the server the way `main` does (in-flight requests finish, the indexer releases the
    /// index) and gives back the data directory.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("server stops cleanly");
        }
        self.data_dir.take().expect("data dir")
    }

    /// The portal's data directory: the search index under `search/`, mails under `mail/`.
    pub fn data_dir(&self) -> &std::path::Path {
        self.data_dir.as_ref().expect("data dir").path()
    }

    /// GETs a path; returns status and body.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self.client.get(format!("{}{path}", self.base)).send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }

    /// GETs a path; returns the whole response.
    pub async fn get_response(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.base)).send().await.expect("request")
    }
}

/// The CSRF token in a page's forms.
pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).map(|i| i + marker.len()).unwrap_or_else(|| panic!("no CSRF token in the page:\n{html}"));
    html[start..].chars().take_while(|c| *c != '"').collect()
}

/// A password every test account uses.
pub const PASSWORD: &str = "mây trắng bay về núi xa";

impl TestApp {
    /// A new client (no cookies shared with `self.client`) for a second person.
    pub fn new_client() -> reqwest::Client {
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().expect("client")
    }

    /// GETs a path with a given client.
    pub async fn get_with(&self, client: &reqwest::Client, path: &str) -> (u16, String) {
        let response = client.get(format!("{}{path}", self.base)).send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }

    /// POSTs a form with `client`, taking the CSRF token from the page at `form_page`.
    pub async fn post_with(&self, client: &reqwest::Client, form_page: &str, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let (_, page) = self.get_with(client, form_page).await;
        let token = csrf_in(&page);
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &token));
        client.post(format!("{}{path}", self.base)).form(&all).send().await.expect("post")
    }

    /// POSTs a form with the app's own client.
    pub async fn post(&self, form_page: &str, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.post_with(&self.client, form_page, path, fields).await
    }

    /// Creates an active account through the operator command's code path.
    pub async fn create_user(&self, email: &str, role: &str, enterprise: Option<&str>) -> i64 {
        ndp::accounts::create(&self.pool, email, role, enterprise, None, Some(PASSWORD.into())).await.expect("create user").id
    }

    /// Signs `client` in with the password; returns the redirect target.
    pub async fn login_with(&self, client: &reqwest::Client, email: &str) -> String {
        let response = self.post_with(client, "/login", "/login", &[("email", email), ("password", PASSWORD), ("next", "/account")]).await;
        assert_eq!(response.status().as_u16(), 303, "sign-in of {email}: {}", response.text().await.unwrap_or_default());
        response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
    }

    /// Signs a staff account in and sets up TOTP for it, so the session has its second factor.
    /// Returns the TOTP secret.
    pub async fn login_staff_with(&self, client: &reqwest::Client, email: &str) -> String {
        self.login_with(client, email).await;
        let (_, page) = self.get_with(client, "/account/security").await;
        let marker = "id=\"totp-secret\">";
        let start = page.find(marker).expect("secret shown") + marker.len();
        let secret: String = page[start..].chars().take_while(|c| *c != '<').filter(|c| !c.is_whitespace()).collect();
        let code = ndp::auth::totp::code_at(&secret, ndp::auth::totp::now_unix()).expect("code");
        let response = self.post_with(client, "/account/security", "/account/security/totp", &[("code", &code)]).await;
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        assert!(status == 200 && body.contains("<code>"), "TOTP enrolment: {status}\n{body}");
        secret
    }

    /// A TOTP code for `email` that the portal has not seen yet: the current step, or a later one
    /// when the current step is used up (waits, with a deadline, when even the next step is used).
    pub async fn fresh_totp_code(&self, email: &str, secret: &str) -> String {
        let last: Option<i64> = sqlx::query_scalar("select totp_last_step from users where lower(email) = lower($1)")
            .bind(email)
            .fetch_one(&self.pool)
            .await
            .expect("the account's last TOTP step");
        let step = || {
            let now = i64::try_from(ndp::auth::totp::now_unix() / 30).expect("step");
            // The newest usable step: it stays valid for the next 30 to 60 seconds (one step late is accepted).
            let step = last.map_or(now, |l| (l + 1).max(now));
            (step <= now + 1).then_some(step)
        };
        wait_until(std::time::Duration::from_secs(90), || async { step().is_some() }).await.expect("a fresh TOTP step");
        let unix = u64::try_from(step().expect("step") * 30).expect("time");
        ndp::auth::totp::code_at(secret, unix).expect("code")
    }

    /// The newest mail queued for `to` with `template`: its body.
    pub async fn last_mail(&self, to: &str, template: &str) -> String {
        sqlx::query_scalar::<_, String>(
            "select body_text from mail_outbox where lower(to_address) = lower($1) and template = $2 order by id desc limit 1",
        )
        .bind(to)
        .bind(template)
        .fetch_optional(&self.pool)
        .await
        .expect("query")
        .unwrap_or_else(|| panic!("no {template} mail to {to}"))
    }
}

/// The path of the first portal link in a mail body (`http://host/path` → `/path`).
pub fn link_in(body: &str) -> String {
    let start = body.find("http").expect("a link in the mail");
    let url: String = body[start..].chars().take_while(|c| !c.is_whitespace()).collect();
    let after_scheme = url.split_once("://").expect("scheme").1;
    format!("/{}", after_scheme.split_once('/').expect("path").1)
}
