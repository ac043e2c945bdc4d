//! The moderation desk's data: one queue over ratings, feedback, replies, questions and answers
//! (held, flagged or appealed), decisions with their reasons, flags and who made them, the
//! blocklist, and the public monthly report. The moderation columns are the same in every table,
//! so the queue, the decisions and the flags use one query shape with the table taken from
//! [`ItemKind`] (a closed set, never user text): those queries are built at run time; every other
//! query is checked at compile time.

use sqlx::{FromRow, PgConnection, PgExecutor, PgPool};
use time::OffsetDateTime;

use crate::db::ids::UserId;
use crate::domain::moderation::{AppealState, Hold, ItemKind, ItemState, SHIPPED_TERMS};

/// The moderation blocklist.
pub async fn terms(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!("select term from moderation_terms order by term").fetch_all(db).await
}

/// Fills the blocklist from the shipped list when it is empty (first start).
pub async fn seed_terms(db: &PgPool) -> sqlx::Result<()> {
    let shipped: Vec<String> = SHIPPED_TERMS.clone();
    sqlx::query!(
        "insert into moderation_terms (term) select unnest($1::text[]) where not exists (select 1 from moderation_terms) on conflict do nothing",
        &shipped
    )
    .execute(db)
    .await
    .map(drop)
}

/// Adds a term.
pub async fn add_term(db: impl PgExecutor<'_>, term: &str, by: UserId) -> sqlx::Result<bool> {
    let done = sqlx::query!("insert into moderation_terms (term, added_by) values ($1, $2) on conflict do nothing", term, by.0)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes a term.
pub async fn remove_term(db: impl PgExecutor<'_>, term: &str) -> sqlx::Result<bool> {
    let done = sqlx::query!("delete from moderation_terms where term = $1", term).execute(db).await?;
    Ok(done.rows_affected() == 1)
}

/// The platform an item of `kind` (alias `t`) is about, as an SQL expression.
fn platform_of(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Rating | ItemKind::Feedback | ItemKind::Question => "t.platform_id",
        ItemKind::Reply => {
            "(select coalesce(r.platform_id, f.platform_id) from ratings r full join feedback f on false where r.id = t.rating_id or f.id = t.feedback_id limit 1)"
        }
        ItemKind::Answer => "(select q.platform_id from questions q where q.id = t.question_id)",
    }
}

/// The author column of `kind`'s table.
fn author_of(kind: ItemKind) -> &'static str {
    if kind == ItemKind::Reply { "t.author_id" } else { "t.user_id" }
}

/// Whether the staff member with id `$n` may not decide the item `t` of `kind`: they wrote it,
/// filed its pending appeal, or it is about a platform of their own enterprise (the one they are
/// linked to, or whose tax code they gave when they registered). An SQL boolean expression.
fn own_item(kind: ItemKind, n: u8) -> String {
    format!(
        r#"(coalesce({author} = ${n}, false)
            or exists (select 1 from appeals a where a.target_type = '{kind}' and a.target_id = t.id and a.state = 'pending' and a.user_id = ${n})
            or coalesce(ndp_speaks_for_platform(${n}, {platform}), false))"#,
        author = author_of(kind),
        kind = kind.as_str(),
        platform = platform_of(kind),
    )
}

/// The moderation columns of `kind`'s items; `own` is judged for the staff member whose id is
/// the query's parameter `$n`.
fn item_select(kind: ItemKind, n: u8) -> String {
    let stars = if kind == ItemKind::Rating { "t.stars" } else { "null::smallint" };
    format!(
        r#"select '{kind}'::text as kind, t.id, p.slug as platform_slug, p.name as platform_name, t.{text} as text, {stars} as stars,
                  t.hold_rule, t.state,
                  exists (select 1 from appeals a where a.target_type = '{kind}' and a.target_id = t.id and a.state = 'pending') as appealed,
                  t.created_at, {author} as author_id, {own} as own
           from {table} t left join platforms p on p.id = {platform}"#,
        kind = kind.as_str(),
        text = kind.text_column(),
        table = kind.table(),
        author = author_of(kind),
        own = own_item(kind, n),
        platform = platform_of(kind),
    )
}

