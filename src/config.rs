//! Every environment variable the portal reads, read once at start-up.
//!
//! Nothing else in the crate calls `std::env::var`. Secrets are redacted in `Debug`.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use ipnet::IpNet;

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
    /// `NDP_BASE_URL`: the public address (`http[s]://host[:port]`, no path), used in links in
    /// mails, to decide on secure cookies and HSTS, and as the only `Host` requests may name.
    pub base_url: Option<String>,
    /// `NDP_SECRET_KEY`: key for signed cookies and tokens.
    pub secret_key: Option<String>,
    /// `NDP_OLD_SECRET_KEY`: the previous key, read only by `ndp rotate-secret`.
    pub old_secret_key: Option<String>,
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
    /// `NDP_TRUSTED_PROXIES`: reverse proxies (addresses or networks) whose `X-Forwarded-For` is
    /// believed; empty: the TCP peer is the client.
    pub trusted_proxies: Vec<IpNet>,
    /// `NDP_METRICS_ALLOW`: client addresses (or networks) that may read `/metrics`; loopback by default.
    pub metrics_allow: Vec<IpNet>,
    /// `NDP_MAX_CONNECTIONS`: open HTTP connections at most; further ones wait to be accepted.
    pub max_connections: usize,
    /// `NDP_MAX_CONNECTIONS_PER_CLIENT`: open connections one client address (IPv6: /64) may hold;
    /// trusted proxies are not limited.
    pub max_connections_per_client: usize,
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
            base_url: non_empty("NDP_BASE_URL").map(|u| parse_base_url(&u)).transpose()?,
            secret_key: non_empty("NDP_SECRET_KEY"),
            old_secret_key: non_empty("NDP_OLD_SECRET_KEY"),
            smtp_url: non_empty("NDP_SMTP_URL"),
            mail_from: non_empty("NDP_MAIL_FROM").unwrap_or_else(|| "Cổng nền tảng số quốc gia <no-reply@localhost>".into()),
            pg_bindir: non_empty("NDP_PG_BINDIR").map(PathBuf::from),
            pg_system_user: non_empty("NDP_PG_USER").unwrap_or_else(|| "postgres".into()),
            db_max_connections: parse_number(&non_empty, "NDP_DB_MAX_CONNECTIONS", 16)?,
            request_timeout_secs: parse_number(&non_empty, "NDP_REQUEST_TIMEOUT_SECS", 30)?,
            auto_seed: non_empty("NDP_AUTO_SEED").is_none_or(|v| !matches!(v.as_str(), "0" | "false" | "no")),
            search_cache_mb: parse_number(&non_empty, "NDP_SEARCH_CACHE_MB", 64)?,
            search_row_cache_mb: parse_number(&non_empty, "NDP_SEARCH_ROW_CACHE_MB", 16)?,
            trusted_proxies: parse_networks(non_empty("NDP_TRUSTED_PROXIES").as_deref().unwrap_or(""), "NDP_TRUSTED_PROXIES")?,
            metrics_allow: parse_networks(non_empty("NDP_METRICS_ALLOW").as_deref().unwrap_or("127.0.0.0/8, ::1"), "NDP_METRICS_ALLOW")?,
            max_connections: parse_number(&non_empty, "NDP_MAX_CONNECTIONS", 512)?,
            max_connections_per_client: parse_number(&non_empty, "NDP_MAX_CONNECTIONS_PER_CLIENT", 64)?,
        })
    }

    /// Refuses to serve other hosts without a configured public address: links in mails (password
    /// resets among them) must never be built from what a request claims its host is.
    pub fn check_for_serving(&self) -> Result<(), ConfigError> {
        if self.base_url.is_none() && !self.bind.ip().is_loopback() {
            return Err(ConfigError {
                name: "NDP_BASE_URL",
                reason: format!(
                    "it must be set when NDP_BIND ({}) accepts connections from other hosts, for example \
                     NDP_BASE_URL=https://nentangso.example.gov.vn: links in mails are built from it",
                    self.bind
                ),
            });
        }
        Ok(())
    }

    /// The host (and port, when not the scheme's default) of `NDP_BASE_URL`, lower-cased.
    pub fn base_host(&self) -> Option<&str> {
        self.base_url.as_deref().and_then(|u| u.split_once("://")).map(|(_, host)| host)
    }

    /// Whether the base URL is https (cookies are `Secure`, HSTS is sent).
    pub fn is_https(&self) -> bool {
        self.base_url.as_deref().is_some_and(|u| u.starts_with("https://"))
    }

    /// The public base URL: `NDP_BASE_URL`, or the bound address.
    pub fn public_url(&self, bound: SocketAddr) -> String {
        self.base_url.clone().unwrap_or_else(|| format!("http://{bound}"))
    }
}

