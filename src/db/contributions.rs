//! Citizen contributions (ratings, feedback), enterprise replies, flags and appeals, and the
//! moderation queue over all of them. The moderation columns are the same in every table, so the
//! queue and the decisions use one query shape with the table name taken from [`ItemKind`] (a
//! closed set, never user text).

use sqlx::{FromRow, PgConnection, PgExecutor, PgPool};
use time::OffsetDateTime;

use crate::domain::moderation::{Hold, ItemKind, SHIPPED_TERMS};

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
pub async fn add_term(db: impl PgExecutor<'_>, term: &str, by: i64) -> sqlx::Result<bool> {
    let done =
        sqlx::query!("insert into moderation_terms (term, added_by) values ($1, $2) on conflict do nothing", term, by).execute(db).await?;
    Ok(done.rows_affected() == 1)
}

/// Removes a term.
pub async fn remove_term(db: impl PgExecutor<'_>, term: &str) -> sqlx::Result<bool> {
    let done = sqlx::query!("delete from moderation_terms where term = $1", term).execute(db).await?;
    Ok(done.rows_affected() == 1)
}

/// Counts one post against `key` in the current hour; the count including this one.
pub async fn count_post(db: impl PgExecutor<'_>, key: &str) -> sqlx::Result<i32> {
    sqlx::query_scalar!(
        r#"insert into contribution_limits (key, window_start, count) values ($1, date_trunc('hour', now()), 1)
           on conflict (key, window_start) do update set count = contribution_limits.count + 1
           returning count"#,
        key
    )
    .fetch_one(db)
    .await
}

/// Ratings and feedback an account wrote in the last hour (changes to a rating count again).
pub async fn recent_posts(db: impl PgExecutor<'_>, user_id: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"select (select count(*) from ratings where user_id = $1 and updated_at > now() - interval '1 hour')
                + (select count(*) from feedback where user_id = $1 and created_at > now() - interval '1 hour') as "n!""#,
        user_id
    )
    .fetch_one(db)
    .await
}

/// Whether at least five accounts younger than a week rated this platform in the last hour.
pub async fn rating_burst(db: impl PgExecutor<'_>, platform_id: i64) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select count(*) >= 5 as "burst!" from ratings r join users u on u.id = r.user_id
           where r.platform_id = $1 and r.updated_at > now() - interval '1 hour' and u.created_at > now() - interval '7 days'"#,
        platform_id
    )
    .fetch_one(db)
    .await
}

/// Saves the account's rating of a platform (one per account and platform: a second one replaces
/// the first, and goes through moderation again).
pub async fn upsert_rating(
    db: impl PgExecutor<'_>,
    platform_id: i64,
    user_id: i64,
    stars: i16,
    comment: Option<&str>,
    hold: Option<Hold>,
) -> sqlx::Result<i64> {
    // A comment always waits for a moderator; stars alone publish at once unless a rule holds them.
    let state = if hold.is_some() || comment.is_some() { "pending" } else { "published" };
    sqlx::query_scalar!(
        r#"insert into ratings (platform_id, user_id, stars, comment, state, hold_rule, moderated_at)
           values ($1, $2, $3, $4, $5, $6, case when $5 = 'published' then now() end)
           on conflict (platform_id, user_id) do update set
             stars = excluded.stars, comment = excluded.comment, state = excluded.state, hold_rule = excluded.hold_rule,
             moderator_id = null, moderated_at = excluded.moderated_at, reject_reason = null, reject_note = null
           returning id"#,
        platform_id,
        user_id,
        stars,
        comment,
        state,
        hold.map(Hold::as_str),
    )
    .fetch_one(db)
    .await
}

/// The account's rating of a platform.
#[derive(Debug, Clone, FromRow)]
pub struct OwnRating {
    /// Id.
    pub id: i64,
    /// Stars.
    pub stars: i16,
    /// Comment.
    pub comment: Option<String>,
    /// State.
    pub state: String,
    /// Rejection reason.
    pub reject_reason: Option<String>,
}

