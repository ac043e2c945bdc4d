//! What citizens and enterprises write about platforms: ratings (one per account and platform),
//! feedback, the enterprises' public replies and the authors' appeals, and how they show on
//! platform pages and account pages. Their moderation is in `db::moderation`.

use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;

use crate::db::ids::UserId;
use crate::domain::moderation::{AppealState, Hold, ItemKind, ItemState, RatingOrder};

/// Ratings and feedback an account wrote in the last hour (changes to a rating count again).
pub async fn recent_posts(db: impl PgExecutor<'_>, user_id: UserId) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"select (select count(*) from ratings where user_id = $1 and updated_at > now() - interval '1 hour')
                + (select count(*) from feedback where user_id = $1 and created_at > now() - interval '1 hour') as "n!""#,
        user_id.0
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
    user_id: UserId,
    stars: i16,
    comment: Option<&str>,
    hold: Option<Hold>,
) -> sqlx::Result<i64> {
    // A comment always waits for a moderator; stars alone publish at once unless a rule holds them.
    let state = if hold.is_some() || comment.is_some() { ItemState::Pending } else { ItemState::Published };
    sqlx::query_scalar!(
        r#"insert into ratings (platform_id, user_id, stars, comment, state, hold_rule, moderated_at)
           values ($1, $2, $3, $4, $5, $6, case when $5 = 'published' then now() end)
           on conflict (platform_id, user_id) do update set
             stars = excluded.stars, comment = excluded.comment, state = excluded.state, hold_rule = excluded.hold_rule,
             moderator_id = null, moderated_at = excluded.moderated_at, reject_reason = null, reject_note = null
           returning id"#,
        platform_id,
        user_id.0,
        stars,
        comment,
        state.as_str(),
        hold.map(Hold::as_str),
    )
    .fetch_one(db)
    .await
}

/// The account's rating of a platform.
#[derive(Debug, Clone)]
pub struct OwnRating {
    /// Id.
    pub id: i64,
    /// Stars.
    pub stars: i16,
    /// Comment.
    pub comment: Option<String>,
    /// State.
    pub state: ItemState,
    /// Rejection reason.
    pub reject_reason: Option<String>,
}

/// The account's rating of a platform, unless withdrawn.
pub async fn own_rating(db: impl PgExecutor<'_>, platform_id: i64, user_id: UserId) -> sqlx::Result<Option<OwnRating>> {
    sqlx::query_as!(
        OwnRating,
        r#"select id, stars, comment, state as "state: ItemState", reject_reason
           from ratings where platform_id = $1 and user_id = $2 and state <> 'withdrawn'"#,
        platform_id,
        user_id.0
    )
    .fetch_optional(db)
    .await
}

