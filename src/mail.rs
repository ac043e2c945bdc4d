//! Background work of each process: delivering the mail outbox (SMTP when `NDP_SMTP_URL` is set,
//! otherwise one `.eml` file per mail under `<data dir>/mail/`), monthly-report reminders and
//! housekeeping (expired sessions, old tokens, stale throttle rows).

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::db::outbox::{self, Pending};

/// How often the outbox is looked at.
const POLL: Duration = Duration::from_secs(2);
/// How often housekeeping and reminders run.
const CHORES: Duration = Duration::from_secs(600);

/// Where mail goes.
#[derive(Clone)]
enum Delivery {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Folder(PathBuf),
}

/// The running background task.
pub struct Background {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Background {
    /// Starts the task.
    pub fn start(pool: PgPool, config: &Config) -> Self {
        let delivery = match config.smtp_url.as_deref().map(AsyncSmtpTransport::<Tokio1Executor>::from_url) {
            Some(Ok(builder)) => Delivery::Smtp(builder.build()),
            Some(Err(e)) => {
                tracing::error!(error = %e, "NDP_SMTP_URL is not usable; writing mails to the mail folder instead");
                Delivery::Folder(config.data_dir.join("mail"))
            }
            None => Delivery::Folder(config.data_dir.join("mail")),
        };
        let from = config.mail_from.clone();
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut poll = tokio::time::interval(POLL);
            let mut chores = tokio::time::interval(CHORES);
            loop {
                tokio::select! {
                    _ = stopped.changed() => break,
                    _ = poll.tick() => {
                        if let Err(e) = deliver_due(&pool, &delivery, &from).await {
                            tracing::warn!(error = %e, "mail delivery round failed");
                        }
                    }
                    _ = chores.tick() => run_chores(&pool).await,
                }
            }
        });
        Self { stop, task }
    }

    /// Stops the task after its current round.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn run_chores(pool: &PgPool) {
    match crate::db::users::sweep(pool).await {
        Ok(n) if n > 0 => tracing::info!(rows = n, "housekeeping removed expired rows"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "housekeeping failed"),
    }
    if let Err(e) = crate::db::reports::queue_reminders(pool, time::OffsetDateTime::now_utc()).await {
        tracing::warn!(error = %e, "report reminders failed");
    }
}

/// Delivers every due mail once; failures are retried later with a growing delay.
async fn deliver_due(pool: &PgPool, delivery: &Delivery, from: &str) -> anyhow::Result<usize> {
    let mut tx = pool.begin().await?;
    let due = outbox::claim(&mut tx, 20).await?;
    let count = due.len();
    for mail in due {
        match deliver(delivery, from, &mail).await {
            Ok(()) => outbox::mark_sent(&mut *tx, mail.id).await?,
            Err(e) => {
                tracing::warn!(mail.id = mail.id, mail.template = %mail.template, error = %e, "mail not delivered; will retry");
                outbox::mark_failed(&mut *tx, mail.id, &e.to_string()).await?;
            }
        }
    }
    tx.commit().await?;
    Ok(count)
}

async fn deliver(delivery: &Delivery, from: &str, mail: &Pending) -> anyhow::Result<()> {
    match delivery {
        Delivery::Smtp(transport) => {
            let message = Message::builder()
                .from(from.parse::<Mailbox>()?)
                .to(mail.to_address.parse::<Mailbox>()?)
                .subject(&mail.subject)
                .header(ContentType::TEXT_PLAIN)
                .body(mail.body_text.clone())?;
            transport.send(message).await?;
        }
        Delivery::Folder(dir) => {
            tokio::fs::create_dir_all(dir).await?;
            let text = format!(
                "From: {from}\nTo: {}\nSubject: {}\nX-Ndp-Template: {}\n\n{}\n",
                mail.to_address, mail.subject, mail.template, mail.body_text
            );
            tokio::fs::write(dir.join(format!("{:08}-{}.eml", mail.id, mail.template)), text).await?;
        }
    }
    Ok(())
}
