//! The embedded PostgreSQL cluster: found, initialised, started and stopped by the portal itself.
//!
//! With no `DATABASE_URL`, the portal runs its own cluster under the data directory using the
//! server programs installed on the machine. The cluster listens only on a Unix socket inside the
//! data directory (no TCP port, so nothing collides with other servers). PostgreSQL refuses to run
//! as root, so when the portal runs as root the cluster runs as an unprivileged system user.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use sqlx::postgres::PgConnectOptions;
use tokio::process::Command;

/// Name of the superuser role created in the embedded cluster.
pub const SUPERUSER: &str = "ndp";
/// Name of the portal's database in the embedded cluster.
pub const DATABASE: &str = "ndp";
/// The port number only names the socket file (`.s.PGSQL.5432`); no TCP port is opened.
const PORT: u16 = 5432;
/// Unix socket paths are limited to 107 bytes on Linux.
const MAX_SOCKET_PATH: usize = 107;

/// Why the embedded cluster could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// No PostgreSQL server programs were found.
    #[error(
        "PostgreSQL server programs (initdb, pg_ctl, postgres) were not found{searched}.\n\
         Install them (Debian/Ubuntu: `apt-get install postgresql`; Fedora: `dnf install postgresql-server`), \
         point NDP_PG_BINDIR at the directory holding them, \
         or set DATABASE_URL to use an existing PostgreSQL server instead."
    )]
    ProgramsNotFound {
        /// Where we looked, for the message.
        searched: String,
    },
    /// The portal runs as root and the unprivileged user for the cluster does not exist.
    #[error(
        "the portal runs as root, and PostgreSQL refuses to run as root; the system user `{0}` that should \
         run the cluster does not exist. Create it, set NDP_PG_USER to another unprivileged user, \
         run the portal as a normal user, or set DATABASE_URL."
    )]
    NoSystemUser(String),
    /// The socket path would be too long for a Unix socket.
    #[error(
        "the data directory {0} is too deep for a Unix socket path (limit {MAX_SOCKET_PATH} bytes); \
         set NDP_DATA_DIR to a shorter path"
    )]
    SocketPathTooLong(PathBuf),
    /// The unprivileged user cannot reach the data directory.
    #[error(
        "the system user `{user}` that runs the cluster cannot write to {dir}; a parent directory is probably \
         private (for example /root). Set NDP_DATA_DIR to a directory it can reach, such as /var/lib/ndp"
    )]
    DirectoryNotReachable {
        /// The cluster's system user.
        user: String,
        /// The directory it cannot reach.
        dir: PathBuf,
    },
    /// A PostgreSQL program failed; its output is included.
    #[error("{program} failed: {output}")]
    ProgramFailed {
        /// Which program.
        program: String,
        /// What it printed.
        output: String,
    },
    /// A file-system or process error.
    #[error("{context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> LaunchError {
    let context = context.into();
    move |source| LaunchError::Io { context, source }
}

/// An unprivileged system account that runs the cluster when the portal runs as root.
#[derive(Debug, Clone)]
struct SystemUser {
    name: String,
    uid: u32,
    gid: u32,
}

/// What [`EmbeddedPg::start`] found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Started {
    /// The cluster was created (initdb) by this start.
    pub created: bool,
    /// A server was already running on the cluster's files, so none was started.
    pub was_running: bool,
}

/// A running (or startable) embedded cluster.
#[derive(Debug)]
pub struct EmbeddedPg {
    bindir: PathBuf,
    pgdata: PathBuf,
    run_dir: PathBuf,
    run_as: Option<SystemUser>,
}

impl EmbeddedPg {
    /// Prepares a cluster under `data_dir` (`<data_dir>/postgres` for the cluster files,
    /// `<data_dir>/postgres-run` for the socket and the server log). Nothing is started yet.
    pub fn new(data_dir: &Path, bindir: Option<&Path>, system_user: &str) -> Result<Self, LaunchError> {
        let bindir = find_server_programs(bindir)?;
        let run_as = if nix::unistd::geteuid().is_root() { Some(lookup_system_user(system_user)?) } else { None };
        std::fs::create_dir_all(data_dir).map_err(io_err(format!("creating {}", data_dir.display())))?;
        let data_dir = std::fs::canonicalize(data_dir).map_err(io_err(format!("resolving {}", data_dir.display())))?;
        let run_dir = data_dir.join("postgres-run");
        let socket_len = run_dir.join(format!(".s.PGSQL.{PORT}")).as_os_str().len();
        if socket_len > MAX_SOCKET_PATH {
            return Err(LaunchError::SocketPathTooLong(data_dir));
        }
        Ok(Self { bindir, pgdata: data_dir.join("postgres"), run_dir, run_as })
    }

    /// The directory holding the cluster's files.
    pub fn pgdata(&self) -> &Path {
        &self.pgdata
    }

    /// The system user the cluster runs as, when the portal runs as root.
    pub fn system_user(&self) -> Option<&str> {
        self.run_as.as_ref().map(|u| u.name.as_str())
    }

