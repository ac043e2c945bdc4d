//! The reference facts in `seed/*.json`, loaded into the database.
//!
//! Every row carries its sources. Loading is idempotent: rows are inserted only when their slug is
//! new, and the links of a row (enterprises, need groups, criteria) only with the row itself, so a
//! second run, or a run after staff edited the data, changes nothing.

pub mod synthetic;

use std::fmt;

use anyhow::Context as _;
use serde::Deserialize;
use sqlx::{PgConnection, PgPool};
use time::Date;

use crate::domain::text::normalize;

/// Whether the database holds no catalogue yet (first start).
pub async fn is_empty(pool: &PgPool) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select not exists (select 1 from platforms) and not exists (select 1 from agencies)
                  and not exists (select 1 from documents) as "empty!""#
    )
    .fetch_one(pool)
    .await
}

/// How many rows a seed run inserted, per table.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SeedReport {
    /// Need groups.
    pub need_groups: u64,
    /// Agencies.
    pub agencies: u64,
    /// Enterprises.
    pub enterprises: u64,
    /// Documents.
    pub documents: u64,
    /// Platforms.
    pub platforms: u64,
    /// Decisions.
    pub decisions: u64,
    /// Criteria frameworks.
    pub frameworks: u64,
}

impl fmt::Display for SeedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} platforms, {} agencies, {} enterprises, {} documents, {} need groups, {} decisions, {} criteria frameworks inserted",
            self.platforms, self.agencies, self.enterprises, self.documents, self.need_groups, self.decisions, self.frameworks
        )
    }
}

#[derive(Deserialize)]
struct NeedGroup {
    slug: String,
    name: String,
    name_en: Option<String>,
    position: i32,
    description: Option<String>,
    sources: Vec<String>,
}

#[derive(Deserialize)]
struct Agency {
    slug: String,
    name: String,
    name_en: Option<String>,
    short_name: Option<String>,
    kind: String,
    parent: Option<String>,
    website: Option<String>,
    description: Option<String>,
    sources: Vec<String>,
}

#[derive(Deserialize)]
struct Enterprise {
    slug: String,
    name: String,
    name_en: Option<String>,
    short_name: Option<String>,
    tax_code: Option<String>,
    website: Option<String>,
    description: Option<String>,
    sources: Vec<String>,
}

#[derive(Deserialize)]
struct Document {
    slug: String,
    number: String,
    title: String,
    doc_type: String,
    issuer: String,
    issued_on: Option<String>,
    signer: Option<String>,
    summary: Option<String>,
    url: Option<String>,
    sources: Vec<String>,
}

#[derive(Deserialize)]
struct PlatformLink {
    slug: String,
    role: String,
    note: Option<String>,
}

#[derive(Deserialize)]
struct Platform {
    slug: String,
    name: String,
    name_en: Option<String>,
    short_name: Option<String>,
    summary: Option<String>,
    description: Option<String>,
    main_functions: Option<String>,
    applicability: Option<String>,
    kind: String,
    pillar: Option<String>,
    status: Option<String>,
    recognition: Option<String>,
    appendix_number: Option<i32>,
    host_agency: Option<String>,
    focal_unit: Option<String>,
    action_plan_document: Option<String>,
    website: Option<String>,
    #[serde(default)]
    need_groups: Vec<String>,
    #[serde(default)]
    enterprises: Vec<PlatformLink>,
    reported_users: Option<i64>,
    reported_users_as_of: Option<String>,
    reported_users_note: Option<String>,
    sources: Vec<String>,
}

#[derive(Deserialize)]
struct Decision {
    slug: String,
    platform: String,
    kind: String,
    number: Option<String>,
    decided_on: Option<String>,
    decided_year: Option<i16>,
    title: Option<String>,
    document: Option<String>,
    note: Option<String>,
    sources: Vec<String>,
}

#[derive(Deserialize)]
struct Criterion {
    position: i32,
    title: String,
    title_en: Option<String>,
    description: Option<String>,
    evidence_required: Option<String>,
}

#[derive(Deserialize)]
struct CriteriaGroup {
    position: i32,
    title: String,
    title_en: Option<String>,
    description: Option<String>,
    #[serde(default)]
    criteria: Vec<Criterion>,
}

