//! Site-wide search (`/search`): platforms first, then documents and news. Plain SQL over folded
//! text for now; the search issue replaces it with the tantivy index.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use serde::Deserialize;
use sqlx::PgPool;

use super::view::clean_query;
use crate::db::catalogue::{self, Filter, PlatformCard, Sort};
use crate::db::content::{self, TextHit};
use crate::error::AppResult;
use crate::extract::{Layout, PageCtx};

/// The search's query parameters.
#[derive(Debug, Default, Deserialize)]
pub struct SearchParams {
    q: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "search.html")]
pub struct SearchPage {
    layout: Layout,
    q: String,
    q_truncated: bool,
    platforms: Vec<PlatformCard>,
    platform_total: i64,
    others: Vec<TextHit>,
}

impl SearchPage {
    fn catalogue_href(&self) -> String {
        format!("/platforms?{}", serde_urlencoded::to_string([("q", &self.q)]).unwrap_or_default())
    }
}

/// `/search?q=`.
pub async fn search(PageCtx(layout): PageCtx, State(pool): State<PgPool>, Query(params): Query<SearchParams>) -> AppResult<SearchPage> {
    let (q, q_truncated) = clean_query(params.q.as_deref());
    let words = Filter::words_of(&q);
    if words.is_empty() {
        return Ok(SearchPage { layout, q, q_truncated, platforms: Vec::new(), platform_total: 0, others: Vec::new() });
    }
    let filter = Filter { words: words.clone(), ..Filter::default() };
    let ((platforms, platform_total), others) =
        tokio::try_join!(catalogue::list(&pool, &filter, Sort::Name, 1), content::search_text(&pool, &words, 20))?;
    Ok(SearchPage { layout, q, q_truncated, platforms, platform_total, others })
}
