//! The portal's mails that are not answers to a form (monthly-report reminders, notices to
//! enterprises), written in each recipient's language, and the background work of each process:
//! delivering the mail outbox (SMTP when `NDP_SMTP_URL` is set, otherwise one `.eml` file per mail
//! under `<data dir>/mail/`) and housekeeping (expired sessions, old tokens, stale counters).

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::db::outbox::{self, Pending};
use crate::i18n::Lang;

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
    if let Err(e) = queue_report_reminders(pool, time::OffsetDateTime::now_utc()).await {
        tracing::warn!(error = %e, "report reminders failed");
    }
}

/// From the 20th to the 25th (Vietnam time), queues one reminder per enterprise account whose
/// enterprise still owes last month's report, in the account's language; each account is
/// reminded once per period.
pub async fn queue_report_reminders(pool: &PgPool, now: time::OffsetDateTime) -> sqlx::Result<usize> {
    use crate::db::reports::{VIETNAM, deadline, owing_reminders, period_of, period_text, previous_period};
    let today = now.to_offset(VIETNAM).date();
    if !(20..=25).contains(&today.day()) {
        return Ok(0);
    }
    let period = previous_period(period_of(today));
    let template = format!("report_reminder_{}", period_text(period));
    let owing = owing_reminders(pool, period, &template).await?;
    let due = deadline(period);
    for account in &owing {
        let lang = Lang::parse(&account.locale).unwrap_or_default();
        let args = [("period", period_text(period)), ("platforms", account.platforms.clone()), ("deadline", lang.date(due.date()))];
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mail = outbox::Mail {
            to: &account.email,
            subject: lang.t_with("mail.report_reminder_subject", &args),
            body: lang.t_with("mail.report_reminder_body", &args),
            template: &template,
        };
        outbox::queue(pool, mail).await?;
    }
    Ok(owing.len())
}

/// Tells the platform's enterprise, in each account's language, that a rating or feedback about
/// it was published at `link` (absolute), in the transaction that published it.
pub async fn queue_new_item_notices(tx: &mut sqlx::PgConnection, platform_id: i64, link: &str) -> sqlx::Result<()> {
    for (email, locale) in crate::db::contributions::platform_owners(&mut *tx, platform_id).await? {
        let lang = Lang::parse(&locale).unwrap_or_default();
        let body = lang.t_with("mail.new_item_body", &[("link", link)]);
        outbox::queue(&mut *tx, outbox::Mail { to: &email, subject: lang.t("mail.new_item_subject"), body, template: "new_item" }).await?;
    }
    Ok(())
}

/// Tells the owner of an enterprise account, in their language, that staff approved it (it may
/// now act for its enterprise) or rejected it.
pub async fn queue_account_decided(tx: &mut sqlx::PgConnection, account: &crate::db::users::UserRow, approved: bool) -> sqlx::Result<()> {
    let lang = Lang::parse(&account.locale).unwrap_or_default();
    let (subject, body, template) = if approved {
        ("mail.account_approved_subject", "mail.account_approved_body", "account_approved")
    } else {
        ("mail.account_rejected_subject", "mail.account_rejected_body", "account_rejected")
    };
    outbox::queue(&mut *tx, outbox::Mail { to: &account.email, subject: lang.t(subject), body: lang.t(body), template }).await
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