#[derive(Deserialize)]
struct Framework {
    slug: String,
    code: String,
    title: String,
    title_en: Option<String>,
    document: Option<String>,
    applies_to: String,
    description: Option<String>,
    sources: Vec<String>,
    groups: Vec<CriteriaGroup>,
}

/// The seed files, compiled into the binary so `ndp seed` works from any directory.
struct Files;

impl Files {
    const NEED_GROUPS: &'static str = include_str!("../../seed/need_groups.json");
    const AGENCIES: &'static str = include_str!("../../seed/agencies.json");
    const ENTERPRISES: &'static str = include_str!("../../seed/enterprises.json");
    const DOCUMENTS: &'static str = include_str!("../../seed/documents.json");
    const PLATFORMS: &'static str = include_str!("../../seed/platforms.json");
    const DECISIONS: &'static str = include_str!("../../seed/decisions.json");
    const CRITERIA: &'static str = include_str!("../../seed/criteria.json");
}

fn parse<T: serde::de::DeserializeOwned>(name: &str, text: &str) -> anyhow::Result<Vec<T>> {
    serde_json::from_str(text).with_context(|| format!("seed/{name}.json is not valid"))
}

fn date(text: Option<&str>) -> anyhow::Result<Option<Date>> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    text.map(|t| Date::parse(t, format).with_context(|| format!("{t} is not a YYYY-MM-DD date"))).transpose()
}

fn opt(text: Option<String>) -> Option<String> {
    text.map(|t| normalize(&t)).filter(|t| !t.is_empty())
}

/// Loads every seed file in one transaction; returns what was inserted.
pub async fn load_reference(pool: &PgPool) -> anyhow::Result<SeedReport> {
    let mut tx = pool.begin().await?;
    let report = SeedReport {
        need_groups: need_groups(&mut tx).await?,
        agencies: agencies(&mut tx).await?,
        enterprises: enterprises(&mut tx).await?,
        documents: documents(&mut tx).await?,
        platforms: platforms(&mut tx).await?,
        decisions: decisions(&mut tx).await?,
        frameworks: frameworks(&mut tx).await?,
    };
    tx.commit().await?;
    Ok(report)
}

async fn need_groups(tx: &mut PgConnection) -> anyhow::Result<u64> {
    let mut inserted = 0;
    for g in parse::<NeedGroup>("need_groups", Files::NEED_GROUPS)? {
        inserted += sqlx::query!(
            "insert into need_groups (slug, name, name_en, description, position, origin, sources)
             values ($1, $2, $3, $4, $5, 'seed', $6) on conflict (slug) do nothing",
            g.slug,
            normalize(&g.name),
            opt(g.name_en),
            opt(g.description),
            g.position,
            &g.sources
        )
        .execute(&mut *tx)
        .await
        .with_context(|| format!("need group {}", g.slug))?
        .rows_affected();
    }
    Ok(inserted)
}

async fn agencies(tx: &mut PgConnection) -> anyhow::Result<u64> {
    let mut pending = parse::<Agency>("agencies", Files::AGENCIES)?;
    let mut known: Vec<String> = Vec::new();
    let mut inserted = 0;
    // Parents first: each pass inserts the agencies whose parent is already in place.
    while !pending.is_empty() {
        let (ready, waiting): (Vec<Agency>, Vec<Agency>) =
            pending.into_iter().partition(|a| a.parent.as_ref().is_none_or(|p| known.contains(p)));
        if ready.is_empty() {
            let slugs: Vec<&str> = waiting.iter().map(|a| a.slug.as_str()).collect();
            anyhow::bail!("seed/agencies.json: unknown or circular parents for {}", slugs.join(", "));
        }
        for a in ready {
            inserted += sqlx::query!(
                "insert into agencies (slug, name, name_en, short_name, kind, parent_id, website, description, origin, sources)
                 values ($1, $2, $3, $4, $5, (select id from agencies where slug = $6), $7, $8, 'seed', $9)
                 on conflict (slug) do nothing",
                a.slug,
                normalize(&a.name),
                opt(a.name_en),
                opt(a.short_name),
                a.kind,
                a.parent,
                opt(a.website),
                opt(a.description),
                &a.sources
            )
            .execute(&mut *tx)
            .await
            .with_context(|| format!("agency {}", a.slug))?
            .rows_affected();
            known.push(a.slug);
        }
        pending = waiting;
    }
    Ok(inserted)
}

