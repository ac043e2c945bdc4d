//! ndp: the National Digital Platforms Portal of Vietnam (Cổng thông tin nền tảng số quốc gia).
//!
//! The library holds the whole portal; the `ndp` binary only parses the command line and calls it.

/// Operator commands on accounts (`ndp user ...`).
pub mod accounts;
/// Static files served under content-hashed names.
pub mod assets;
/// Authentication: passwords, tokens, TOTP, sessions, CSRF.
pub mod auth;
/// Command-line operations shared by the binary and the tests (serve, migrate, seed).
pub mod cli;
/// Every environment variable, read once.
pub mod config;
/// All SQL: connection, migrations, queries.
pub mod db;
/// Domain vocabulary and validation, free of web and database types.
pub mod domain;
/// The embedded PostgreSQL cluster used when no `DATABASE_URL` is given.
pub mod embedded_pg;
/// `AppError` and how errors become responses.
pub mod error;
/// Request extractors: page context (language, layout data).
pub mod extract;
/// Translations and per-request language.
pub mod i18n;
/// The portal's limits: sign-in throttling and hourly allowances, shared by every process.
pub mod limits;
/// Background work: the mail sender, reminders and housekeeping.
pub mod mail;
/// Markdown rendering with sanitising.
pub mod markdown;
/// The route table and the handlers.
pub mod routes;
/// Search with tantivy: schema, indexer, queries.
pub mod search;
/// Loading the reference facts (`seed/`) and generating synthetic catalogues.
pub mod seed;
/// The HTTP server: connection limits and timeouts against slow clients.
pub mod server;
/// Shared application state.
pub mod state;
/// Logging set-up.
pub mod telemetry;

pub use routes::app;

rust_i18n::i18n!("src/locales", fallback = "vi");