    /// Creates the cluster if it does not exist yet, then starts it unless it already runs.
    pub async fn start(&self) -> Result<Started, LaunchError> {
        for dir in [&self.pgdata, &self.run_dir] {
            self.make_owned_dir(dir)?;
        }
        self.check_reachable().await?;
        let created = !self.pgdata.join("PG_VERSION").exists();
        if created {
            self.initdb().await?;
        }
        self.write_settings()?;
        let was_running = self.is_running().await;
        if !was_running {
            let log = self.run_dir.join("server.log");
            self.run_program(
                "pg_ctl",
                [
                    OsStr::new("start"),
                    OsStr::new("-w"),
                    OsStr::new("-t"),
                    OsStr::new("120"),
                    OsStr::new("-s"),
                    OsStr::new("-D"),
                    self.pgdata.as_os_str(),
                    OsStr::new("-l"),
                    log.as_os_str(),
                ],
            )
            .await
            .map_err(|e| with_log_tail(e, &log))?;
        }
        Ok(Started { created, was_running })
    }

    /// Stops the cluster, letting running transactions end (`-m fast` rolls back open ones).
    pub async fn stop(&self) -> Result<(), LaunchError> {
        if !self.is_running().await {
            return Ok(());
        }
        self.run_program(
            "pg_ctl",
            [
                OsStr::new("stop"),
                OsStr::new("-w"),
                OsStr::new("-s"),
                OsStr::new("-m"),
                OsStr::new("fast"),
                OsStr::new("-D"),
                self.pgdata.as_os_str(),
            ],
        )
        .await
        .map(|_| ())
    }

    /// Whether a server is running on this cluster's files.
    pub async fn is_running(&self) -> bool {
        self.command("pg_ctl")
            .args([OsStr::new("status"), OsStr::new("-D"), self.pgdata.as_os_str()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .is_ok_and(|s| s.success())
    }

    /// Connection options for `database` in this cluster, over the Unix socket.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new().socket(&self.run_dir).port(PORT).username(SUPERUSER).database(database)
    }

    /// A `postgres://` URL for this cluster, for tools such as `psql` and `pg_dump`.
    pub fn url(&self, database: &str) -> String {
        let host: String = self
            .run_dir
            .to_string_lossy()
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        format!("postgres://{SUPERUSER}@{host}:{PORT}/{database}")
    }

    fn make_owned_dir(&self, dir: &Path) -> Result<(), LaunchError> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))?;
        if let Some(user) = &self.run_as {
            std::os::unix::fs::chown(dir, Some(user.uid), Some(user.gid)).map_err(io_err(format!(
                "giving {} to {}",
                dir.display(),
                user.name
            )))?;
        }
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io_err(format!("restricting {}", dir.display())))
    }

    async fn check_reachable(&self) -> Result<(), LaunchError> {
        let Some(user) = &self.run_as else { return Ok(()) };
        let ok = self
            .command_as("sh")
            .args([OsStr::new("-c"), OsStr::new("test -w \"$1\" && test -x \"$1\""), OsStr::new("sh"), self.run_dir.as_os_str()])
            .status()
            .await
            .is_ok_and(|s| s.success());
        if ok { Ok(()) } else { Err(LaunchError::DirectoryNotReachable { user: user.name.clone(), dir: self.run_dir.clone() }) }
    }

    async fn initdb(&self) -> Result<(), LaunchError> {
        self.run_program(
            "initdb",
            [
                OsStr::new("-D"),
                self.pgdata.as_os_str(),
                OsStr::new("-U"),
                OsStr::new(SUPERUSER),
                OsStr::new("--auth=trust"),
                OsStr::new("--encoding=UTF8"),
                OsStr::new("--locale=C"),
                OsStr::new("--no-instructions"),
            ],
        )
        .await
        .map(|_| ())
    }

    /// Writes the portal's own settings into `ndp.conf`, included from `postgresql.conf`.
    /// Rewritten on every start so that a moved data directory keeps working.
    fn write_settings(&self) -> Result<(), LaunchError> {
        let conf = self.pgdata.join("postgresql.conf");
        let current = std::fs::read_to_string(&conf).map_err(io_err(format!("reading {}", conf.display())))?;
        let include = "include_if_exists = 'ndp.conf'";
        if !current.contains(include) {
            std::fs::write(&conf, format!("{current}\n{include}\n")).map_err(io_err(format!("writing {}", conf.display())))?;
        }
        let socket_dir = self.run_dir.to_string_lossy().replace('\'', "''");
        let settings = format!(
            "# Written by ndp on every start; edit postgresql.conf for your own settings.\n\
             listen_addresses = ''\n\
             port = {PORT}\n\
             unix_socket_directories = '{socket_dir}'\n\
             unix_socket_permissions = 0700\n\
             max_connections = 200\n\
             shared_buffers = 128MB\n\
             fsync = on\n"
        );
        let ndp_conf = self.pgdata.join("ndp.conf");
        std::fs::write(&ndp_conf, settings).map_err(io_err(format!("writing {}", ndp_conf.display())))?;
        if let Some(user) = &self.run_as {
            for file in [&conf, &ndp_conf] {
                std::os::unix::fs::chown(file, Some(user.uid), Some(user.gid)).map_err(io_err(format!(
                    "giving {} to {}",
                    file.display(),
                    user.name
                )))?;
            }
        }
        Ok(())
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = self.command_as(self.bindir.join(program));
        cmd.env("LC_ALL", "C").env_remove("PGDATA").env_remove("PGHOST").env_remove("PGPORT");
        cmd
    }

    fn command_as(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.stdin(Stdio::null()).current_dir(&self.run_dir).kill_on_drop(false);
        if let Some(user) = &self.run_as {
            cmd.uid(user.uid).gid(user.gid).env("HOME", &self.run_dir).env("USER", &user.name);
        }
        cmd
    }

    async fn run_program<I, S>(&self, program: &str, args: I) -> Result<String, LaunchError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let output = self
            .command(program)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .await
            .map_err(io_err(format!("running {program}")))?;
        let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        if output.status.success() {
            Ok(text)
        } else {
            Err(LaunchError::ProgramFailed { program: program.to_owned(), output: text.trim().to_owned() })
        }
    }
}

