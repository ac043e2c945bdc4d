//! Listings as their owners edit them, and revisions: drafts, submissions, review and history.
//!
//! A revision holds the whole proposed listing as JSON. At most one draft-or-submitted revision
//! exists per platform (a partial unique index); approval publishes the values in one
//! transaction with the platform row locked, and keeps the replaced values for public history.

use serde_json::Value;
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;

use crate::db::ids::UserId;
use crate::domain::listing::{Listing, RevisionState};

/// A platform as its owners see it in their area.
#[derive(Debug, Clone)]
pub struct OwnedPlatform {
    /// Id.
    pub id: i64,
    /// Slug.
    pub slug: String,
    /// Name.
    pub name: String,
    /// Lifecycle status.
    pub status: Option<String>,
    /// Last confirmed by the owner.
    pub last_confirmed_at: Option<OffsetDateTime>,
    /// When the published listing last changed (the edit form's stale check).
    pub updated_at: OffsetDateTime,
    /// State of the open revision, if any.
    pub open_state: Option<RevisionState>,
}

/// The platforms linked to an enterprise.
pub async fn platforms_of(db: impl PgExecutor<'_>, enterprise_id: i64) -> sqlx::Result<Vec<OwnedPlatform>> {
    sqlx::query_as!(
        OwnedPlatform,
        r#"select p.id, p.slug, p.name, p.status, p.last_confirmed_at, p.updated_at,
                  (select r.state from revisions r where r.platform_id = p.id and r.state in ('draft', 'submitted')) as "open_state: RevisionState"
           from platforms p
           where exists (select 1 from platform_enterprises pe where pe.platform_id = p.id and pe.enterprise_id = $1)
           order by p.name"#,
        enterprise_id
    )
    .fetch_all(db)
    .await
}

/// One of an enterprise's platforms by slug; `None` when it does not exist or is not theirs.
pub async fn owned_platform(db: impl PgExecutor<'_>, enterprise_id: i64, slug: &str) -> sqlx::Result<Option<OwnedPlatform>> {
    sqlx::query_as!(
        OwnedPlatform,
        r#"select p.id, p.slug, p.name, p.status, p.last_confirmed_at, p.updated_at,
                  (select r.state from revisions r where r.platform_id = p.id and r.state in ('draft', 'submitted')) as "open_state: RevisionState"
           from platforms p
           where p.slug = $2
             and exists (select 1 from platform_enterprises pe where pe.platform_id = p.id and pe.enterprise_id = $1)"#,
        enterprise_id,
        slug
    )
    .fetch_optional(db)
    .await
}

/// The published listing of a platform.
pub async fn listing(db: impl PgExecutor<'_>, platform_id: i64) -> sqlx::Result<Listing> {
    let row = sqlx::query!(
        r#"select name, name_en, short_name, summary, description, main_functions, applicability, website, android_url,
                  ios_url, languages, accessibility_url, data_in_vietnam, security_level, reported_users, logo_path,
                  array(select g.slug from platform_need_groups png join need_groups g on g.id = png.need_group_id
                        where png.platform_id = p.id order by g.slug) as "need_groups!"
           from platforms p where id = $1"#,
        platform_id
    )
    .fetch_one(db)
    .await?;
    Ok(Listing {
        name: row.name,
        name_en: row.name_en,
        short_name: row.short_name,
        summary: row.summary,
        description: row.description,
        main_functions: row.main_functions,
        applicability: row.applicability,
        need_groups: row.need_groups,
        website: row.website,
        android_url: row.android_url,
        ios_url: row.ios_url,
        languages: row.languages,
        accessibility_url: row.accessibility_url,
        data_in_vietnam: row.data_in_vietnam,
        security_level: row.security_level,
        reported_users: row.reported_users,
        logo_path: row.logo_path,
    })
}

