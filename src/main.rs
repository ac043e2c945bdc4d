//! The `ndp` binary: with no arguments it runs the portal; subcommands are for operators.

use clap::{Parser, Subcommand};
use ndp::cli;
use ndp::config::Config;
use std::io::Write as _;
use std::process::ExitCode;

// Searches allocate many small, short-lived buffers from both worker threads at once; glibc's
// allocator spent about a tenth of a search page's time on them, mimalloc about half as much.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "ndp", version, about = "Cổng thông tin nền tảng số quốc gia — National Digital Platforms Portal")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the portal (the default): database, migrations, first-start seed, HTTP server.
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
    /// Load the reference facts from seed/ (running it again changes nothing).
    Seed {
        /// Instead, generate this many clearly marked synthetic platforms for load and search tests.
        #[arg(long, value_name = "N")]
        synthetic: Option<u32>,
        /// Allow synthetic data in a database that holds real data (users, contributions).
        #[arg(long, requires = "synthetic")]
        force: bool,
    },
    /// Rebuild the search index from the database, with a progress bar.
    Reindex,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Print the connection URL of the embedded cluster (for psql, pg_dump), starting it if needed.
    DbUrl,
    /// Stop the embedded cluster that `db-url` started (not while a portal serves from it).
    DbStop,
    /// Change the secret key: re-encrypt the TOTP secrets from the key in NDP_OLD_SECRET_KEY (or
    /// the generated key file) to the one in NDP_SECRET_KEY, and remove the recovery codes, which
    /// cannot be re-keyed. Run it with the portal stopped.
    RotateSecret,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an active account. The password is read from standard input when it is not a
    /// terminal; otherwise one is generated and printed once.
    Create {
        /// Email address (the sign-in name).
        #[arg(long)]
        email: String,
        /// citizen, enterprise, moderator, evaluator or admin.
        #[arg(long)]
        role: String,
        /// For the enterprise role: the slug of the enterprise the account acts for.
        #[arg(long, value_name = "SLUG")]
        enterprise: Option<String>,
        /// Display name shown beside contributions (default: "Người dùng"; never taken from the email).
        #[arg(long)]
        name: Option<String>,
    },
    /// Change the role of an account.
    SetRole {
        /// Email address.
        #[arg(long)]
        email: String,
        /// The new role.
        #[arg(long)]
        role: String,
    },
    /// Disable an account.
    Disable {
        /// Email address.
        #[arg(long)]
        email: String,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    ndp::telemetry::init();
    let args = Cli::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "ndp: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Cli) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    match args.command.unwrap_or(Command::Serve) {
        Command::Serve => cli::serve(config).await,
        Command::Migrate => {
            cli::with_database(&config, |pool| async move { ndp::db::migrate(&pool).await }).await?;
            say("migrations applied")
        }
        Command::Seed { synthetic: None, .. } => {
            let report = cli::with_database(&config, |pool| async move {
                ndp::db::migrate(&pool).await?;
                ndp::seed::load_reference(&pool).await
            })
            .await?;
            say(&format!("reference facts loaded: {report}"))
        }
        Command::Seed { synthetic: Some(n), force } => {
            let made = cli::with_database(&config, |pool| async move {
                ndp::db::migrate(&pool).await?;
                ndp::seed::synthetic::generate(&pool, n, force).await
            })
            .await?;
            say(&format!("{made} synthetic platforms generated (marked \"dữ liệu mẫu\")"))
        }
        Command::Reindex => {
            let report = cli::reindex(&config).await?;
            let seconds = report.elapsed.as_secs_f64();
            say(&format!(
                "search index rebuilt: {} documents in {seconds:.1} s ({:.0} documents per second)",
                report.documents,
                report.documents as f64 / seconds.max(0.001)
            ))
        }
        Command::User(command) => user(&config, command).await,
        Command::RotateSecret => {
            let report = cli::rotate_secret(&config).await?;
            say(&format!(
                "secret key changed: {} TOTP secrets re-encrypted; {} recovery codes removed (people make new ones at /account/security)",
                report.totp_secrets, report.recovery_codes
            ))
        }
        Command::DbUrl => {
            if let Some(url) = &config.database_url {
                return say(url);
            }
            let cluster = ndp::embedded_pg::EmbeddedPg::new(&config.data_dir, config.pg_bindir.as_deref(), &config.pg_system_user)?;
            cluster.start().await?;
            say(&cluster.url(ndp::embedded_pg::DATABASE))
        }
        Command::DbStop => {
            let _lock = cli::PidLock::acquire(&config.data_dir)?;
            let cluster = ndp::embedded_pg::EmbeddedPg::new(&config.data_dir, config.pg_bindir.as_deref(), &config.pg_system_user)?;
            cluster.stop().await?;
            say("embedded PostgreSQL stopped")
        }
    }
}

async fn user(config: &Config, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Create { email, role, enterprise, name } => {
            let password = read_password()?;
            let created = cli::with_database(config, |pool| async move {
                ndp::db::migrate(&pool).await?;
                ndp::accounts::create(&pool, &email, &role, enterprise.as_deref(), name.as_deref(), password).await
            })
            .await?;
            match created.generated_password {
                Some(password) => say(&format!("account {} created; password (shown once): {password}", created.id)),
                None => say(&format!("account {} created", created.id)),
            }
        }
        UserCommand::SetRole { email, role } => {
            cli::with_database(config, |pool| async move { ndp::accounts::set_role(&pool, &email, &role).await }).await?;
            say("role changed")
        }
        UserCommand::Disable { email } => {
            cli::with_database(config, |pool| async move { ndp::accounts::disable(&pool, &email).await }).await?;
            say("account disabled")
        }
    }
}

/// The password piped on standard input, if it is not a terminal.
fn read_password() -> anyhow::Result<Option<String>> {
    use std::io::{BufRead as _, IsTerminal as _};
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(None);
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    Ok((!password.is_empty()).then_some(password))
}

fn say(text: &str) -> anyhow::Result<()> {
    writeln!(std::io::stdout(), "{text}")?;
    Ok(())
}