/// Items waiting for `moderator`: held or submitted items, items hidden by flags, and items with
/// a pending appeal, except their own (see [`decide`]); oldest first, optionally one kind only.
pub async fn queue(
    db: impl PgExecutor<'_>,
    moderator: UserId,
    only: Option<ItemKind>,
    platform: &str,
    rule: &str,
    limit: i64,
) -> sqlx::Result<Vec<Item>> {
    let parts: Vec<String> = ItemKind::ALL
        .iter()
        .copied()
        .filter(|k| only.is_none_or(|o| o == *k))
        .map(|k| {
            format!(
                "select * from ({}) x where (x.state = 'pending' or (x.state = 'hidden' and x.hold_rule = 'flagged') or x.appealed) and not x.own",
                item_select(k, 4)
            )
        })
        .collect();
    let sql = format!(
        "select kind, id, platform_slug, platform_name, text, stars, hold_rule, state, appealed, created_at, author_id, own from ({}) q
         where ($2 = '' or platform_slug = $2) and ($3 = '' or hold_rule = $3 or ($3 = 'appealed' and appealed))
         order by created_at limit $1",
        parts.join(" union all ")
    );
    sqlx::query_as(&sql).bind(limit).bind(platform).bind(rule).bind(moderator).fetch_all(db).await
}

/// An item under moderation: in the queue, or opened by a moderator.
#[derive(Debug, Clone, FromRow)]
pub struct Item {
    /// Kind.
    pub kind: ItemKind,
    /// Id.
    pub id: i64,
    /// Platform slug.
    pub platform_slug: Option<String>,
    /// Platform name.
    pub platform_name: Option<String>,
    /// Text.
    pub text: Option<String>,
    /// Stars.
    pub stars: Option<i16>,
    /// The rule that held it.
    pub hold_rule: Option<Hold>,
    /// State.
    pub state: ItemState,
    /// A pending appeal exists.
    pub appealed: bool,
    /// Written.
    pub created_at: OffsetDateTime,
    /// The author.
    pub author_id: Option<UserId>,
    /// The staff member looking may not decide it (their own item, appeal or enterprise).
    pub own: bool,
}

/// An item by kind and id, as `moderator` sees it.
pub async fn item(db: impl PgExecutor<'_>, kind: ItemKind, id: i64, moderator: UserId) -> sqlx::Result<Option<Item>> {
    let sql = format!("select * from ({}) x where x.id = $1", item_select(kind, 2));
    sqlx::query_as(&sql).bind(id).bind(moderator).fetch_optional(db).await
}

/// What an author has contributed before: counts only, never personal data.
#[derive(Debug, Clone, Default, FromRow)]
pub struct AuthorHistory {
    /// Items published.
    pub published: i64,
    /// Items rejected or hidden.
    pub rejected: i64,
    /// Items waiting.
    pub pending: i64,
    /// Days since the account was created.
    pub account_days: i64,
}

/// Counts of an author's items across all kinds.
pub async fn author_history(db: impl PgExecutor<'_>, author_id: UserId) -> sqlx::Result<AuthorHistory> {
    sqlx::query_as!(
        AuthorHistory,
        r#"with items as (
             select state from ratings where user_id = $1 union all select state from feedback where user_id = $1
             union all select state from replies where author_id = $1 union all select state from questions where user_id = $1
             union all select state from answers where user_id = $1)
           select count(*) filter (where state = 'published') as "published!",
                  count(*) filter (where state in ('rejected', 'hidden')) as "rejected!",
                  count(*) filter (where state = 'pending') as "pending!",
                  coalesce((select extract(day from now() - created_at)::bigint from users where id = $1), 0) as "account_days!"
           from items"#,
        author_id.0
    )
    .fetch_one(db)
    .await
}

/// A moderator's decision.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Publish.
    Approve,
    /// Reject with a reason code and an optional note.
    Reject {
        /// One of [`crate::domain::moderation::REASONS`].
        reason: String,
        /// Free text.
        note: Option<String>,
    },
    /// Publish with personal data edited out of the text.
    Redact {
        /// The edited text.
        text: String,
    },
}

/// Why a decision was not recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Nothing is waiting on this item (decided meanwhile).
    NotWaiting,
    /// The item is under appeal and this moderator made the first decision.
    SameModerator,
    /// The moderator wrote the item, filed its appeal, or it is about their own enterprise's platform.
    OwnItem,
}