/// Publishes a listing onto the platform row and its need groups.
async fn publish(tx: &mut PgConnection, platform_id: i64, l: &Listing) -> sqlx::Result<()> {
    sqlx::query!(
        r#"update platforms set name = $2, name_en = $3, short_name = $4, summary = $5, description = $6, main_functions = $7,
                  applicability = $8, website = $9, android_url = $10, ios_url = $11, languages = $12, accessibility_url = $13,
                  data_in_vietnam = $14, security_level = $15,
                  reported_users = $16,
                  reported_users_as_of = case when $16::bigint is distinct from reported_users then current_date else reported_users_as_of end,
                  logo_path = $17, last_confirmed_at = now()
           where id = $1"#,
        platform_id,
        l.name,
        l.name_en,
        l.short_name,
        l.summary,
        l.description,
        l.main_functions,
        l.applicability,
        l.website,
        l.android_url,
        l.ios_url,
        &l.languages,
        l.accessibility_url,
        l.data_in_vietnam,
        l.security_level,
        l.reported_users,
        l.logo_path,
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("delete from platform_need_groups where platform_id = $1", platform_id).execute(&mut *tx).await?;
    sqlx::query!(
        "insert into platform_need_groups (platform_id, need_group_id) select $1, id from need_groups where slug = any($2)",
        platform_id,
        &l.need_groups
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Need-group slugs and Vietnamese names, for readable diffs.
pub async fn need_group_names(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<(String, String)>> {
    let rows = sqlx::query!("select slug, name from need_groups order by position, slug").fetch_all(db).await?;
    Ok(rows.into_iter().map(|r| (r.slug, r.name)).collect())
}

/// Need-group slugs, for validating the form.
pub async fn need_group_slugs(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!("select slug from need_groups order by position, slug").fetch_all(db).await
}

/// A revision.
#[derive(Debug, Clone)]
pub struct Revision {
    /// Id.
    pub id: i64,
    /// The platform (none for a registration not yet accepted).
    pub platform_id: Option<i64>,
    /// The proposing enterprise.
    pub enterprise_id: Option<i64>,
    /// The author.
    pub author_id: Option<i64>,
    /// The platform's `updated_at` when the edit started.
    pub base_updated_at: Option<OffsetDateTime>,
    /// Proposed values.
    pub proposed: Value,
    /// Replaced values (after approval).
    pub previous: Option<Value>,
    /// draft, submitted, approved, rejected, withdrawn.
    pub state: RevisionState,
    /// Why it was rejected.
    pub reject_reason: Option<String>,
    /// When submitted.
    pub submitted_at: Option<OffsetDateTime>,
    /// When decided.
    pub decided_at: Option<OffsetDateTime>,
    /// Last change (the optimistic-lock token of drafts).
    pub updated_at: OffsetDateTime,
}

/// The open (draft or submitted) revision of a platform.
pub async fn open_revision(db: impl PgExecutor<'_>, platform_id: i64) -> sqlx::Result<Option<Revision>> {
    sqlx::query_as!(
        Revision,
        r#"select id, platform_id, enterprise_id, author_id, base_updated_at, proposed, previous, state as "state: RevisionState", reject_reason,
                  submitted_at, decided_at, updated_at
           from revisions where platform_id = $1 and state in ('draft', 'submitted')"#,
        platform_id
    )
    .fetch_optional(db)
    .await
}

/// The latest decided revision of a platform (to show the enterprise a rejection reason).
pub async fn last_decided(db: impl PgExecutor<'_>, platform_id: i64) -> sqlx::Result<Option<Revision>> {
    sqlx::query_as!(
        Revision,
        r#"select id, platform_id, enterprise_id, author_id, base_updated_at, proposed, previous, state as "state: RevisionState", reject_reason,
                  submitted_at, decided_at, updated_at
           from revisions where platform_id = $1 and state in ('approved', 'rejected')
           order by decided_at desc limit 1"#,
        platform_id
    )
    .fetch_optional(db)
    .await
}

/// A revision by id.
pub async fn find(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<Revision>> {
    sqlx::query_as!(
        Revision,
        r#"select id, platform_id, enterprise_id, author_id, base_updated_at, proposed, previous, state as "state: RevisionState", reject_reason,
                  submitted_at, decided_at, updated_at
           from revisions where id = $1"#,
        id
    )
    .fetch_optional(db)
    .await
}

/// Why saving an edit did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveRefused {
    /// The published listing changed after the form was loaded.
    ListingChanged,
    /// The draft changed after the form was loaded (another colleague saved it).
    DraftChanged,
    /// A revision is already waiting for review.
    AwaitingReview,
}

/// What the edit form was loaded from, to detect a stale form.
#[derive(Debug, Clone)]
pub struct FormBase {
    /// The platform's `updated_at` when the form was loaded.
    pub platform_updated_at: OffsetDateTime,
    /// The draft's `updated_at` when the form was loaded (none if there was no draft).
    pub draft_updated_at: Option<OffsetDateTime>,
}

/// Saves the proposed listing as the platform's draft (creating it) and, with `submit`, sends it to
/// review. The platform row is locked so concurrent saves are serialised; a stale form is refused.
pub async fn save(
    tx: &mut PgConnection,
    platform_id: i64,
    enterprise_id: i64,
    author_id: UserId,
    base: &FormBase,
    proposed: &Listing,
    submit: bool,
) -> sqlx::Result<Result<i64, SaveRefused>> {
    let current = sqlx::query_scalar!("select updated_at from platforms where id = $1 for update", platform_id).fetch_one(&mut *tx).await?;
    if !same_instant(current, base.platform_updated_at) {
        return Ok(Err(SaveRefused::ListingChanged));
    }
    let open = open_revision(&mut *tx, platform_id).await?;
    let proposed = serde_json::to_value(proposed).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let state = if submit { RevisionState::Submitted } else { RevisionState::Draft };
    let id = match open {
        Some(r) if r.state == RevisionState::Submitted => return Ok(Err(SaveRefused::AwaitingReview)),
        Some(r) if base.draft_updated_at.is_none_or(|t| !same_instant(t, r.updated_at)) => return Ok(Err(SaveRefused::DraftChanged)),
        Some(r) => {
            sqlx::query_scalar!(
                r#"update revisions set proposed = $2, author_id = $3, state = $4,
                          submitted_at = case when $4 = 'submitted' then now() end
                   where id = $1 returning id"#,
                r.id,
                proposed,
                author_id.0,
                state.as_str()
            )
            .fetch_one(&mut *tx)
            .await?
        }
        None if base.draft_updated_at.is_some() => return Ok(Err(SaveRefused::DraftChanged)),
        None => {
            sqlx::query_scalar!(
                r#"insert into revisions (platform_id, enterprise_id, author_id, base_updated_at, proposed, state, submitted_at)
                   values ($1, $2, $3, $4, $5, $6, case when $6 = 'submitted' then now() end) returning id"#,
                platform_id,
                enterprise_id,
                author_id.0,
                current,
                proposed,
                state.as_str()
            )
            .fetch_one(&mut *tx)
            .await?
        }
    };
    Ok(Ok(id))
}

/// Timestamps round-trip through forms at microsecond precision.
fn same_instant(a: OffsetDateTime, b: OffsetDateTime) -> bool {
    (a - b).abs() < time::Duration::microseconds(1)
}

/// Discards a draft (the owner starts over from the published listing).
pub async fn discard_draft(db: impl PgExecutor<'_>, platform_id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query!("update revisions set state = 'withdrawn' where platform_id = $1 and state = 'draft'", platform_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// A submitted revision in the review queue.
#[derive(Debug, Clone)]
pub struct QueueItem {
    /// Revision id.
    pub id: i64,
    /// Platform slug (none for a registration).
    pub platform_slug: Option<String>,
    /// Platform name, or the proposed name of a registration.
    pub name: String,
    /// Enterprise name.
    pub enterprise_name: Option<String>,
    /// When submitted.
    pub submitted_at: Option<OffsetDateTime>,
}

/// Submitted revisions that `reviewer` may decide (see [`conflicted`]), oldest first.
pub async fn queue(db: impl PgExecutor<'_>, reviewer: UserId) -> sqlx::Result<Vec<QueueItem>> {
    sqlx::query_as!(
        QueueItem,
        r#"select r.id, p.slug as "platform_slug?", coalesce(p.name, r.proposed->>'name', '') as "name!", e.name as "enterprise_name?",
                  r.submitted_at
           from revisions r
           left join platforms p on p.id = r.platform_id
           left join enterprises e on e.id = r.enterprise_id
           where r.state = 'submitted' and r.author_id is distinct from $1
             and not coalesce(ndp_speaks_for($1, r.enterprise_id), false)
           order by r.submitted_at"#,
        reviewer.0
    )
    .fetch_all(db)
    .await
}

/// How much waits for staff: submitted revisions and pending enterprise accounts.
pub async fn waiting(db: impl PgExecutor<'_>) -> sqlx::Result<(i64, i64)> {
    let row = sqlx::query!(
        r#"select (select count(*) from revisions where state = 'submitted') as "revisions!",
                  (select count(*) from users where role = 'enterprise' and status = 'pending') as "accounts!""#
    )
    .fetch_one(db)
    .await?;
    Ok((row.revisions, row.accounts))
}

/// Why a decision could not be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecideRefused {
    /// The revision is not waiting for review (decided meanwhile, or withdrawn).
    NotSubmitted,
    /// A registration's slug or name is taken.
    Taken,
    /// The reviewer wrote the revision or speaks for its enterprise.
    OwnItem,
}

/// Whether `reviewer` may not decide revision `id`: they wrote it, or speak for its enterprise
/// (`ndp_speaks_for`).
pub async fn conflicted(db: impl PgExecutor<'_>, id: i64, reviewer: UserId) -> sqlx::Result<bool> {
    let own = sqlx::query_scalar!(
        r#"select (coalesce(author_id = $2, false) or coalesce(ndp_speaks_for($2, enterprise_id), false)) as "own!"
           from revisions where id = $1"#,
        id,
        reviewer.0
    )
    .fetch_optional(db)
    .await?;
    Ok(own.unwrap_or(false))
}

/// Approves a submitted listing revision: publishes it, keeps the replaced values. Returns the
/// platform id.
pub async fn approve(tx: &mut PgConnection, id: i64, reviewer_id: UserId) -> sqlx::Result<Result<i64, DecideRefused>> {
    let Some(revision) = sqlx::query_as!(
        Revision,
        r#"select id, platform_id, enterprise_id, author_id, base_updated_at, proposed, previous, state as "state: RevisionState", reject_reason,
                  submitted_at, decided_at, updated_at
           from revisions where id = $1 for update"#,
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(Err(DecideRefused::NotSubmitted));
    };
    if revision.state != RevisionState::Submitted {
        return Ok(Err(DecideRefused::NotSubmitted));
    }
    if conflicted(&mut *tx, id, reviewer_id).await? {
        return Ok(Err(DecideRefused::OwnItem));
    }
    let Some(platform_id) = revision.platform_id else { return Ok(Err(DecideRefused::NotSubmitted)) };
    sqlx::query!("select id from platforms where id = $1 for update", platform_id).fetch_one(&mut *tx).await?;
    let proposed: Listing = serde_json::from_value(revision.proposed).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    let previous = listing(&mut *tx, platform_id).await?;
    publish(tx, platform_id, &proposed).await?;
    let previous = serde_json::to_value(previous).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query!(
        "update revisions set state = 'approved', previous = $2, reviewer_id = $3, decided_at = now() where id = $1",
        id,
        previous,
        reviewer_id.0
    )
    .execute(&mut *tx)
    .await?;
    Ok(Ok(platform_id))
}

/// Rejects a submitted revision with a reason the enterprise sees.
pub async fn reject(tx: &mut PgConnection, id: i64, reviewer_id: UserId, reason: &str) -> sqlx::Result<Result<(), DecideRefused>> {
    if conflicted(&mut *tx, id, reviewer_id).await? {
        return Ok(Err(DecideRefused::OwnItem));
    }
    let done = sqlx::query!(
        r#"update revisions set state = 'rejected', reject_reason = $3, reviewer_id = $2, decided_at = now()
           where id = $1 and state = 'submitted'"#,
        id,
        reviewer_id.0,
        reason
    )
    .execute(&mut *tx)
    .await?;
    Ok(if done.rows_affected() == 1 { Ok(()) } else { Err(DecideRefused::NotSubmitted) })
}

/// An approved revision in the public history.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    /// Revision id.
    pub id: i64,
    /// The enterprise that proposed it (the person is never shown).
    pub enterprise_name: Option<String>,
    /// When it was published.
    pub decided_at: Option<OffsetDateTime>,
    /// Proposed values.
    pub proposed: Value,
    /// Replaced values.
    pub previous: Option<Value>,
}

/// Approved revisions of a platform, newest first.
pub async fn history(db: impl PgExecutor<'_>, platform_id: i64) -> sqlx::Result<Vec<HistoryEntry>> {
    sqlx::query_as!(
        HistoryEntry,
        r#"select r.id, e.name as "enterprise_name?", r.decided_at, r.proposed, r.previous
           from revisions r left join enterprises e on e.id = r.enterprise_id
           where r.platform_id = $1 and r.state = 'approved'
           order by r.decided_at desc"#,
        platform_id
    )
    .fetch_all(db)
    .await
}

/// Accounts to tell about a decision: the active users of the revision's enterprise.
pub async fn enterprise_recipients(db: impl PgExecutor<'_>, enterprise_id: i64) -> sqlx::Result<Vec<(String, String)>> {
    let rows = sqlx::query!(
        "select email, locale from users where enterprise_id = $1 and status = 'active' and email_verified_at is not null",
        enterprise_id
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.email, r.locale)).collect())
}

/// Marks the listing confirmed by its owner today.
pub async fn confirm(db: impl PgExecutor<'_>, platform_id: i64) -> sqlx::Result<()> {
    sqlx::query!("update platforms set last_confirmed_at = now() where id = $1", platform_id).execute(db).await.map(drop)
}

/// A platform's slug and name.
pub async fn platform_ref(db: impl PgExecutor<'_>, platform_id: i64) -> sqlx::Result<(String, String)> {
    let row = sqlx::query!("select slug, name from platforms where id = $1", platform_id).fetch_one(db).await?;
    Ok((row.slug, row.name))
}

/// An enterprise's name.
pub async fn enterprise_name(db: impl PgExecutor<'_>, enterprise_id: i64) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!("select name from enterprises where id = $1", enterprise_id).fetch_optional(db).await
}
