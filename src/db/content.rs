//! Legal documents, news, recognition decisions and criteria frameworks.

use sqlx::PgExecutor;
use time::{Date, OffsetDateTime};

/// A legal document as listed and shown.
#[derive(Debug, Clone)]
pub struct Document {
    /// Row id.
    pub id: i64,
    /// Slug.
    pub slug: String,
    /// Number, e.g. `186/QĐ-BTTTT`.
    pub number: String,
    /// Title.
    pub title: String,
    /// Stored document type.
    pub doc_type: String,
    /// Issuing body.
    pub issuer: String,
    /// Date of issue.
    pub issued_on: Option<Date>,
    /// Signer.
    pub signer: Option<String>,
    /// Summary.
    pub summary: Option<String>,
    /// Link to the full text.
    pub url: Option<String>,
    /// Citations.
    pub sources: Vec<String>,
}

/// Every document, newest first.
pub async fn documents(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<Document>> {
    sqlx::query_as!(
        Document,
        "select id, slug, number, title, doc_type, issuer, issued_on, signer, summary, url, sources
         from documents order by issued_on desc nulls last, number"
    )
    .fetch_all(db)
    .await
}

/// A document by slug.
pub async fn document(db: impl PgExecutor<'_>, slug: &str) -> sqlx::Result<Option<Document>> {
    sqlx::query_as!(
        Document,
        "select id, slug, number, title, doc_type, issuer, issued_on, signer, summary, url, sources
         from documents where slug = $1",
        slug
    )
    .fetch_optional(db)
    .await
}

/// A published news article.
#[derive(Debug, Clone)]
pub struct News {
    /// Slug.
    pub slug: String,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: Option<String>,
    /// Markdown body.
    pub body: Option<String>,
    /// Publication time.
    pub published_at: OffsetDateTime,
    /// Citations.
    pub sources: Vec<String>,
}

/// Published news, newest first.
pub async fn news(db: impl PgExecutor<'_>, limit: i64) -> sqlx::Result<Vec<News>> {
    sqlx::query_as!(
        News,
        r#"select slug, title, summary, body, published_at as "published_at!", sources
           from news where published_at is not null and published_at <= now()
           order by published_at desc, id desc limit $1"#,
        limit
    )
    .fetch_all(db)
    .await
}

/// A published news article by slug (drafts and future articles are not found).
pub async fn news_item(db: impl PgExecutor<'_>, slug: &str) -> sqlx::Result<Option<News>> {
    sqlx::query_as!(
        News,
        r#"select slug, title, summary, body, published_at as "published_at!", sources
           from news where slug = $1 and published_at is not null and published_at <= now()"#,
        slug
    )
    .fetch_optional(db)
    .await
}

/// A recognition (or revocation) decision in the public register.
#[derive(Debug, Clone)]
pub struct Decision {
    /// Permalink slug.
    pub slug: String,
    /// Stored kind.
    pub kind: String,
    /// Decision number, when known.
    pub number: Option<String>,
    /// Date, when known.
    pub decided_on: Option<Date>,
    /// Year, when only the year is known.
    pub decided_year: Option<i16>,
    /// Title.
    pub title: Option<String>,
    /// Note.
    pub note: Option<String>,
    /// Platform slug.
    pub platform_slug: String,
    /// Platform name.
    pub platform_name: String,
    /// Platform English name.
    pub platform_name_en: Option<String>,
    /// Citations.
    pub sources: Vec<String>,
}

/// The register: every decision, newest first; `slug` narrows it to one.
pub async fn decisions(db: impl PgExecutor<'_>, slug: Option<&str>, platform_id: Option<i64>) -> sqlx::Result<Vec<Decision>> {
    sqlx::query_as!(
        Decision,
        r#"select d.slug, d.kind, d.number, d.decided_on, d.decided_year, d.title, d.note,
                  p.slug as platform_slug, p.name as platform_name, p.name_en as platform_name_en, d.sources
           from decisions d join platforms p on p.id = d.platform_id
           where ($1::text is null or d.slug = $1) and ($2::bigint is null or d.platform_id = $2)
           order by coalesce(d.decided_on, make_date(d.decided_year, 1, 1)) desc nulls last, ndp_fold(p.name)"#,
        slug,
        platform_id
    )
    .fetch_all(db)
    .await
}

/// A criteria framework with its groups and criteria, for the document that issued it.
#[derive(Debug, Clone)]
pub struct Framework {
    /// Code, e.g. `578-2022`.
    pub code: String,
    /// Title.
    pub title: String,
    /// English title.
    pub title_en: Option<String>,
    /// Groups in order.
    pub groups: Vec<CriteriaGroup>,
}

/// A group of criteria.
#[derive(Debug, Clone)]
pub struct CriteriaGroup {
    /// Position in the framework.
    pub position: i32,
    /// Title.
    pub title: String,
    /// English title.
    pub title_en: Option<String>,
    /// Criteria in order: (title, English title, evidence required).
    pub criteria: Vec<(String, Option<String>, Option<String>)>,
}

/// Frameworks issued by a document.
pub async fn frameworks_of(db: impl PgExecutor<'_>, document_id: i64) -> sqlx::Result<Vec<Framework>> {
    let rows = sqlx::query!(
        r#"select f.id as framework_id, f.code, f.title as framework_title, f.title_en as framework_title_en,
                  g.id as "group_id?", g.position as "group_position?", g.title as "group_title?", g.title_en as group_title_en,
                  c.title as "criterion_title?", c.title_en as criterion_title_en, c.evidence_required
           from criteria_frameworks f
           left join criteria_groups g on g.framework_id = f.id
           left join criteria c on c.group_id = g.id
           where f.document_id = $1
           order by f.id, g.position, c.position"#,
        document_id
    )
    .fetch_all(db)
    .await?;
    let mut frameworks: Vec<(i64, Framework)> = Vec::new();
    for r in rows {
        if frameworks.last().is_none_or(|(id, _)| *id != r.framework_id) {
            let framework = Framework { code: r.code, title: r.framework_title, title_en: r.framework_title_en, groups: Vec::new() };
            frameworks.push((r.framework_id, framework));
        }
        let Some((_, framework)) = frameworks.last_mut() else { continue };
        let (Some(position), Some(title)) = (r.group_position, r.group_title) else { continue };
        if framework.groups.last().is_none_or(|g| g.position != position) {
            framework.groups.push(CriteriaGroup { position, title, title_en: r.group_title_en, criteria: Vec::new() });
        }
        if let (Some(group), Some(criterion)) = (framework.groups.last_mut(), r.criterion_title) {
            group.criteria.push((criterion, r.criterion_title_en, r.evidence_required));
        }
    }
    Ok(frameworks.into_iter().map(|(_, f)| f).collect())
}

/// Headline figures for the home page.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    /// Platforms in the catalogue.
    pub platforms: i64,
    /// National platforms.
    pub national: i64,
    /// Recognised platforms.
    pub recognised: i64,
    /// Agencies.
    pub agencies: i64,
    /// Enterprises.
    pub enterprises: i64,
    /// Legal documents.
    pub documents: i64,
}