/// The account's rating of a platform, unless withdrawn.
pub async fn own_rating(db: impl PgExecutor<'_>, platform_id: i64, user_id: i64) -> sqlx::Result<Option<OwnRating>> {
    sqlx::query_as!(
        OwnRating,
        "select id, stars, comment, state, reject_reason from ratings where platform_id = $1 and user_id = $2 and state <> 'withdrawn'",
        platform_id,
        user_id
    )
    .fetch_optional(db)
    .await
}

/// Withdraws the account's rating of a platform.
pub async fn withdraw_rating(db: impl PgExecutor<'_>, platform_id: i64, user_id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update ratings set state = 'withdrawn', hold_rule = null where platform_id = $1 and user_id = $2 and state <> 'withdrawn'",
        platform_id,
        user_id
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Stores feedback; it waits for a moderator (labelled with the rule that fired, if any).
pub async fn insert_feedback(db: impl PgExecutor<'_>, platform_id: i64, user_id: i64, body: &str, hold: Option<Hold>) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "insert into feedback (platform_id, user_id, body, state, hold_rule) values ($1, $2, $3, 'pending', $4) returning id",
        platform_id,
        user_id,
        body,
        hold.map(Hold::as_str)
    )
    .fetch_one(db)
    .await
}

/// A platform's rating summary (published ratings only).
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Number of ratings.
    pub count: i64,
    /// Average stars.
    pub average: Option<f64>,
    /// Ratings with 1..=5 stars.
    pub distribution: [i64; 5],
    /// The Bayesian score used by "best rated".
    pub score: f64,
}

/// The rating summary of a platform.
pub async fn summary(db: impl PgExecutor<'_>, platform_id: i64) -> sqlx::Result<Summary> {
    let row = sqlx::query!(
        r#"select count(*) as "count!", avg(stars)::float8 as average,
                  count(*) filter (where stars = 1) as "s1!", count(*) filter (where stars = 2) as "s2!",
                  count(*) filter (where stars = 3) as "s3!", count(*) filter (where stars = 4) as "s4!",
                  count(*) filter (where stars = 5) as "s5!", ndp_rating_score($1) as "score!"
           from ratings where platform_id = $1 and state = 'published'"#,
        platform_id
    )
    .fetch_one(db)
    .await?;
    Ok(Summary { count: row.count, average: row.average, distribution: [row.s1, row.s2, row.s3, row.s4, row.s5], score: row.score })
}

/// A published rating or feedback item on a platform page.
#[derive(Debug, Clone, FromRow)]
pub struct PublicItem {
    /// Id.
    pub id: i64,
    /// Stars (ratings only).
    pub stars: Option<i16>,
    /// Text.
    pub text: Option<String>,
    /// Author's display name.
    pub author: Option<String>,
    /// When written.
    pub created_at: OffsetDateTime,
    /// The enterprise's published reply.
    pub reply: Option<String>,
    /// The replying enterprise.
    pub reply_enterprise: Option<String>,
}

/// Published ratings with comments (newest first, or `oldest`, `highest`, `lowest`).
pub async fn public_ratings(db: impl PgExecutor<'_>, platform_id: i64, order: &str, limit: i64) -> sqlx::Result<Vec<PublicItem>> {
    let order_by = match order {
        "oldest" => "r.created_at asc",
        "highest" => "r.stars desc, r.created_at desc",
        "lowest" => "r.stars asc, r.created_at desc",
        _ => "r.created_at desc",
    };
    let sql = format!(
        r#"select r.id, r.stars, r.comment as text, u.display_name as author, r.created_at,
                  x.body as reply, e.name as reply_enterprise
           from ratings r left join users u on u.id = r.user_id
           left join replies x on x.rating_id = r.id and x.state = 'published'
           left join enterprises e on e.id = x.enterprise_id
           where r.platform_id = $1 and r.state = 'published' and r.comment is not null
           order by {order_by} limit $2"#
    );
    sqlx::query_as(&sql).bind(platform_id).bind(limit).fetch_all(db).await
}