fn with_log_tail(err: LaunchError, log: &Path) -> LaunchError {
    match err {
        LaunchError::ProgramFailed { program, output } => {
            let tail = std::fs::read_to_string(log).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(10).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            LaunchError::ProgramFailed { program, output: format!("{output}\n{}", tail.join("\n")) }
        }
        other => other,
    }
}

const SERVER_PROGRAMS: [&str; 3] = ["initdb", "pg_ctl", "postgres"];

fn has_server_programs(dir: &Path) -> bool {
    SERVER_PROGRAMS.iter().all(|p| dir.join(p).is_file())
}

/// Finds the directory holding `initdb`, `pg_ctl` and `postgres`.
///
/// With an explicit directory, only that one is considered. Otherwise: the newest
/// `/usr/lib/postgresql/<version>/bin` (Debian, Ubuntu), `/usr/pgsql-<version>/bin` (RHEL),
/// `/usr/local/pgsql/bin`, then every directory on `PATH`.
pub fn find_server_programs(explicit: Option<&Path>) -> Result<PathBuf, LaunchError> {
    if let Some(dir) = explicit {
        return if has_server_programs(dir) {
            Ok(dir.to_path_buf())
        } else {
            Err(LaunchError::ProgramsNotFound { searched: format!(" in {} (NDP_PG_BINDIR)", dir.display()) })
        };
    }
    let mut candidates = versioned_dirs(Path::new("/usr/lib/postgresql"), "", "bin");
    candidates.extend(versioned_dirs(Path::new("/usr"), "pgsql-", "bin"));
    candidates.push(PathBuf::from("/usr/local/pgsql/bin"));
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path));
    }
    candidates
        .into_iter()
        .find(|dir| has_server_programs(dir))
        .ok_or_else(|| LaunchError::ProgramsNotFound { searched: " in /usr/lib/postgresql, /usr/pgsql-*, /usr/local/pgsql or PATH".into() })
}

/// `<parent>/<prefix><version>/<sub>` directories, newest version first.
fn versioned_dirs(parent: &Path, prefix: &str, sub: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(parent) else { return Vec::new() };
    let mut found: Vec<(Vec<u32>, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let version = name.strip_prefix(prefix)?;
            let key: Vec<u32> = version.split('.').map(str::parse).collect::<Result<_, _>>().ok()?;
            Some((key, e.path().join(sub)))
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0));
    found.into_iter().map(|(_, p)| p).collect()
}

fn lookup_system_user(name: &str) -> Result<SystemUser, LaunchError> {
    match nix::unistd::User::from_name(name) {
        Ok(Some(user)) if !user.uid.is_root() => Ok(SystemUser { name: name.to_owned(), uid: user.uid.as_raw(), gid: user.gid.as_raw() }),
        _ => Err(LaunchError::NoSystemUser(name.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_directory_without_programs_is_reported_with_the_package_name() {
        let dir = std::env::temp_dir();
        let err = find_server_programs(Some(&dir)).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("apt-get install postgresql"), "{text}");
        assert!(text.contains("DATABASE_URL"), "{text}");
    }

    #[test]
    fn versioned_directories_are_sorted_newest_first() {
        let root = tempfile::tempdir().unwrap();
        for v in ["9.6", "15", "13", "notaversion"] {
            std::fs::create_dir_all(root.path().join(v).join("bin")).unwrap();
        }
        let dirs = versioned_dirs(root.path(), "", "bin");
        let names: Vec<_> = dirs.iter().map(|d| d.parent().unwrap().file_name().unwrap().to_str().unwrap()).collect();
        assert_eq!(names, ["15", "13", "9.6"]);
    }
}