/// Records a decision on an item waiting in the queue (pending, hidden by flags, or under appeal),
/// with the row locked; resolves its open flags and its pending appeal. Returns the text before.
/// Refuses, in the same locked read, a moderator deciding their own item, their own appeal, or an
/// item about a platform of their own enterprise, so no handler can skip the rule.
pub async fn decide(
    tx: &mut PgConnection,
    kind: ItemKind,
    id: i64,
    moderator: UserId,
    decision: &Decision,
) -> sqlx::Result<Result<Option<String>, Refused>> {
    let lock = format!(
        "select t.state, t.hold_rule, t.{text} as text, {own} as own from {table} t where t.id = $1 for update of t",
        table = kind.table(),
        text = kind.text_column(),
        own = own_item(kind, 2),
    );
    let Some((state, hold_rule, text, own)) = sqlx::query_as::<_, (ItemState, Option<Hold>, Option<String>, bool)>(&lock)
        .bind(id)
        .bind(moderator)
        .fetch_optional(&mut *tx)
        .await?
    else {
        return Ok(Err(Refused::NotWaiting));
    };
    if own {
        return Ok(Err(Refused::OwnItem));
    }
    let appeal = sqlx::query!(
        "select id, first_moderator_id from appeals where target_type = $1 and target_id = $2 and state = 'pending' for update",
        kind.as_str(),
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .map(|a| (a.id, a.first_moderator_id));
    let waiting = state == ItemState::Pending || (state == ItemState::Hidden && hold_rule == Some(Hold::Flagged)) || appeal.is_some();
    if !waiting {
        return Ok(Err(Refused::NotWaiting));
    }
    if let Some((_, Some(first_moderator))) = appeal
        && first_moderator == moderator.0
    {
        return Ok(Err(Refused::SameModerator));
    }
    let (new_state, reason, note) = match decision {
        Decision::Approve | Decision::Redact { .. } => (ItemState::Published, None, None),
        Decision::Reject { reason, note } => (ItemState::Rejected, Some(reason.as_str()), note.as_deref()),
    };
    let update = format!(
        "update {table} set state = $2, reject_reason = $3, reject_note = $4, moderator_id = $5, moderated_at = now() where id = $1",
        table = kind.table()
    );
    sqlx::query(&update).bind(id).bind(new_state).bind(reason).bind(note).bind(moderator).execute(&mut *tx).await?;
    if let Decision::Redact { text: edited } = decision {
        let edit = format!("update {table} set {column} = $2 where id = $1", table = kind.table(), column = kind.text_column());
        sqlx::query(&edit).bind(id).bind(edited).execute(&mut *tx).await?;
    }
    let published = new_state == ItemState::Published;
    sqlx::query!(
        "update flags set resolution = $3, resolved_at = now(), resolved_by = $4 where target_type = $1 and target_id = $2 and resolved_at is null",
        kind.as_str(),
        id,
        if published { "dismissed" } else { "upheld" },
        moderator.0
    )
    .execute(&mut *tx)
    .await?;
    if let Some((appeal_id, _)) = appeal {
        let outcome = if published { AppealState::Overturned } else { AppealState::Upheld };
        sqlx::query!(
            "update appeals set state = $2, decided_by = $3, decided_at = now() where id = $1",
            appeal_id,
            outcome.as_str(),
            moderator.0
        )
        .execute(&mut *tx)
        .await?;
    }
    Ok(Ok(text))
}

/// Why a flag was not recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagRefused {
    /// No such item.
    NotFound,
    /// The account wrote the item, or speaks for the enterprise of its platform.
    OwnItem,
}

