//! Black-box tests against a real PostgreSQL. One test binary, so one database server per run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests")]

mod accounts;
mod browser;
mod common;
mod enterprise;
mod hostile;
mod launcher;
mod opinions;
mod pages;
mod schema;
mod search;
mod security;
mod seed;
