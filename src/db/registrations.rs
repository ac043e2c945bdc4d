//! Registrations of new platforms: a revision without a platform, holding the dossier, until staff
//! accept it (which creates the platform in status "registered", linked to the enterprise).

use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;

use crate::db::ids::UserId;
use crate::domain::listing::RevisionState;
use crate::domain::registration::Dossier;

/// Files a registration for review.
pub async fn create(db: impl PgExecutor<'_>, enterprise_id: i64, author_id: UserId, dossier: &Dossier) -> sqlx::Result<i64> {
    let proposed = serde_json::to_value(dossier).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query_scalar!(
        r#"insert into revisions (platform_id, enterprise_id, author_id, proposed, state, submitted_at)
           values (null, $1, $2, $3, 'submitted', now()) returning id"#,
        enterprise_id,
        author_id.0,
        proposed
    )
    .fetch_one(db)
    .await
}

/// A registration as its enterprise sees it.
#[derive(Debug, Clone)]
pub struct Registration {
    /// Revision id.
    pub id: i64,
    /// Proposed name.
    pub name: String,
    /// submitted, approved or rejected.
    pub state: RevisionState,
    /// Why it was refused.
    pub reject_reason: Option<String>,
    /// The platform created on acceptance.
    pub platform_slug: Option<String>,
    /// Filed.
    pub submitted_at: Option<OffsetDateTime>,
}

/// An enterprise's registrations, newest first.
pub async fn of_enterprise(db: impl PgExecutor<'_>, enterprise_id: i64) -> sqlx::Result<Vec<Registration>> {
    sqlx::query_as!(
        Registration,
        r#"select r.id, coalesce(r.proposed->>'name', '') as "name!", r.state as "state: RevisionState", r.reject_reason, p.slug as "platform_slug?", r.submitted_at
           from revisions r left join platforms p on p.id = r.platform_id
           where r.enterprise_id = $1 and r.proposed ? 'potential_users'
           order by r.created_at desc"#,
        enterprise_id
    )
    .fetch_all(db)
    .await
}

/// Accepts a submitted registration: creates the platform (status "registered") linked to the
/// enterprise as its developer. Returns the new slug, or `None` when the revision is not a
/// submitted registration.
pub async fn accept(tx: &mut PgConnection, id: i64, reviewer_id: UserId) -> sqlx::Result<Option<String>> {
    if crate::db::revisions::conflicted(&mut *tx, id, reviewer_id).await? {
        return Ok(None);
    }
    let Some(row) = sqlx::query!(
        "select enterprise_id, proposed from revisions where id = $1 and platform_id is null and state = 'submitted' for update",
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(None);
    };
    let dossier: Dossier = serde_json::from_value(row.proposed).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    let base = crate::domain::text::slugify(&dossier.name);
    let base = if base.is_empty() { format!("nen-tang-{id}") } else { base };
    let taken = sqlx::query_scalar!(r#"select exists (select 1 from platforms where slug = $1) as "t!""#, base).fetch_one(&mut *tx).await?;
    let slug = if taken { format!("{}-{id}", base.chars().take(100).collect::<String>().trim_end_matches('-')) } else { base };
    let platform_id = sqlx::query_scalar!(
        r#"insert into platforms (slug, name, short_name, summary, kind, status, host_agency_id, website, data_in_vietnam, origin)
           values ($1, $2, nullif($3, ''), $4, $5, 'registered', (select id from agencies where slug = $6), nullif($7, ''), $8, 'portal')
           returning id"#,
        slug,
        dossier.name,
        dossier.short_name,
        dossier.summary,
        dossier.kind,
        dossier.host_agency,
        dossier.website,
        dossier.data_in_vietnam == "yes",
    )
    .fetch_one(&mut *tx)
    .await?;
    if let Some(enterprise_id) = row.enterprise_id {
        sqlx::query!(
            "insert into platform_enterprises (platform_id, enterprise_id, role) values ($1, $2, 'developer')",
            platform_id,
            enterprise_id
        )
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query!(
        "update revisions set platform_id = $2, state = 'approved', previous = '{}'::jsonb, reviewer_id = $3, decided_at = now() where id = $1",
        id,
        platform_id,
        reviewer_id.0
    )
    .execute(&mut *tx)
    .await?;
    Ok(Some(slug))
}