/// Withdraws the account's rating of a platform.
pub async fn withdraw_rating(db: impl PgExecutor<'_>, platform_id: i64, user_id: UserId) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update ratings set state = 'withdrawn', hold_rule = null where platform_id = $1 and user_id = $2 and state <> 'withdrawn'",
        platform_id,
        user_id.0
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Stores feedback; it waits for a moderator (labelled with the rule that fired, if any).
pub async fn insert_feedback(
    db: impl PgExecutor<'_>,
    platform_id: i64,
    user_id: UserId,
    body: &str,
    hold: Option<Hold>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "insert into feedback (platform_id, user_id, body, state, hold_rule) values ($1, $2, $3, 'pending', $4) returning id",
        platform_id,
        user_id.0,
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
#[derive(Debug, Clone)]
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

/// Published ratings with comments, in `order`.
pub async fn public_ratings(db: impl PgExecutor<'_>, platform_id: i64, order: RatingOrder, limit: i64) -> sqlx::Result<Vec<PublicItem>> {
    sqlx::query_as!(
        PublicItem,
        r#"select r.id, r.stars as "stars?", r.comment as text, u.display_name as "author?", r.created_at,
                  x.body as "reply?", e.name as "reply_enterprise?"
           from ratings r left join users u on u.id = r.user_id
           left join replies x on x.rating_id = r.id and x.state = 'published'
           left join enterprises e on e.id = x.enterprise_id
           where r.platform_id = $1 and r.state = 'published' and r.comment is not null
           order by case when $3 = 'highest' then r.stars end desc nulls last,
                    case when $3 = 'lowest' then r.stars end asc nulls last,
                    case when $3 = 'oldest' then r.created_at end asc nulls last,
                    r.created_at desc
           limit $2"#,
        platform_id,
        limit,
        order.as_str()
    )
    .fetch_all(db)
    .await
}

/// Published feedback on a platform, newest first.
pub async fn public_feedback(db: impl PgExecutor<'_>, platform_id: i64, limit: i64) -> sqlx::Result<Vec<PublicItem>> {
    sqlx::query_as!(
        PublicItem,
        r#"select f.id, null::smallint as "stars?", f.body as "text?", u.display_name as "author?", f.created_at,
                  x.body as "reply?", e.name as "reply_enterprise?"
           from feedback f left join users u on u.id = f.user_id
           left join replies x on x.feedback_id = f.id and x.state = 'published'
           left join enterprises e on e.id = x.enterprise_id
           where f.platform_id = $1 and f.state = 'published'
           order by f.created_at desc limit $2"#,
        platform_id,
        limit
    )
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

/// Whether account `user_id` speaks for an enterprise of the platform: it is linked to one, or
/// gave one's tax code when it registered (an enterprise account still waiting for approval).
pub async fn speaks_for_platform(db: impl PgExecutor<'_>, platform_id: i64, user_id: UserId) -> sqlx::Result<bool> {
    sqlx::query_scalar!(r#"select ndp_speaks_for_platform($2, $1) as "owns!""#, platform_id, user_id.0).fetch_one(db).await
}

/// Files an appeal against the rejection of the author's own item; `None` when the item is not
/// theirs or not rejected, `Some(false)` when an appeal already exists.
pub async fn appeal(tx: &mut PgConnection, kind: ItemKind, id: i64, user_id: UserId, body: &str) -> sqlx::Result<Option<bool>> {
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
#[derive(Debug, Clone)]
pub struct OwnItem {
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
    /// State.
    pub state: ItemState,
    /// Reason code, when rejected or hidden.
    pub reject_reason: Option<String>,
    /// Moderator's note.
    pub reject_note: Option<String>,
    /// State of an appeal, if one was filed.
    pub appeal_state: Option<AppealState>,
    /// Written.
    pub created_at: OffsetDateTime,
}

/// An account's ratings, feedback and questions, newest first.
pub async fn own_items(db: impl PgExecutor<'_>, user_id: UserId) -> sqlx::Result<Vec<OwnItem>> {
    sqlx::query_as!(
        OwnItem,
        r#"select kind as "kind!: ItemKind", id as "id!", platform_slug, platform_name, text, stars, state as "state!: ItemState",
                  reject_reason, reject_note, appeal_state as "appeal_state: AppealState", created_at as "created_at!"
           from (
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
        user_id.0
    )
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
    author_id: UserId,
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
#[derive(Debug, Clone)]
pub struct AboutUs {
    /// Kind.
    pub kind: ItemKind,
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
    pub reply_state: Option<ItemState>,
    /// Written.
    pub created_at: OffsetDateTime,
}

/// Published ratings with comments and feedback on an enterprise's platforms.
pub async fn about_enterprise(db: impl PgExecutor<'_>, enterprise_id: i64, limit: i64) -> sqlx::Result<Vec<AboutUs>> {
    sqlx::query_as!(
        AboutUs,
        r#"select kind as "kind!: ItemKind", id as "id!", platform_slug as "platform_slug!", platform_name as "platform_name!", stars, text,
                  reply_state as "reply_state: ItemState", created_at as "created_at!"
           from (
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
        enterprise_id,
        limit
    )
    .fetch_all(db)
    .await
}

/// Verified, active enterprise accounts of the platform's enterprises (to tell them of new
/// items): their addresses and languages.
pub async fn platform_owners(db: impl PgExecutor<'_>, platform_id: i64) -> sqlx::Result<Vec<(String, String)>> {
    let rows = sqlx::query!(
        r#"select distinct u.email, u.locale from users u join platform_enterprises pe on pe.enterprise_id = u.enterprise_id
           where pe.platform_id = $1 and u.status = 'active' and u.email_verified_at is not null"#,
        platform_id
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.email, r.locale)).collect())
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