/// Counts the catalogue.
pub async fn counts(db: impl PgExecutor<'_>) -> sqlx::Result<Counts> {
    sqlx::query_as!(
        Counts,
        r#"select (select count(*) from platforms) as "platforms!",
                  (select count(*) from platforms where kind = 'national') as "national!",
                  (select count(*) from platforms where recognition = 'recognised') as "recognised!",
                  (select count(*) from agencies) as "agencies!",
                  (select count(*) from enterprises) as "enterprises!",
                  (select count(*) from documents) as "documents!""#
    )
    .fetch_one(db)
    .await
}

/// What a search hit or suggestion links to.
#[derive(Debug, Clone)]
pub struct TextRef {
    /// `platform`, `document`, `news` or `qa`.
    pub section: String,
    /// Row id.
    pub id: i64,
    /// Slug (or the id for questions).
    pub slug: String,
    /// Title or name.
    pub title: String,
    /// A short hint: host agency, issuer, date.
    pub hint: Option<String>,
}

impl TextRef {
    /// About how much memory the reference takes (for the search results cache).
    pub fn approx_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.section.len() + self.slug.len() + self.title.len() + self.hint.as_ref().map_or(0, String::len)
    }

    /// The page of the row.
    pub fn url(&self) -> String {
        match self.section.as_str() {
            "platform" => format!("/platforms/{}", self.slug),
            "document" => format!("/documents/{}", self.slug),
            "news" => format!("/news/{}", self.slug),
            _ => format!("/qa/{}", self.slug),
        }
    }
}

/// Titles, slugs and hints of search hits given as (section, id), in one query.
pub async fn text_refs(db: impl PgExecutor<'_>, keys: &[(String, i64)]) -> sqlx::Result<Vec<TextRef>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let sections: Vec<String> = keys.iter().map(|(s, _)| s.clone()).collect();
    let ids: Vec<i64> = keys.iter().map(|(_, id)| *id).collect();
    sqlx::query_as!(
        TextRef,
        r#"with wanted as (select * from unnest($1::text[], $2::bigint[]) as w(section, id))
           select 'platform' as "section!", p.id as "id!", p.slug as "slug!", p.name as "title!", a.name as hint
             from platforms p join wanted w on w.section = 'platform' and w.id = p.id left join agencies a on a.id = p.host_agency_id
           union all
           select 'document', d.id, d.slug, d.number || ' — ' || d.title, d.issuer
             from documents d join wanted w on w.section = 'document' and w.id = d.id
           union all
           select 'news', n.id, n.slug, n.title, to_char(n.published_at, 'DD/MM/YYYY')
             from news n join wanted w on w.section = 'news' and w.id = n.id
           union all
           select 'qa', q.id, q.id::text, q.title, null
             from questions q join wanted w on w.section = 'qa' and w.id = q.id"#,
        &sections,
        &ids
    )
    .fetch_all(db)
    .await
}
