//! Agencies (`/agencies`) and enterprises (`/enterprises`): directories and pages.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use sqlx::PgPool;

use super::view::{Fact, Link, Source, sources};
use crate::db::catalogue::{self, Listing, PlatformCard};
use crate::db::directory::{self, Agency, DirectoryEntry, Enterprise};
use crate::domain::Slug;
use crate::domain::platform::AgencyKind;
use crate::error::{AppError, AppResult};
use crate::extract::{Layout, PageCtx};

/// Most platforms listed on an agency or enterprise page.
const PLATFORMS_ON_PAGE: i64 = 200;

#[derive(Template, WebTemplate)]
#[template(path = "directory/list.html")]
pub struct DirectoryPage {
    layout: Layout,
    /// `agencies` or `enterprises`.
    section: &'static str,
    entries: Vec<DirectoryEntry>,
}

impl DirectoryPage {
    fn key(&self, suffix: &str) -> String {
        format!("{}.{suffix}", self.section)
    }

    fn kind_label(&self, entry: &DirectoryEntry) -> String {
        entry.kind.as_deref().and_then(AgencyKind::parse).map(|k| self.layout.t(k.label_key())).unwrap_or_default()
    }
}

/// `/agencies`.
pub async fn list_agencies(PageCtx(layout): PageCtx, State(pool): State<PgPool>) -> AppResult<DirectoryPage> {
    Ok(DirectoryPage { layout, section: "agencies", entries: directory::agencies(&pool).await? })
}

/// `/enterprises`.
pub async fn list_enterprises(PageCtx(layout): PageCtx, State(pool): State<PgPool>) -> AppResult<DirectoryPage> {
    Ok(DirectoryPage { layout, section: "enterprises", entries: directory::enterprises(&pool).await? })
}

#[derive(Template, WebTemplate)]
#[template(path = "directory/agency.html")]
pub struct AgencyPage {
    layout: Layout,
    agency: Agency,
    children: Vec<(String, String, Option<String>)>,
    hosted: Vec<PlatformCard>,
    focal: Vec<PlatformCard>,
    sources: Vec<Source>,
}

impl AgencyPage {
    fn facts(&self) -> Vec<Fact> {
        let lang = self.layout.lang;
        let a = &self.agency;
        vec![
            Fact::text(lang, "agency.kind", AgencyKind::parse(&a.kind).map(|k| lang.t(k.label_key()))),
            Fact::text(lang, "agency.short_name", a.short_name.clone()),
            Fact::links(lang, "agency.parent", a.parent.iter().map(|(s, n)| Link::internal(format!("/agencies/{s}"), n.clone())).collect()),
            Fact::links(lang, "agency.website", a.website.iter().filter_map(|u| Link::external(u)).collect()),
        ]
    }
}

/// `/agencies/{slug}`: the agency, its units, the platforms it hosts or is focal unit for.
pub async fn show_agency(PageCtx(layout): PageCtx, State(pool): State<PgPool>, Path(slug): Path<String>) -> AppResult<AgencyPage> {
    let slug = Slug::parse(&slug).ok_or(AppError::NotFound)?;
    let agency = directory::agency(&pool, slug.as_str()).await?.ok_or(AppError::NotFound)?;
    let (children, hosted, focal) = tokio::try_join!(
        directory::child_agencies(&pool, agency.id),
        catalogue::cards_where(&pool, Listing::HostedBy(agency.id), PLATFORMS_ON_PAGE),
        catalogue::cards_where(&pool, Listing::FocalUnit(agency.id), PLATFORMS_ON_PAGE),
    )?;
    let sources = sources(&agency.sources);
    Ok(AgencyPage { layout, agency, children, hosted, focal, sources })
}

#[derive(Template, WebTemplate)]
#[template(path = "directory/enterprise.html")]
pub struct EnterprisePage {
    layout: Layout,
    enterprise: Enterprise,
    platforms: Vec<PlatformCard>,
    sources: Vec<Source>,
}

impl EnterprisePage {
    fn facts(&self) -> Vec<Fact> {
        let lang = self.layout.lang;
        let e = &self.enterprise;
        vec![
            Fact::text(lang, "enterprise.short_name", e.short_name.clone()),
            Fact::text(lang, "enterprise.tax_code", e.tax_code.clone()),
            Fact::text(lang, "enterprise.address", e.address.clone()),
            Fact::links(lang, "enterprise.website", e.website.iter().filter_map(|u| Link::external(u)).collect()),
        ]
    }
}

/// `/enterprises/{slug}`: the enterprise and the platforms it works on.
pub async fn show_enterprise(PageCtx(layout): PageCtx, State(pool): State<PgPool>, Path(slug): Path<String>) -> AppResult<EnterprisePage> {
    let slug = Slug::parse(&slug).ok_or(AppError::NotFound)?;
    let enterprise = directory::enterprise(&pool, slug.as_str()).await?.ok_or(AppError::NotFound)?;
    let platforms = catalogue::cards_where(&pool, Listing::Enterprise(enterprise.id), PLATFORMS_ON_PAGE).await?;
    let sources = sources(&enterprise.sources);
    Ok(EnterprisePage { layout, enterprise, platforms, sources })
}