/// Published feedback on a platform, newest first.
pub async fn public_feedback(db: impl PgExecutor<'_>, platform_id: i64, limit: i64) -> sqlx::Result<Vec<PublicItem>> {
    sqlx::query_as(
        r#"select f.id, null::smallint as stars, f.body as text, u.display_name as author, f.created_at,
                  x.body as reply, e.name as reply_enterprise
           from feedback f left join users u on u.id = f.user_id
           left join replies x on x.feedback_id = f.id and x.state = 'published'
           left join enterprises e on e.id = x.enterprise_id
           where f.platform_id = $1 and f.state = 'published'
           order by f.created_at desc limit $2"#,
    )
    .bind(platform_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Median hours between an item and the enterprise's published reply, over the last 90 days.
pub async fn median_reply_hours(db: impl PgExecutor<'_>, platform_id: i64) -> sqlx::Result<Option<f64>> {
    sqlx::query_scalar!(
        r#"select percentile_cont(0.5) within group (order by extract(epoch from x.created_at - coalesce(r.created_at, f.created_at)) / 3600)
           from replies x
           left join ratings r on r.id = x.rating_id
           left join feedback f on f.id = x.feedback_id
           where coalesce(r.platform_id, f.platform_id) = $1 and x.state = 'published' and x.created_at > now() - interval '90 days'"#,
        platform_id
    )
    .fetch_one(db)
    .await
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
    moderator: i64,
    only: Option<ItemKind>,
    platform: &str,
    rule: &str,
    limit: i64,
) -> sqlx::Result<Vec<Item>> {
    let parts: Vec<String> = ItemKind::ALL
        .into_iter()
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
    pub kind: String,
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
    pub hold_rule: Option<String>,
    /// State.
    pub state: String,
    /// A pending appeal exists.
    pub appealed: bool,
    /// Written.
    pub created_at: OffsetDateTime,
    /// The author.
    pub author_id: Option<i64>,
    /// The staff member looking may not decide it (their own item, appeal or enterprise).
    pub own: bool,
}

/// An item by kind and id, as `moderator` sees it.
pub async fn item(db: impl PgExecutor<'_>, kind: ItemKind, id: i64, moderator: i64) -> sqlx::Result<Option<Item>> {
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
pub async fn author_history(db: impl PgExecutor<'_>, author_id: i64) -> sqlx::Result<AuthorHistory> {
    sqlx::query_as(
        r#"with items as (
             select state from ratings where user_id = $1 union all select state from feedback where user_id = $1
             union all select state from replies where author_id = $1 union all select state from questions where user_id = $1
             union all select state from answers where user_id = $1)
           select count(*) filter (where state = 'published') as published,
                  count(*) filter (where state in ('rejected', 'hidden')) as rejected,
                  count(*) filter (where state = 'pending') as pending,
                  (select extract(day from now() - created_at)::bigint from users where id = $1) as account_days
           from items"#,
    )
    .bind(author_id)
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
    moderator: i64,
    decision: &Decision,
) -> sqlx::Result<Result<Option<String>, Refused>> {
    let lock = format!(
        "select t.state, t.hold_rule, t.{text} as text, {own} as own from {table} t where t.id = $1 for update of t",
        table = kind.table(),
        text = kind.text_column(),
        own = own_item(kind, 2),
    );
    let Some((state, hold_rule, text, own)) = sqlx::query_as::<_, (String, Option<String>, Option<String>, bool)>(&lock)
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
    let appeal: Option<(i64, Option<i64>)> = sqlx::query_as(
        "select id, first_moderator_id from appeals where target_type = $1 and target_id = $2 and state = 'pending' for update",
    )
    .bind(kind.as_str())
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let waiting = state == "pending" || (state == "hidden" && hold_rule.as_deref() == Some("flagged")) || appeal.is_some();
    if !waiting {
        return Ok(Err(Refused::NotWaiting));
    }
    if let Some((_, Some(first_moderator))) = appeal
        && first_moderator == moderator
    {
        return Ok(Err(Refused::SameModerator));
    }
    let (new_state, reason, note) = match decision {
        Decision::Approve | Decision::Redact { .. } => ("published", None, None),
        Decision::Reject { reason, note } => ("rejected", Some(reason.as_str()), note.as_deref()),
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
    let resolution = if new_state == "published" { "dismissed" } else { "upheld" };
    sqlx::query("update flags set resolution = $3, resolved_at = now(), resolved_by = $4 where target_type = $1 and target_id = $2 and resolved_at is null")
        .bind(kind.as_str())
        .bind(id)
        .bind(resolution)
        .bind(moderator)
        .execute(&mut *tx)
        .await?;
    if let Some((appeal_id, _)) = appeal {
        let outcome = if new_state == "published" { "overturned" } else { "upheld" };
        sqlx::query("update appeals set state = $2, decided_by = $3, decided_at = now() where id = $1")
            .bind(appeal_id)
            .bind(outcome)
            .bind(moderator)
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

/// The flags on an item, each with the network its author registered from (IPv4 /24, IPv6 /64)
/// and whether it starts a new "person": flags from accounts registered from one network within an
/// hour of each other (one after another) belong to one person. `$1` kind, `$2` item id.
const FLAGGERS: &str = "with flagger as (
       select f.user_id, f.reason, f.created_at, f.resolved_at, u.display_name, u.created_at as account_created,
              u.email_verified_at is not null as verified,
              (f.resolved_at is null and u.email_verified_at is not null and u.created_at <= f.created_at - interval '1 day') as counts,
              network(set_masklen(u.registered_addr, case when family(u.registered_addr) = 4 then 24 else 64 end)) as net
       from flags f left join users u on u.id = f.user_id
       where f.target_type = $1 and f.target_id = $2),
     marked as (
       select *, case when net is null then 1
                      when lag(account_created) over (partition by net order by account_created) > account_created - interval '1 hour' then 0
                      else 1 end as starts
       from flagger),
     grouped as (
       select *, case when net is null then 'account ' || coalesce(user_id::text, 'gone')
                      else host(net) || ' ' || sum(starts) over (partition by net order by account_created rows unbounded preceding) end as person
       from marked)";

/// Records a flag by `user_id` (which the caller has checked is verified and a day old); returns
/// whether it was new. When three people (see [`FLAGGERS`]) have open flags on a published item,
/// it is hidden until a moderator looks at it.
pub async fn flag(tx: &mut PgConnection, kind: ItemKind, id: i64, user_id: i64, reason: &str) -> sqlx::Result<Result<bool, FlagRefused>> {
    let lock = format!(
        "select t.state, {own} as own from {table} t where t.id = $1 for update of t",
        own = own_item(kind, 2),
        table = kind.table()
    );
    let Some((state, own)) = sqlx::query_as::<_, (String, bool)>(&lock).bind(id).bind(user_id).fetch_optional(&mut *tx).await? else {
        return Ok(Err(FlagRefused::NotFound));
    };
    if own {
        return Ok(Err(FlagRefused::OwnItem));
    }
    let inserted =
        sqlx::query("insert into flags (target_type, target_id, user_id, reason) values ($1, $2, $3, $4) on conflict do nothing")
            .bind(kind.as_str())
            .bind(id)
            .bind(user_id)
            .bind(reason)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
    let count = format!("{FLAGGERS} select count(distinct person) from grouped where counts");
    let people: i64 = sqlx::query_scalar(&count).bind(kind.as_str()).bind(id).fetch_one(&mut *tx).await?;
    if people >= 3 && state == "published" {
        let hide = format!("update {} set state = 'hidden', hold_rule = 'flagged', reject_reason = 'flagged' where id = $1", kind.table());
        sqlx::query(&hide).bind(id).execute(&mut *tx).await?;
    }
    Ok(Ok(inserted))
}

/// One flag on an item, as a moderator sees it.
#[derive(Debug, Clone, FromRow)]
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
    let sql = format!(
        r#"{FLAGGERS}
           select user_id, display_name, coalesce(extract(day from now() - account_created)::bigint, 0) as account_days,
                  coalesce(verified, false) as verified, reason, created_at, resolved_at is not null as resolved,
                  count(*) over (partition by person) > 1 as grouped, coalesce(counts, false) as counts
           from grouped order by created_at desc"#
    );
    sqlx::query_as(&sql).bind(kind.as_str()).bind(id).fetch_all(db).await
}

/// Whether account `user_id` speaks for an enterprise of the platform: it is linked to one, or
/// gave one's tax code when it registered (an enterprise account still waiting for approval).
pub async fn speaks_for_platform(db: impl PgExecutor<'_>, platform_id: i64, user_id: i64) -> sqlx::Result<bool> {
    sqlx::query_scalar!(r#"select ndp_speaks_for_platform($2, $1) as "owns!""#, platform_id, user_id).fetch_one(db).await
}

/// Files an appeal against the rejection of the author's own item; `None` when the item is not
/// theirs or not rejected, `Some(false)` when an appeal already exists.
pub async fn appeal(tx: &mut PgConnection, kind: ItemKind, id: i64, user_id: i64, body: &str) -> sqlx::Result<Option<bool>> {
    let owner = if kind == ItemKind::Reply { "author_id" } else { "user_id" };
    let sql = format!("select moderator_id from {} where id = $1 and {owner} = $2 and state in ('rejected', 'hidden')", kind.table());
    let Some(first) = sqlx::query_scalar::<_, Option<i64>>(&sql).bind(id).bind(user_id).fetch_optional(&mut *tx).await? else {
        return Ok(None);
    };
    let inserted = sqlx::query(
        "insert into appeals (target_type, target_id, user_id, body, first_moderator_id) values ($1, $2, $3, $4, $5) on conflict do nothing",
    )
    .bind(kind.as_str())
    .bind(id)
    .bind(user_id)
    .bind(body)
    .bind(first)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    Ok(Some(inserted))
}

/// An account's own contribution, for its account page.
#[derive(Debug, Clone, FromRow)]
pub struct OwnItem {
    /// Kind.
    pub kind: String,
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
    /// State.
    pub state: String,
    /// Reason code, when rejected or hidden.
    pub reject_reason: Option<String>,
    /// Moderator's note.
    pub reject_note: Option<String>,
    /// State of an appeal, if one was filed.
    pub appeal_state: Option<String>,
    /// Written.
    pub created_at: OffsetDateTime,
}

/// An account's ratings and feedback, newest first.
pub async fn own_items(db: impl PgExecutor<'_>, user_id: i64) -> sqlx::Result<Vec<OwnItem>> {
    sqlx::query_as(
        r#"select * from (
             select 'rating'::text as kind, r.id, p.slug as platform_slug, p.name as platform_name, r.comment as text, r.stars, r.state,
                    r.reject_reason, r.reject_note,
                    (select a.state from appeals a where a.target_type = 'rating' and a.target_id = r.id) as appeal_state, r.created_at
             from ratings r join platforms p on p.id = r.platform_id where r.user_id = $1 and r.state <> 'withdrawn'
             union all
             select 'feedback', f.id, p.slug, p.name, f.body, null::smallint, f.state, f.reject_reason, f.reject_note,
                    (select a.state from appeals a where a.target_type = 'feedback' and a.target_id = f.id), f.created_at
             from feedback f join platforms p on p.id = f.platform_id where f.user_id = $1
             union all
             select 'question', q.id, p.slug, p.name, q.title, null::smallint, q.state, q.reject_reason, q.reject_note,
                    (select a.state from appeals a where a.target_type = 'question' and a.target_id = q.id), q.created_at
             from questions q left join platforms p on p.id = q.platform_id where q.user_id = $1) x
           order by created_at desc"#,
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// Stores an enterprise's reply to a rating or feedback about one of its platforms; `None` when
/// the item is not about its platforms, `Some(None)` when it already has a reply.
pub async fn reply(
    tx: &mut PgConnection,
    kind: ItemKind,
    id: i64,
    enterprise_id: i64,
    author_id: i64,
    body: &str,
    hold: Option<Hold>,
) -> sqlx::Result<Option<Option<i64>>> {
    let (column, table) = match kind {
        ItemKind::Rating => ("rating_id", "ratings"),
        ItemKind::Feedback => ("feedback_id", "feedback"),
        _ => return Ok(None),
    };
    let owned = format!(
        "select exists (select 1 from {table} t join platform_enterprises pe on pe.platform_id = t.platform_id where t.id = $1 and pe.enterprise_id = $2 and t.state = 'published')"
    );
    if !sqlx::query_scalar::<_, bool>(&owned).bind(id).bind(enterprise_id).fetch_one(&mut *tx).await? {
        return Ok(None);
    }
    let insert = format!(
        "insert into replies ({column}, enterprise_id, author_id, body, state, hold_rule) values ($1, $2, $3, $4, 'pending', $5) on conflict do nothing returning id"
    );
    let id = sqlx::query_scalar::<_, i64>(&insert)
        .bind(id)
        .bind(enterprise_id)
        .bind(author_id)
        .bind(body)
        .bind(hold.map(Hold::as_str))
        .fetch_optional(&mut *tx)
        .await?;
    Ok(Some(id))
}

/// Published items about an enterprise's platforms, newest first, with whether they have a reply.
#[derive(Debug, Clone, FromRow)]
pub struct AboutUs {
    /// Kind.
    pub kind: String,
    /// Id.
    pub id: i64,
    /// Platform slug.
    pub platform_slug: String,
    /// Platform name.
    pub platform_name: String,
    /// Stars.
    pub stars: Option<i16>,
    /// Text.
    pub text: Option<String>,
    /// Reply state, if replied.
    pub reply_state: Option<String>,
    /// Written.
    pub created_at: OffsetDateTime,
}

/// Published ratings with comments and feedback on an enterprise's platforms.
pub async fn about_enterprise(db: impl PgExecutor<'_>, enterprise_id: i64, limit: i64) -> sqlx::Result<Vec<AboutUs>> {
    sqlx::query_as(
        r#"select * from (
             select 'rating'::text as kind, r.id, p.slug as platform_slug, p.name as platform_name, r.stars, r.comment as text,
                    (select x.state from replies x where x.rating_id = r.id) as reply_state, r.created_at
             from ratings r join platforms p on p.id = r.platform_id
             where r.state = 'published' and r.comment is not null
               and exists (select 1 from platform_enterprises pe where pe.platform_id = p.id and pe.enterprise_id = $1)
             union all
             select 'feedback', f.id, p.slug, p.name, null::smallint, f.body, (select x.state from replies x where x.feedback_id = f.id), f.created_at
             from feedback f join platforms p on p.id = f.platform_id
             where f.state = 'published' and exists (select 1 from platform_enterprises pe where pe.platform_id = p.id and pe.enterprise_id = $1)) x
           order by created_at desc limit $2"#,
    )
    .bind(enterprise_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Verified, active enterprise accounts of the platform's enterprises (to tell them of new items).
pub async fn platform_owners(db: impl PgExecutor<'_>, platform_id: i64) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        r#"select u.email from users u join platform_enterprises pe on pe.enterprise_id = u.enterprise_id
           where pe.platform_id = $1 and u.status = 'active' and u.email_verified_at is not null"#,
        platform_id
    )
    .fetch_all(db)
    .await
}

/// One month of the public moderation report.
#[derive(Debug, Clone, FromRow)]
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
    sqlx::query_as(
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
           select i.month, count(*) as received,
                  count(*) filter (where i.state = 'published') as published,
                  count(*) filter (where i.state in ('rejected', 'hidden')) as rejected,
                  coalesce(max(r.by_reason), '{}') as by_reason,
                  percentile_cont(0.5) within group (order by extract(epoch from i.moderated_at - i.created_at) / 3600)
                    filter (where i.moderator_id is not null) as median_hours
           from items i left join reasons r on r.month = i.month
           group by i.month order by i.month desc"#,
    )
    .fetch_all(db)
    .await
}

/// Whether the enterprise is linked to the platform.
pub async fn enterprise_owns(db: impl PgExecutor<'_>, platform_id: i64, enterprise_id: i64) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from platform_enterprises where platform_id = $1 and enterprise_id = $2) as "owns!""#,
        platform_id,
        enterprise_id
    )
    .fetch_one(db)
    .await
}

/// The text of the pending appeal on an item.
pub async fn pending_appeal(db: impl PgExecutor<'_>, kind: ItemKind, id: i64) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("select body from appeals where target_type = $1 and target_id = $2 and state = 'pending'")
        .bind(kind.as_str())
        .bind(id)
        .fetch_optional(db)
        .await
}