async fn enterprises(tx: &mut PgConnection) -> anyhow::Result<u64> {
    let mut inserted = 0;
    for e in parse::<Enterprise>("enterprises", Files::ENTERPRISES)? {
        inserted += sqlx::query!(
            "insert into enterprises (slug, name, name_en, short_name, tax_code, website, description, origin, sources)
             values ($1, $2, $3, $4, $5, $6, $7, 'seed', $8) on conflict (slug) do nothing",
            e.slug,
            normalize(&e.name),
            opt(e.name_en),
            opt(e.short_name),
            opt(e.tax_code),
            opt(e.website),
            opt(e.description),
            &e.sources
        )
        .execute(&mut *tx)
        .await
        .with_context(|| format!("enterprise {}", e.slug))?
        .rows_affected();
    }
    Ok(inserted)
}

async fn documents(tx: &mut PgConnection) -> anyhow::Result<u64> {
    let mut inserted = 0;
    for d in parse::<Document>("documents", Files::DOCUMENTS)? {
        inserted += sqlx::query!(
            "insert into documents (slug, number, title, doc_type, issuer, issued_on, signer, summary, url, origin, sources)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'seed', $10) on conflict (slug) do nothing",
            d.slug,
            normalize(&d.number),
            normalize(&d.title),
            d.doc_type,
            normalize(&d.issuer),
            date(d.issued_on.as_deref()).with_context(|| format!("document {}", d.slug))?,
            opt(d.signer),
            opt(d.summary),
            opt(d.url),
            &d.sources
        )
        .execute(&mut *tx)
        .await
        .with_context(|| format!("document {}", d.slug))?
        .rows_affected();
    }
    Ok(inserted)
}

/// Looks up the id of a referenced row, failing loudly on a dangling reference in the seed.
async fn id_of(tx: &mut PgConnection, table: &str, slug: Option<&str>, from: &str) -> anyhow::Result<Option<i64>> {
    let Some(slug) = slug else { return Ok(None) };
    let sql = match table {
        "agencies" => "select id from agencies where slug = $1",
        "documents" => "select id from documents where slug = $1",
        "platforms" => "select id from platforms where slug = $1",
        _ => anyhow::bail!("no lookup for {table}"),
    };
    let id: Option<i64> = sqlx::query_scalar(sql).bind(slug).fetch_optional(&mut *tx).await?;
    id.map(Some).with_context(|| format!("{from} refers to {table} `{slug}`, which the seed does not define"))
}

async fn platforms(tx: &mut PgConnection) -> anyhow::Result<u64> {
    let mut inserted = 0;
    for p in parse::<Platform>("platforms", Files::PLATFORMS)? {
        let from = format!("platform {}", p.slug);
        let host = id_of(tx, "agencies", p.host_agency.as_deref(), &from).await?;
        let focal = id_of(tx, "agencies", p.focal_unit.as_deref(), &from).await?;
        let plan = id_of(tx, "documents", p.action_plan_document.as_deref(), &from).await?;
        let id: Option<i64> = sqlx::query_scalar!(
            "insert into platforms (slug, appendix_number, name, name_en, short_name, summary, description, main_functions,
                                    applicability, kind, pillar, status, recognition, host_agency_id, focal_unit_id,
                                    action_plan_document_id, website, reported_users, reported_users_as_of,
                                    reported_users_note, origin, sources)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, 'seed', $21)
             on conflict (slug) do nothing returning id",
            p.slug,
            p.appendix_number,
            normalize(&p.name),
            opt(p.name_en),
            opt(p.short_name),
            opt(p.summary),
            opt(p.description),
            opt(p.main_functions),
            opt(p.applicability),
            p.kind,
            p.pillar,
            p.status,
            p.recognition,
            host,
            focal,
            plan,
            opt(p.website),
            p.reported_users,
            date(p.reported_users_as_of.as_deref()).with_context(|| from.clone())?,
            opt(p.reported_users_note),
            &p.sources
        )
        .fetch_optional(&mut *tx)
        .await
        .with_context(|| from.clone())?;
        let Some(id) = id else { continue };
        inserted += 1;
        for link in &p.enterprises {
            let done = sqlx::query!(
                "insert into platform_enterprises (platform_id, enterprise_id, role, note, sources)
                 select $1, e.id, $3, $4, $5 from enterprises e where e.slug = $2",
                id,
                link.slug,
                link.role,
                link.note.clone().map(|n| normalize(&n)),
                &p.sources
            )
            .execute(&mut *tx)
            .await
            .with_context(|| from.clone())?;
            anyhow::ensure!(done.rows_affected() == 1, "{from} refers to enterprise `{}`, which the seed does not define", link.slug);
        }
        for need in &p.need_groups {
            let done = sqlx::query!(
                "insert into platform_need_groups (platform_id, need_group_id) select $1, id from need_groups where slug = $2",
                id,
                need
            )
            .execute(&mut *tx)
            .await?;
            anyhow::ensure!(done.rows_affected() == 1, "{from} refers to need group `{need}`, which the seed does not define");
        }
    }
    Ok(inserted)
}