/// Records a flag by `user_id` (which the caller has checked is verified and a day old); returns
/// whether it was new. When three people (as the SQL function `ndp_flaggers` counts them) have
/// open flags on a published item, it is hidden until a moderator looks at it.
pub async fn flag(
    tx: &mut PgConnection,
    kind: ItemKind,
    id: i64,
    user_id: UserId,
    reason: &str,
) -> sqlx::Result<Result<bool, FlagRefused>> {
    let lock = format!(
        "select t.state, {own} as own from {table} t where t.id = $1 for update of t",
        own = own_item(kind, 2),
        table = kind.table()
    );
    let Some((state, own)) = sqlx::query_as::<_, (ItemState, bool)>(&lock).bind(id).bind(user_id).fetch_optional(&mut *tx).await? else {
        return Ok(Err(FlagRefused::NotFound));
    };
    if own {
        return Ok(Err(FlagRefused::OwnItem));
    }
    let inserted = sqlx::query!(
        "insert into flags (target_type, target_id, user_id, reason) values ($1, $2, $3, $4) on conflict do nothing",
        kind.as_str(),
        id,
        user_id.0,
        reason
    )
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    let people = sqlx::query_scalar!(r#"select count(distinct person) as "n!" from ndp_flaggers($1, $2) where counts"#, kind.as_str(), id)
        .fetch_one(&mut *tx)
        .await?;
    if people >= 3 && state == ItemState::Published {
        let hide = format!("update {} set state = 'hidden', hold_rule = 'flagged', reject_reason = 'flagged' where id = $1", kind.table());
        sqlx::query(&hide).bind(id).execute(&mut *tx).await?;
    }
    Ok(Ok(inserted))
}

/// One flag on an item, as a moderator sees it.
#[derive(Debug, Clone)]
pub struct Flagger {
    /// The account.
    pub user_id: Option<i64>,
    /// Its public name.
    pub display_name: Option<String>,
    /// Days since the account was created.
    pub account_days: i64,
    /// Whether the address was verified.
    pub verified: bool,
    /// Reason code.
    pub reason: String,
    /// When flagged.
    pub created_at: OffsetDateTime,
    /// Whether a moderator has decided since.
    pub resolved: bool,
    /// Whether another flag comes from an account registered from the same network within an hour
    /// of this one's (they count once together).
    pub grouped: bool,
    /// Whether the flag counts towards hiding (verified, a day old, still open).
    pub counts: bool,
}

/// Every flag on an item, newest first.
pub async fn flags_of(db: impl PgExecutor<'_>, kind: ItemKind, id: i64) -> sqlx::Result<Vec<Flagger>> {
    sqlx::query_as!(
        Flagger,
        r#"select user_id, display_name, coalesce(extract(day from now() - account_created)::bigint, 0) as "account_days!",
                  verified as "verified!", reason as "reason!", created_at as "created_at!", resolved as "resolved!",
                  count(*) over (partition by person) > 1 as "grouped!", counts as "counts!"
           from ndp_flaggers($1, $2) order by created_at desc"#,
        kind.as_str(),
        id
    )
    .fetch_all(db)
    .await
}

/// One month of the public moderation report.
#[derive(Debug, Clone)]
pub struct MonthReport {
    /// `YYYY-MM`.
    pub month: String,
    /// Items received.
    pub received: i64,
    /// Published.
    pub published: i64,
    /// Rejected or hidden.
    pub rejected: i64,
    /// Rejections by reason, as `reason:count` pairs.
    pub by_reason: Vec<String>,
    /// Median hours from receipt to decision for moderated items.
    pub median_hours: Option<f64>,
}

/// The public moderation report, newest month first (the last 12 months).
pub async fn monthly_report(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<MonthReport>> {
    sqlx::query_as!(
        MonthReport,
        r#"with items as (
             select to_char(date_trunc('month', created_at), 'YYYY-MM') as month, created_at, state, reject_reason, moderated_at, moderator_id
             from (select created_at, state, reject_reason, moderated_at, moderator_id from ratings where state <> 'withdrawn'
                   union all select created_at, state, reject_reason, moderated_at, moderator_id from feedback
                   union all select created_at, state, reject_reason, moderated_at, moderator_id from replies
                   union all select created_at, state, reject_reason, moderated_at, moderator_id from questions
                   union all select created_at, state, reject_reason, moderated_at, moderator_id from answers) all_items
             where created_at > now() - interval '12 months'),
           reasons as (
             select month, array_agg(reject_reason || ':' || n order by n desc) as by_reason
             from (select month, reject_reason, count(*) as n from items where state in ('rejected', 'hidden') group by 1, 2) r
             group by month)
           select i.month as "month!", count(*) as "received!",
                  count(*) filter (where i.state = 'published') as "published!",
                  count(*) filter (where i.state in ('rejected', 'hidden')) as "rejected!",
                  coalesce(max(r.by_reason), '{}') as "by_reason!",
                  percentile_cont(0.5) within group (order by extract(epoch from i.moderated_at - i.created_at) / 3600)
                    filter (where i.moderator_id is not null) as median_hours
           from items i left join reasons r on r.month = i.month
           group by i.month order by i.month desc"#
    )
    .fetch_all(db)
    .await
}

/// The text of the pending appeal on an item.
pub async fn pending_appeal(db: impl PgExecutor<'_>, kind: ItemKind, id: i64) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!("select body from appeals where target_type = $1 and target_id = $2 and state = 'pending'", kind.as_str(), id)
        .fetch_optional(db)
        .await
}
