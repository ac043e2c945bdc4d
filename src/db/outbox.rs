//! The mail outbox: mails are written in the transaction of the action that causes them and
//! delivered later by the sender task (`crate::mail`).

use sqlx::PgExecutor;

/// A mail to queue.
#[derive(Debug, Clone)]
pub struct Mail<'a> {
    /// Recipient.
    pub to: &'a str,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// Which mail this is (`verify_email`, `revision_approved`, ...), for tests and dedupe.
    pub template: &'a str,
}

/// Queues a mail.
pub async fn queue(db: impl PgExecutor<'_>, mail: Mail<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into mail_outbox (to_address, subject, body_text, template) values ($1, $2, $3, $4)",
        mail.to,
        mail.subject,
        mail.body,
        mail.template
    )
    .execute(db)
    .await
    .map(drop)
}

/// Whether a mail of `template` already went (or waits to go) to `to`.
pub async fn exists(db: impl PgExecutor<'_>, to: &str, template: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from mail_outbox where lower(to_address) = lower($1) and template = $2) as "e!""#,
        to,
        template
    )
    .fetch_one(db)
    .await
}

/// A mail claimed for delivery.
#[derive(Debug, Clone)]
pub struct Pending {
    /// Id.
    pub id: i64,
    /// Recipient.
    pub to_address: String,
    /// Subject.
    pub subject: String,
    /// Body.
    pub body_text: String,
    /// Template name.
    pub template: String,
}

/// Claims up to `limit` due mails (other processes skip the claimed rows until this transaction ends).
pub async fn claim(tx: &mut sqlx::PgConnection, limit: i64) -> sqlx::Result<Vec<Pending>> {
    sqlx::query_as!(
        Pending,
        r#"select id, to_address, subject, body_text, template from mail_outbox
           where sent_at is null and send_after <= now()
           order by send_after limit $1 for update skip locked"#,
        limit
    )
    .fetch_all(tx)
    .await
}

/// Marks a mail delivered.
pub async fn mark_sent(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<()> {
    sqlx::query!("update mail_outbox set sent_at = now(), attempts = attempts + 1 where id = $1", id).execute(db).await.map(drop)
}

/// Records a failed attempt and schedules a retry with a growing delay.
pub async fn mark_failed(db: impl PgExecutor<'_>, id: i64, error: &str) -> sqlx::Result<()> {
    sqlx::query!(
        r#"update mail_outbox set attempts = attempts + 1, last_error = $2,
                  send_after = now() + make_interval(mins => least(60, power(2, attempts)::int))
           where id = $1"#,
        id,
        error
    )
    .execute(db)
    .await
    .map(drop)
}
