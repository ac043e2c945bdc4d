//! Agencies, enterprises and need groups: the directories and their pages.

use sqlx::PgExecutor;

/// An agency or an enterprise as listed in a directory.
#[derive(Debug, Clone)]
pub struct DirectoryEntry {
    /// Row id.
    pub id: i64,
    /// Slug.
    pub slug: String,
    /// Vietnamese name.
    pub name: String,
    /// English name.
    pub name_en: Option<String>,
    /// Short name or abbreviation.
    pub short_name: Option<String>,
    /// Agency kind (agencies only).
    pub kind: Option<String>,
    /// Platforms linked (hosted, focal unit, or worked on).
    pub platforms: i64,
}

/// Every agency with the number of platforms it hosts or is focal unit for.
pub async fn agencies(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<DirectoryEntry>> {
    sqlx::query_as!(
        DirectoryEntry,
        r#"select a.id, a.slug, a.name, a.name_en, a.short_name, a.kind as "kind?",
                  (select count(*) from platforms p where p.host_agency_id = a.id or p.focal_unit_id = a.id) as "platforms!"
           from agencies a
           order by array_position(array['ministry','government_agency','province','mic_unit','association','state_enterprise','other'], a.kind),
                    ndp_fold(a.name)"#
    )
    .fetch_all(db)
    .await
}

/// Every enterprise with the number of platforms it works on.
pub async fn enterprises(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<DirectoryEntry>> {
    sqlx::query_as!(
        DirectoryEntry,
        r#"select e.id, e.slug, e.name, e.name_en, e.short_name, null::text as kind,
                  (select count(distinct pe.platform_id) from platform_enterprises pe where pe.enterprise_id = e.id) as "platforms!"
           from enterprises e
           order by ndp_fold(e.name)"#
    )
    .fetch_all(db)
    .await
}

/// An agency's page.
#[derive(Debug, Clone)]
pub struct Agency {
    /// Row id.
    pub id: i64,
    /// Slug.
    pub slug: String,
    /// Vietnamese name.
    pub name: String,
    /// English name.
    pub name_en: Option<String>,
    /// Abbreviation.
    pub short_name: Option<String>,
    /// Kind.
    pub kind: String,
    /// Website.
    pub website: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Parent agency (slug, name).
    pub parent: Option<(String, String)>,
    /// Citations.
    pub sources: Vec<String>,
}

/// An agency by slug.
pub async fn agency(db: impl PgExecutor<'_>, slug: &str) -> sqlx::Result<Option<Agency>> {
    let row = sqlx::query!(
        r#"select a.id, a.slug, a.name, a.name_en, a.short_name, a.kind, a.website, a.description, a.sources,
                  pa.slug as "parent_slug?", pa.name as "parent_name?"
           from agencies a left join agencies pa on pa.id = a.parent_id
           where a.slug = $1"#,
        slug
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| Agency {
        id: r.id,
        slug: r.slug,
        name: r.name,
        name_en: r.name_en,
        short_name: r.short_name,
        kind: r.kind,
        website: r.website,
        description: r.description,
        parent: r.parent_slug.zip(r.parent_name),
        sources: r.sources,
    }))
}

/// Units under an agency (slug, name, English name).
pub async fn child_agencies(db: impl PgExecutor<'_>, parent_id: i64) -> sqlx::Result<Vec<(String, String, Option<String>)>> {
    let rows = sqlx::query!("select slug, name, name_en from agencies where parent_id = $1 order by ndp_fold(name)", parent_id)
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(|r| (r.slug, r.name, r.name_en)).collect())
}

/// An enterprise's page.
#[derive(Debug, Clone)]
pub struct Enterprise {
    /// Row id.
    pub id: i64,
    /// Slug.
    pub slug: String,
    /// Name.
    pub name: String,
    /// English name.
    pub name_en: Option<String>,
    /// Short name.
    pub short_name: Option<String>,
    /// Tax code (mã số thuế).
    pub tax_code: Option<String>,
    /// Address.
    pub address: Option<String>,
    /// Website.
    pub website: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Citations.
    pub sources: Vec<String>,
}

/// An enterprise by slug.
pub async fn enterprise(db: impl PgExecutor<'_>, slug: &str) -> sqlx::Result<Option<Enterprise>> {
    sqlx::query_as!(
        Enterprise,
        "select id, slug, name, name_en, short_name, tax_code, address, website, description, sources
         from enterprises where slug = $1",
        slug
    )
    .fetch_optional(db)
    .await
}

/// A need group with the number of platforms serving it.
#[derive(Debug, Clone)]
pub struct NeedGroup {
    /// Slug.
    pub slug: String,
    /// Vietnamese name.
    pub name: String,
    /// English name.
    pub name_en: Option<String>,
    /// Platforms in the group.
    pub platforms: i64,
}

/// Every need group, in the order of Decision 578.
pub async fn need_groups(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<NeedGroup>> {
    sqlx::query_as!(
        NeedGroup,
        r#"select ng.slug, ng.name, ng.name_en,
                  (select count(*) from platform_need_groups png where png.need_group_id = ng.id) as "platforms!"
           from need_groups ng order by ng.position, ng.name"#
    )
    .fetch_all(db)
    .await
}