async fn decisions(tx: &mut PgConnection) -> anyhow::Result<u64> {
    let mut inserted = 0;
    for d in parse::<Decision>("decisions", Files::DECISIONS)? {
        let from = format!("decision {}", d.slug);
        let platform = id_of(tx, "platforms", Some(&d.platform), &from).await?;
        let document = id_of(tx, "documents", d.document.as_deref(), &from).await?;
        inserted += sqlx::query!(
            "insert into decisions (slug, platform_id, kind, number, decided_on, decided_year, title, document_id, note, origin, sources)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'seed', $10) on conflict (slug) do nothing",
            d.slug,
            platform,
            d.kind,
            opt(d.number),
            date(d.decided_on.as_deref()).with_context(|| from.clone())?,
            d.decided_year,
            opt(d.title),
            document,
            opt(d.note),
            &d.sources
        )
        .execute(&mut *tx)
        .await
        .with_context(|| from.clone())?
        .rows_affected();
    }
    Ok(inserted)
}

async fn frameworks(tx: &mut PgConnection) -> anyhow::Result<u64> {
    let mut inserted = 0;
    for f in parse::<Framework>("criteria", Files::CRITERIA)? {
        let from = format!("criteria framework {}", f.slug);
        let document = id_of(tx, "documents", f.document.as_deref(), &from).await?;
        let id: Option<i64> = sqlx::query_scalar!(
            "insert into criteria_frameworks (slug, code, title, title_en, document_id, applies_to, description, origin, sources)
             values ($1, $2, $3, $4, $5, $6, $7, 'seed', $8) on conflict (slug) do nothing returning id",
            f.slug,
            f.code,
            normalize(&f.title),
            opt(f.title_en),
            document,
            f.applies_to,
            opt(f.description),
            &f.sources
        )
        .fetch_optional(&mut *tx)
        .await
        .with_context(|| from.clone())?;
        let Some(framework_id) = id else { continue };
        inserted += 1;
        for g in f.groups {
            let group_id = sqlx::query_scalar!(
                "insert into criteria_groups (framework_id, position, title, title_en, description, sources)
                 values ($1, $2, $3, $4, $5, $6) returning id",
                framework_id,
                g.position,
                normalize(&g.title),
                opt(g.title_en),
                opt(g.description),
                &f.sources
            )
            .fetch_one(&mut *tx)
            .await
            .with_context(|| from.clone())?;
            for c in g.criteria {
                sqlx::query!(
                    "insert into criteria (group_id, position, title, title_en, description, evidence_required, sources)
                     values ($1, $2, $3, $4, $5, $6, $7)",
                    group_id,
                    c.position,
                    normalize(&c.title),
                    opt(c.title_en),
                    opt(c.description),
                    opt(c.evidence_required),
                    &f.sources
                )
                .execute(&mut *tx)
                .await
                .with_context(|| from.clone())?;
            }
        }
    }
    Ok(inserted)
}
