//! Every environment variable the portal reads, read once at start-up.
//!
//! Nothing else in the crate calls `std::env::var`. Secrets are redacted in `Debug`.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Default address the portal listens on.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// Runtime configuration, built from the environment by [`Config::from_env`].
#[derive(Clone)]
pub struct Config {
    /// `DATABASE_URL`: an external PostgreSQL server; when unset an embedded cluster is started.
    pub database_url: Option<String>,
    /// `DATABASE_READ_URL`: optional read replica for read-heavy pages.
    pub database_read_url: Option<String>,
    /// `NDP_DATA_DIR`: where the embedded cluster, the search index, mail and uploads live.
    pub data_dir: PathBuf,
    /// `NDP_BIND`: socket address to listen on.
    pub bind: SocketAddr,
    /// `NDP_BASE_URL`: the public address, used in links and to decide on secure cookies.
    pub base_url: Option<String>,
    /// `NDP_SECRET_KEY`: key for signed cookies and tokens.
    pub secret_key: Option<String>,
    /// `NDP_SMTP_URL`: mail server; without it mails are written under the data directory.
    pub smtp_url: Option<String>,
    /// `NDP_MAIL_FROM`: sender of the portal's mails.
    pub mail_from: String,
    /// `NDP_PG_BINDIR`: directory holding `initdb`, `postgres` and `pg_ctl`; found automatically when unset.
    pub pg_bindir: Option<PathBuf>,
    /// `NDP_PG_USER`: system user that runs the embedded cluster when the portal runs as root.
    pub pg_system_user: String,
    /// `NDP_DB_MAX_CONNECTIONS`: pool size.
    pub db_max_connections: u32,
    /// `NDP_REQUEST_TIMEOUT_SECS`: per-request time limit.
    pub request_timeout_secs: u64,
    /// `NDP_AUTO_SEED`: seed the reference facts into an empty database on start (default on).
    pub auto_seed: bool,
    /// `NDP_SEARCH_CACHE_MB`: memory for search results kept until the index changes (0 turns the
    /// cache off).
    pub search_cache_mb: usize,
    /// `NDP_SEARCH_ROW_CACHE_MB`: memory for the rows search pages show (platform cards, titles),
    /// kept until the index changes, so that a new search need not read them again (0 turns it off).
    pub search_row_cache_mb: usize,
}

/// A configuration value that could not be understood.
#[derive(Debug, thiserror::Error)]
#[error("{name} is not valid: {reason}")]
pub struct ConfigError {
    name: &'static str,
    reason: String,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `get`, so tests can supply their own values.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let non_empty = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let bind_text = non_empty("NDP_BIND").unwrap_or_else(|| DEFAULT_BIND.to_owned());
        let bind = bind_text
            .parse()
            .map_err(|e| ConfigError { name: "NDP_BIND", reason: format!("{e} (expected an address such as {DEFAULT_BIND})") })?;
        Ok(Self {
            database_url: non_empty("DATABASE_URL"),
            database_read_url: non_empty("DATABASE_READ_URL"),
            data_dir: PathBuf::from(non_empty("NDP_DATA_DIR").unwrap_or_else(|| "data".into())),
            bind,
            base_url: non_empty("NDP_BASE_URL").map(|u| u.trim_end_matches('/').to_owned()),
            secret_key: non_empty("NDP_SECRET_KEY"),
            smtp_url: non_empty("NDP_SMTP_URL"),
            mail_from: non_empty("NDP_MAIL_FROM").unwrap_or_else(|| "Cổng nền tảng số quốc gia <no-reply@localhost>".into()),
            pg_bindir: non_empty("NDP_PG_BINDIR").map(PathBuf::from),
            pg_system_user: non_empty("NDP_PG_USER").unwrap_or_else(|| "postgres".into()),
            db_max_connections: parse_number(&non_empty, "NDP_DB_MAX_CONNECTIONS", 16)?,
            request_timeout_secs: parse_number(&non_empty, "NDP_REQUEST_TIMEOUT_SECS", 30)?,
            auto_seed: non_empty("NDP_AUTO_SEED").is_none_or(|v| !matches!(v.as_str(), "0" | "false" | "no")),
            search_cache_mb: parse_number(&non_empty, "NDP_SEARCH_CACHE_MB", 64)?,
            search_row_cache_mb: parse_number(&non_empty, "NDP_SEARCH_ROW_CACHE_MB", 16)?,
        })
    }

    /// The public base URL: `NDP_BASE_URL`, or the bound address.
    pub fn public_url(&self, bound: SocketAddr) -> String {
        self.base_url.clone().unwrap_or_else(|| format!("http://{bound}"))
    }
}

fn parse_number<T: std::str::FromStr>(get: &impl Fn(&str) -> Option<String>, name: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: fmt::Display,
{
    match get(name) {
        None => Ok(default),
        Some(text) => text.trim().parse().map_err(|e: T::Err| ConfigError { name, reason: e.to_string() }),
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("Config")
            .field("database_url", &redact(&self.database_url))
            .field("database_read_url", &redact(&self.database_read_url))
            .field("data_dir", &self.data_dir)
            .field("bind", &self.bind)
            .field("base_url", &self.base_url)
            .field("secret_key", &redact(&self.secret_key))
            .field("smtp_url", &redact(&self.smtp_url))
            .field("pg_bindir", &self.pg_bindir)
            .field("pg_system_user", &self.pg_system_user)
            .field("db_max_connections", &self.db_max_connections)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("auto_seed", &self.auto_seed)
            .field("search_cache_mb", &self.search_cache_mb)
            .field("search_row_cache_mb", &self.search_row_cache_mb)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(|name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned()))
    }

    #[test]
    fn defaults_need_no_environment() {
        let c = config(&[]).unwrap();
        assert_eq!(c.bind.to_string(), DEFAULT_BIND);
        assert_eq!(c.data_dir, PathBuf::from("data"));
        assert!(c.database_url.is_none());
        assert!(c.auto_seed);
    }

    #[test]
    fn bad_bind_address_is_reported_by_name() {
        let err = config(&[("NDP_BIND", "not-an-address")]).unwrap_err();
        assert!(err.to_string().contains("NDP_BIND"));
    }

    #[test]
    fn secrets_do_not_appear_in_debug_output() {
        let c = config(&[("DATABASE_URL", "postgres://u:hunter2@h/db"), ("NDP_SECRET_KEY", "s3cret")]).unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"));
        assert!(!shown.contains("s3cret"));
    }
}