/// `scheme://host[:port]`, lower-cased, with the scheme's default port dropped; nothing else.
fn parse_base_url(text: &str) -> Result<String, ConfigError> {
    let invalid =
        |reason: &str| ConfigError { name: "NDP_BASE_URL", reason: format!("{reason} (expected e.g. https://nentangso.example.gov.vn)") };
    let text = text.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, host) = text.split_once("://").ok_or_else(|| invalid("no scheme"))?;
    let default_port = match scheme {
        "http" => ":80",
        "https" => ":443",
        _ => return Err(invalid("the scheme must be http or https")),
    };
    let authority: axum::http::uri::Authority = host.parse().map_err(|_| invalid("not a host name"))?;
    if host.is_empty() || host.contains(['/', '?', '#', '@']) {
        return Err(invalid("only a scheme and a host (and port) are allowed, no path or user"));
    }
    let host = authority.as_str().strip_suffix(default_port).unwrap_or(authority.as_str());
    Ok(format!("{scheme}://{host}"))
}

/// A comma- or space-separated list of addresses (`10.0.0.5`) and networks (`10.0.0.0/8`).
fn parse_networks(text: &str, name: &'static str) -> Result<Vec<IpNet>, ConfigError> {
    text.split([',', ' '])
        .filter(|t| !t.is_empty())
        .map(|t| {
            parse_network(t)
                .ok_or_else(|| ConfigError { name, reason: format!("{t:?} is neither an address nor a network such as 10.0.0.0/8") })
        })
        .collect()
}

fn parse_network(text: &str) -> Option<IpNet> {
    text.parse::<IpNet>().ok().or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
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
            .field("old_secret_key", &redact(&self.old_secret_key))
            .field("smtp_url", &redact(&self.smtp_url))
            .field("pg_bindir", &self.pg_bindir)
            .field("pg_system_user", &self.pg_system_user)
            .field("db_max_connections", &self.db_max_connections)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("auto_seed", &self.auto_seed)
            .field("search_cache_mb", &self.search_cache_mb)
            .field("search_row_cache_mb", &self.search_row_cache_mb)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("metrics_allow", &self.metrics_allow)
            .field("max_connections", &self.max_connections)
            .field("max_connections_per_client", &self.max_connections_per_client)
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
    fn the_base_url_is_a_scheme_and_a_host_only() {
        let ok = [
            ("https://NenTangSo.gov.vn/", "https://nentangso.gov.vn", Some("nentangso.gov.vn")),
            ("https://nentangso.gov.vn:443", "https://nentangso.gov.vn", Some("nentangso.gov.vn")),
            ("http://10.0.0.5:8080", "http://10.0.0.5:8080", Some("10.0.0.5:8080")),
        ];
        for (given, kept, host) in ok {
            let c = config(&[("NDP_BASE_URL", given)]).unwrap();
            assert_eq!(c.base_url.as_deref(), Some(kept), "{given}");
            assert_eq!(c.base_host(), host, "{given}");
        }
        for bad in ["nentangso.gov.vn", "ftp://x.vn", "https://x.vn/portal", "https://u@x.vn", "https://"] {
            assert!(config(&[("NDP_BASE_URL", bad)]).is_err(), "{bad}");
        }
    }

    #[test]
    fn serving_other_hosts_needs_a_base_url() {
        let err = config(&[("NDP_BIND", "0.0.0.0:8080")]).unwrap().check_for_serving().unwrap_err();
        assert!(err.to_string().contains("NDP_BASE_URL"), "{err}");
        assert!(config(&[("NDP_BIND", "0.0.0.0:8080"), ("NDP_BASE_URL", "https://x.vn")]).unwrap().check_for_serving().is_ok());
        assert!(config(&[("NDP_BIND", "[::1]:8080")]).unwrap().check_for_serving().is_ok());
    }

    #[test]
    fn networks_are_addresses_or_prefixes() {
        let c = config(&[("NDP_TRUSTED_PROXIES", "10.0.0.5, 192.168.0.0/16 ::1")]).unwrap();
        assert_eq!(c.trusted_proxies.len(), 3);
        assert!(config(&[]).unwrap().metrics_allow.iter().any(|n| n.contains(&"127.0.0.1".parse::<IpAddr>().unwrap())));
        assert!(config(&[("NDP_METRICS_ALLOW", "not-a-network")]).is_err());
    }

    #[test]
    fn secrets_do_not_appear_in_debug_output() {
        let c = config(&[("DATABASE_URL", "postgres://u:hunter2@h/db"), ("NDP_SECRET_KEY", "s3cret")]).unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"));
        assert!(!shown.contains("s3cret"));
    }
}
