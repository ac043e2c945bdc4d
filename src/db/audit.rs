//! The append-only audit log: written by every staff and owner action, never changed.

use crate::db::ids::UserId;
use sqlx::PgExecutor;
use time::OffsetDateTime;

/// Who did something, from where.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    /// The account, if any (`None` for the system or an anonymous visitor).
    pub id: Option<UserId>,
    /// A readable label kept even after the account is erased.
    pub label: String,
    /// The client address.
    pub addr: Option<String>,
    /// The request id, to find the logs.
    pub request_id: Option<String>,
}

impl Actor {
    /// The portal itself (background tasks, operator commands).
    pub fn system(label: &str) -> Self {
        Self { id: None, label: label.to_owned(), addr: None, request_id: None }
    }
}

/// One audit event to write.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    /// What happened, as `noun.verb` (`user.role_changed`, `revision.approved`).
    pub action: &'a str,
    /// Kind of thing acted on.
    pub target_type: &'a str,
    /// Its id.
    pub target_id: String,
    /// Values before.
    pub before: Option<serde_json::Value>,
    /// Values after.
    pub after: Option<serde_json::Value>,
}

impl<'a> Event<'a> {
    /// An event without before/after values.
    pub fn new(action: &'a str, target_type: &'a str, target_id: impl ToString) -> Self {
        Self { action, target_type, target_id: target_id.to_string(), before: None, after: None }
    }

    /// The values before.
    #[must_use]
    pub fn before(mut self, value: serde_json::Value) -> Self {
        self.before = Some(value);
        self
    }

    /// The values after.
    #[must_use]
    pub fn after(mut self, value: serde_json::Value) -> Self {
        self.after = Some(value);
        self
    }

    /// The values before, when there are any.
    #[must_use]
    pub fn before_opt(mut self, value: Option<serde_json::Value>) -> Self {
        self.before = value;
        self
    }
}

/// Writes an event.
pub async fn record(db: impl PgExecutor<'_>, actor: &Actor, event: Event<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        r#"insert into audit_events (actor_id, actor_label, action, target_type, target_id, before, after, client_addr, request_id)
           values ($1, $2, $3, $4, $5, $6, $7, $8::text::inet, $9)"#,
        actor.id.map(|id| id.0),
        actor.label,
        event.action,
        event.target_type,
        event.target_id,
        event.before,
        event.after,
        actor.addr,
        actor.request_id,
    )
    .execute(db)
    .await
    .map(drop)
}

/// An event as listed.
#[derive(Debug, Clone)]
pub struct EventRow {
    /// Id.
    pub id: i64,
    /// When.
    pub occurred_at: OffsetDateTime,
    /// Actor id.
    pub actor_id: Option<i64>,
    /// Actor label.
    pub actor_label: Option<String>,
    /// Action.
    pub action: String,
    /// Target kind.
    pub target_type: Option<String>,
    /// Target id.
    pub target_id: Option<String>,
    /// Before, as JSON text.
    pub before: Option<serde_json::Value>,
    /// After, as JSON text.
    pub after: Option<serde_json::Value>,
    /// Client address.
    pub client_addr: Option<String>,
}

/// Filters of the audit page; empty strings mean "any".
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct Filter {
    /// Action prefix, e.g. `user.` or `revision.approved`.
    pub action: String,
    /// Actor label or id (exact), case-insensitive.
    pub actor: String,
    /// Target kind.
    pub target_type: String,
    /// Target id.
    pub target_id: String,
    /// Show events older than this id (keyset pagination).
    pub before_id: Option<i64>,
}

/// The newest events matching `filter`, `limit` at most.
pub async fn list(db: impl PgExecutor<'_>, filter: &Filter, limit: i64) -> sqlx::Result<Vec<EventRow>> {
    sqlx::query_as!(
        EventRow,
        r#"select id, occurred_at, actor_id, actor_label, action, target_type, target_id, before, after,
                  host(client_addr) as client_addr
           from audit_events
           where ($1 = '' or action like replace(replace($1, '%', '\%'), '_', '\_') || '%')
             and ($2 = '' or lower(actor_label) = lower($2) or actor_id::text = $2)
             and ($3 = '' or target_type = $3)
             and ($4 = '' or target_id = $4)
             and ($5::bigint is null or id < $5)
           order by id desc
           limit $6"#,
        filter.action.trim(),
        filter.actor.trim(),
        filter.target_type.trim(),
        filter.target_id.trim(),
        filter.before_id,
        limit
    )
    .fetch_all(db)
    .await
}
