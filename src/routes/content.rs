//! Legal documents, news and the recognition register.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use sqlx::PgPool;

use super::platform_page::decision_date;
use super::view::{Fact, Link, Source, sources};
use crate::db::catalogue::{self, Listing, PlatformCard};
use crate::db::content::{self, Decision, Document, Framework, News};
use crate::domain::Slug;
use crate::domain::platform::DecisionKind;
use crate::error::{AppError, AppResult};
use crate::extract::{Layout, PageCtx};

#[derive(Template, WebTemplate)]
#[template(path = "documents/list.html")]
pub struct DocumentsPage {
    layout: Layout,
    documents: Vec<Document>,
}

/// `/documents`.
pub async fn list_documents(PageCtx(layout): PageCtx, State(pool): State<PgPool>) -> AppResult<DocumentsPage> {
    Ok(DocumentsPage { layout, documents: content::documents(&pool).await? })
}

#[derive(Template, WebTemplate)]
#[template(path = "documents/show.html")]
pub struct DocumentPage {
    layout: Layout,
    document: Document,
    frameworks: Vec<Framework>,
    platforms: Vec<PlatformCard>,
    sources: Vec<Source>,
}

impl DocumentPage {
    fn facts(&self) -> Vec<Fact> {
        let lang = self.layout.lang;
        let d = &self.document;
        vec![
            Fact::text(lang, "document.number", Some(d.number.clone())),
            Fact::text(lang, "document.type", Some(lang.t(&format!("doc_type.{}", d.doc_type)))),
            Fact::text(lang, "document.issuer", Some(d.issuer.clone())),
            Fact::text(lang, "document.issued_on", d.issued_on.map(|date| lang.date(date))),
            Fact::text(lang, "document.signer", d.signer.clone()),
            Fact::links(lang, "document.full_text", d.url.iter().filter_map(|u| Link::external(u)).collect()),
        ]
    }
}

/// `/documents/{slug}`: the document, the criteria it sets, the platforms whose plan it is.
pub async fn show_document(PageCtx(layout): PageCtx, State(pool): State<PgPool>, Path(slug): Path<String>) -> AppResult<DocumentPage> {
    let slug = Slug::parse(&slug).ok_or(AppError::NotFound)?;
    let document = content::document(&pool, slug.as_str()).await?.ok_or(AppError::NotFound)?;
    let (frameworks, platforms) =
        tokio::try_join!(content::frameworks_of(&pool, document.id), catalogue::cards_where(&pool, Listing::ActionPlan(document.id), 200))?;
    let sources = sources(&document.sources);
    Ok(DocumentPage { layout, document, frameworks, platforms, sources })
}

#[derive(Template, WebTemplate)]
#[template(path = "news/list.html")]
pub struct NewsListPage {
    layout: Layout,
    news: Vec<News>,
}

/// `/news`.
pub async fn list_news(PageCtx(layout): PageCtx, State(pool): State<PgPool>) -> AppResult<NewsListPage> {
    Ok(NewsListPage { layout, news: content::news(&pool, 100).await? })
}

#[derive(Template, WebTemplate)]
#[template(path = "news/show.html")]
pub struct NewsPage {
    layout: Layout,
    item: News,
    /// Sanitised by `markdown::render`.
    body_html: String,
    sources: Vec<Source>,
}

/// `/news/{slug}`.
pub async fn show_news(PageCtx(layout): PageCtx, State(pool): State<PgPool>, Path(slug): Path<String>) -> AppResult<NewsPage> {
    let slug = Slug::parse(&slug).ok_or(AppError::NotFound)?;
    let item = content::news_item(&pool, slug.as_str()).await?.ok_or(AppError::NotFound)?;
    let body_html = crate::markdown::render(item.body.as_deref().unwrap_or(""));
    let sources = sources(&item.sources);
    Ok(NewsPage { layout, item, body_html, sources })
}

#[derive(Template, WebTemplate)]
#[template(path = "recognitions.html")]
pub struct RecognitionsPage {
    layout: Layout,
    decisions: Vec<Decision>,
    /// Set on a decision's permalink page.
    single: bool,
}

impl RecognitionsPage {
    fn date(&self, d: &Decision) -> String {
        decision_date(self.layout.lang, d)
    }

    fn kind_label(&self, d: &Decision) -> String {
        DecisionKind::parse(&d.kind).map(|k| self.layout.t(k.label_key())).unwrap_or_default()
    }

    fn sources_of(&self, d: &Decision) -> Vec<Source> {
        sources(&d.sources)
    }
}

/// `/recognitions`: the register of decisions.
pub async fn list_recognitions(PageCtx(layout): PageCtx, State(pool): State<PgPool>) -> AppResult<RecognitionsPage> {
    Ok(RecognitionsPage { layout, decisions: content::decisions(&pool, None, None).await?, single: false })
}

/// `/recognitions/{slug}`: one decision's stable permalink.
pub async fn show_recognition(
    PageCtx(layout): PageCtx,
    State(pool): State<PgPool>,
    Path(slug): Path<String>,
) -> AppResult<RecognitionsPage> {
    let slug = Slug::parse(&slug).ok_or(AppError::NotFound)?;
    let decisions = content::decisions(&pool, Some(slug.as_str()), None).await?;
    if decisions.is_empty() {
        return Err(AppError::NotFound);
    }
    Ok(RecognitionsPage { layout, decisions, single: true })
}
