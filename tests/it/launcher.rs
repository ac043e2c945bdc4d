//! The `ndp` binary as a new user runs it: embedded cluster, first start, restart, failures.

use std::io::{BufRead as _, BufReader};
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A portal process started by a test, with the address it printed.
struct Portal {
    child: Child,
    url: String,
    stderr: mpsc::Receiver<String>,
}

fn ndp(data_dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ndp"));
    cmd.env_remove("DATABASE_URL")
        .env_remove("NDP_PG_BINDIR")
        .env("NDP_DATA_DIR", data_dir)
        .env("NDP_BIND", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn lines_of(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn start(data_dir: &Path) -> Portal {
    start_with(data_dir, &[])
}

fn start_with(data_dir: &Path, env: &[(&str, &str)]) -> Portal {
    let mut child = ndp(data_dir).envs(env.iter().copied()).spawn().expect("ndp starts");
    let stdout = lines_of(child.stdout.take().unwrap());
    let stderr = lines_of(child.stderr.take().unwrap());
    let line = stdout.recv_timeout(Duration::from_secs(180)).expect("ndp prints its address");
    let url = line.split_whitespace().find(|w| w.starts_with("http://")).expect("an http address").to_owned();
    Portal { child, url, stderr }
}

impl Portal {
    fn stop(mut self) -> (std::process::ExitStatus, String) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("signal");
        let status = self.child.wait().expect("exit");
        let log: Vec<String> = self.stderr.try_iter().collect();
        (status, log.join("\n"))
    }
}

async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.expect("request");
    (response.status().as_u16(), response.text().await.expect("body"))
}

fn expected_owner() -> u32 {
    if nix::unistd::geteuid().is_root() {
        nix::unistd::User::from_name("postgres").unwrap().expect("postgres user").uid.as_raw()
    } else {
        nix::unistd::geteuid().as_raw()
    }
}

#[tokio::test]
async fn first_start_creates_seeds_and_serves_and_a_restart_reuses_the_data() {
    // Traversable by the unprivileged user that runs the cluster when the tests run as root.
    let dir = tempfile::Builder::new()
        .prefix("ndp-launch-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .tempdir_in("/tmp")
        .unwrap();
    let data = dir.path().join("data");

    let portal = start(&data);
    let (status, home) = get(&portal.url).await;
    assert_eq!(status, 200);
    assert!(home.contains("Nền tảng số Việt Nam"), "the seeded home page is served");
    // The search index is built in the background on a first start; wait for it.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (_, catalogue) = get(&format!("{}/platforms?q=vneid", portal.url)).await;
        if catalogue.contains("VNeID") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the search index is built on the first start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let pgdata = data.join("postgres");
    let owner = std::fs::metadata(&pgdata).unwrap().uid();
    assert_eq!(owner, expected_owner(), "the cluster belongs to an unprivileged user when run as root, else to the user");
    assert_ne!(owner, 0, "PostgreSQL never runs as root");

    let cluster = ndp::embedded_pg::EmbeddedPg::new(&data, None, "postgres").unwrap();
    let pool = sqlx::PgPool::connect_with(cluster.connect_options(ndp::embedded_pg::DATABASE)).await.unwrap();
    sqlx::query(
        "insert into news (slug, title, summary, published_at) values ('kiem-tra-khoi-dong-lai', 'Tin kiểm tra khởi động lại', 'x', now())",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let (exit, log) = portal.stop();
    assert!(exit.success(), "SIGTERM ends the portal cleanly: {log}");
    assert!(log.contains("embedded PostgreSQL stopped"), "{log}");
    assert!(!pgdata.join("postmaster.pid").exists(), "the cluster is stopped");

    let again = start(&data);
    let (_, news) = get(&format!("{}/news", again.url)).await;
    assert!(news.contains("Tin kiểm tra khởi động lại"), "data survives a restart");
    let (exit, log) = again.stop();
    assert!(exit.success());
    assert!(log.contains("created=false"), "the existing cluster is reused: {log}");
}

#[test]
fn serving_other_hosts_without_a_base_url_is_refused_with_a_message_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = ndp(dir.path()).env("NDP_BIND", "0.0.0.0:0").env_remove("NDP_BASE_URL").spawn().unwrap();
    let stderr = lines_of(child.stderr.take().unwrap());
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the portal started serving other hosts without NDP_BASE_URL");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success());
    let message: Vec<String> = stderr.iter().collect();
    let message = message.join("\n");
    assert!(message.contains("NDP_BASE_URL") && message.contains("0.0.0.0"), "{message}");
    assert!(!dir.path().join("postgres").exists(), "refused before anything starts");
}

#[tokio::test]
async fn one_time_tokens_in_paths_never_reach_the_logs() {
    let dir = tempfile::Builder::new()
        .prefix("ndp-logs-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .tempdir_in("/tmp")
        .unwrap();
    let portal = start_with(&dir.path().join("data"), &[("RUST_LOG", "debug,sqlx=warn,tantivy=warn,hyper=warn,h2=warn")]);
    let secret = "S3cretT0kenInAPathS3cretT0kenInAPath0000000";
    let client = reqwest::Client::new();
    for path in [format!("/password/reset/{secret}"), format!("/verify-email/{secret}")] {
        let shown = client.get(format!("{}{path}", portal.url)).send().await.unwrap();
        assert_eq!(shown.status(), 400, "an unknown link");
        let posted = client.post(format!("{}{path}", portal.url)).form(&[("password", "x")]).send().await.unwrap();
        assert_eq!(posted.status(), 403, "no CSRF token: a warning is logged inside the request's span");
    }
    let (_, log) = portal.stop();
    assert!(log.contains("/password/reset/{token}") && log.contains("missing or wrong CSRF token"), "the route is logged: {log}");
    assert!(!log.contains(secret), "the token is not");
}

#[test]
fn missing_server_programs_exit_with_a_helpful_message() {
    let dir = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let output = ndp(dir.path()).env("NDP_PG_BINDIR", empty.path()).output().unwrap();
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("apt-get install postgresql"), "{message}");
    assert!(message.contains("DATABASE_URL"), "{message}");
    assert!(!dir.path().join("postgres").exists(), "no cluster directory is left half-made");
}

#[test]
fn an_unreachable_database_url_is_reported_without_starting_a_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let output = ndp(dir.path()).env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none?connect_timeout=2").output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("could not connect to PostgreSQL"));
    assert!(!dir.path().join("postgres").exists(), "DATABASE_URL means no embedded cluster");
}

#[test]
fn reindex_rebuilds_the_index_and_reports_its_speed() {
    let dir = tempfile::Builder::new()
        .prefix("ndp-reindex-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .tempdir_in("/tmp")
        .unwrap();
    let data = dir.path().join("data");
    let output = ndp(&data).arg("reindex").output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("documents per second"), "{stdout}");
    assert!(ndp::search::index_dir(&data).join("ndp-index-complete").is_file(), "a complete index is in place");
    assert!(!data.join("postgres").join("postmaster.pid").exists(), "the cluster it started is stopped again");
}

#[test]
fn user_commands_create_accounts_with_a_piped_or_generated_password() {
    let dir = tempfile::Builder::new()
        .prefix("ndp-user-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .tempdir_in("/tmp")
        .unwrap();
    let data = dir.path().join("data");
    let mut piped = ndp(&data)
        .args(["user", "create", "--email", "admin@mic.example.vn", "--role", "admin", "--name", "Quản trị"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(piped.stdin.as_mut().unwrap(), "một mật khẩu quản trị dài\n".as_bytes()).unwrap();
    let output = piped.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("created") && !stdout.contains("password"),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let output = ndp(&data)
        .args(["user", "create", "--email", "dn@example.vn", "--role", "enterprise", "--enterprise", "coc-coc"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("no enterprise with slug"), "the reference facts are not loaded yet");
    assert!(ndp(&data).arg("seed").output().unwrap().status.success());
    let output = ndp(&data)
        .args(["user", "create", "--email", "dn@example.vn", "--role", "enterprise", "--enterprise", "coc-coc"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("password (shown once):"),
        "a password is generated and printed once: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = ndp(&data).args(["user", "create", "--email", "dn@example.vn", "--role", "citizen"]).output().unwrap();
    assert!(!output.status.success() && String::from_utf8_lossy(&output.stderr).contains("already exists"));
    let output = ndp(&data).args(["user", "set-role", "--email", "dn@example.vn", "--role", "moderator"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let output = ndp(&data).args(["user", "disable", "--email", "dn@example.vn"]).output().unwrap();
    assert!(output.status.success() && String::from_utf8_lossy(&output.stdout).contains("disabled"));
    let output = ndp(&data).args(["user", "create", "--email", "x@example.vn", "--role", "wizard"]).output().unwrap();
    assert!(!output.status.success() && String::from_utf8_lossy(&output.stderr).contains("unknown role"));
}
