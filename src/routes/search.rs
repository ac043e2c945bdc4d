//! Site-wide search (`/search`): platforms first, then documents, news and Q&A; type-ahead
//! suggestions (`/search/suggest`); and the plain-words account of ranking (`/search/about`).

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use super::catalogue::{Found, Shape, search_catalogue};
use super::view::clean_query;
use crate::db::catalogue::{self, Filter, Sort};
use crate::db::content::{self, TextRef};
use crate::error::{AppError, AppResult};
use crate::extract::{Layout, PageCtx};
use crate::search::{Outcome, Row, Search};

/// Documents, news and questions shown under the platforms.
const OTHER_HITS: usize = 20;
/// Suggestions returned at most.
const SUGGESTIONS: usize = 8;

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
    /// The platforms found, shared with the results cache.
    found: Arc<Found>,
    /// Documents, news and questions found, shared with the results cache.
    others: Arc<Vec<(TextRef, String)>>,
}

impl SearchPage {
    fn section_key(&self, hit: &TextRef) -> String {
        format!("search.section_{}", hit.section)
    }

    fn catalogue_href(&self) -> String {
        format!("/platforms?{}", serde_urlencoded::to_string([("q", &self.q)]).unwrap_or_default())
    }
}

/// `/search?q=`.
pub async fn search(
    PageCtx(layout): PageCtx,
    State(pool): State<PgPool>,
    State(search): State<Search>,
    Query(params): Query<SearchParams>,
) -> AppResult<SearchPage> {
    let (q, q_truncated) = clean_query(params.q.as_deref());
    let mut page = SearchPage { layout, q, q_truncated, found: Arc::new(Found::empty()), others: Arc::default() };
    if !catalogue::has_words(&page.q) {
        return Ok(page);
    }
    let filter = Filter::default();
    page.found = search_catalogue(&pool, &search, &page.q, &filter, Sort::Relevance, 1, Shape::Overview).await?;
    let key = format!("texts\u{1f}{}", page.q);
    let ticket = search.ticket();
    if let Some(others) = search.cached::<Vec<(TextRef, String)>>(&key) {
        page.others = others;
    } else if let Outcome::Ready(hits) = search.texts(&page.q, OTHER_HITS).map_err(|e| AppError::Internal(e.into()))? {
        let refs = refs_of(&pool, &search, &hits.iter().map(|h| (h.section.as_str(), h.id)).collect::<Vec<_>>()).await?;
        let others: Vec<(TextRef, String)> = hits
            .into_iter()
            .filter_map(|h| refs.iter().find(|r| r.section == h.section && r.id == h.id).map(|r| (r.clone(), h.snippet_html)))
            .collect();
        let bytes = others.iter().map(|(r, html)| r.approx_bytes() + html.len()).sum();
        page.others = Arc::new(others);
        search.remember(ticket, key, page.others.clone(), bytes);
    }
    Ok(page)
}

/// The JSON of `/search/suggest`.
#[derive(Debug, Serialize)]
pub struct Suggestions {
    q: String,
    suggestions: Vec<SuggestionJson>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    updating: bool,
}

/// One suggestion as the type-ahead script reads it.
#[derive(Debug, Clone, Serialize)]
pub struct SuggestionJson {
    label: String,
    url: String,
    section: String,
    hint: String,
}

impl SuggestionJson {
    /// Roughly the memory it holds, for the results cache's budget.
    fn approx_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.label.len() + self.url.len() + self.section.len() + self.hint.len()
    }
}

/// `/search/suggest?q=`: names that start with what was typed, as JSON.
pub async fn suggest(
    State(pool): State<PgPool>,
    State(search): State<Search>,
    Query(params): Query<SearchParams>,
) -> AppResult<Json<Suggestions>> {
    let (q, _) = clean_query(params.q.as_deref());
    // Cleaning trims the text, but a trailing space says the last word is finished: the index
    // reads it from the text it is given.
    let finished = params.q.as_deref().is_some_and(|raw| raw.ends_with(char::is_whitespace));
    let typed = if finished { format!("{q} ") } else { q.clone() };
    // Everyone typing the same words asks for the same prefixes: answers are kept in the results
    // cache (emptied on every index commit, like search results).
    let key = format!("suggest\u{1f}{typed}");
    if let Some(suggestions) = search.cached::<Vec<SuggestionJson>>(&key) {
        return Ok(Json(Suggestions { q, suggestions: suggestions.as_ref().clone(), updating: false }));
    }
    let ticket = search.ticket();
    let found = if q.chars().count() < 2 {
        Outcome::Ready(Vec::new())
    } else {
        search.suggest(&typed, SUGGESTIONS).map_err(|e| AppError::Internal(e.into()))?
    };
    let Outcome::Ready(found) = found else {
        return Ok(Json(Suggestions { q, suggestions: Vec::new(), updating: true }));
    };
    let refs = refs_of(&pool, &search, &found.iter().map(|s| (s.section.as_str(), s.id)).collect::<Vec<_>>()).await?;
    let suggestions: Vec<SuggestionJson> = found
        .into_iter()
        .filter_map(|s| {
            let r = refs.iter().find(|r| r.section == s.section && r.id == s.id)?;
            Some(SuggestionJson { label: r.title.clone(), url: r.url(), section: s.section, hint: r.hint.clone().unwrap_or_default() })
        })
        .collect();
    let bytes = key.len() + suggestions.iter().map(SuggestionJson::approx_bytes).sum::<usize>();
    search.remember(ticket, key, Arc::new(suggestions.clone()), bytes);
    Ok(Json(Suggestions { q, suggestions, updating: false }))
}

/// Titles of search hits given as (section, id): from the row cache, the others in one query.
async fn refs_of(pool: &PgPool, search: &Search, hits: &[(&str, i64)]) -> AppResult<Vec<TextRef>> {
    let keys: Vec<String> = hits.iter().map(|(section, id)| ref_key(section, *id)).collect();
    let refs = search
        .rows(&keys, |missing| {
            let wanted: Vec<(String, i64)> = missing.iter().map(|&i| (hits[i].0.to_owned(), hits[i].1)).collect();
            async move { content::text_refs(pool, &wanted).await }
        })
        .await?;
    Ok(refs)
}

fn ref_key(section: &str, id: i64) -> String {
    format!("ref:{section}:{id}")
}

/// Titles are kept in the search's row cache, as cards are.
impl Row for TextRef {
    fn key(&self) -> String {
        ref_key(&self.section, self.id)
    }

    fn approx_bytes(&self) -> usize {
        TextRef::approx_bytes(self)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "search_about.html")]
pub struct AboutPage {
    layout: Layout,
}

/// `/search/about`: what counts in the ranking, in plain words.
pub async fn about(PageCtx(layout): PageCtx) -> AboutPage {
    AboutPage { layout }
}
