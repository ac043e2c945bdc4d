//! The catalogue (`/platforms`): filters, facets, sorts and pages, with or without search words.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use serde::Deserialize;
use sqlx::PgPool;

use super::view::{Pager, clean_query};
use crate::db::catalogue::{self, FacetValue, Facets, Filter, PAGE_SIZE, PlatformCard, Sort};
use crate::domain::Slug;
use crate::domain::platform::{Kind, Status};
use crate::error::{AppError, AppResult};
use crate::extract::{Layout, PageCtx};
use crate::search::{FacetFilter, Outcome, PlatformQuery, Row, Search, SearchSort};

/// The catalogue's query parameters, all optional and read leniently: an unknown value is ignored.
#[derive(Debug, Default, Deserialize)]
pub struct CatalogueParams {
    q: Option<String>,
    kind: Option<String>,
    need: Option<String>,
    agency: Option<String>,
    status: Option<String>,
    sort: Option<String>,
    page: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "platforms/list.html")]
pub struct CataloguePage {
    layout: Layout,
    q: String,
    q_truncated: bool,
    kind: String,
    need: String,
    agency: String,
    status: String,
    sort: Sort,
    pager: Pager,
    total: i64,
    platforms: Vec<PlatformCard>,
    facets: Facets,
    updating: bool,
    widened: bool,
}

impl CataloguePage {
    fn sorts(&self) -> Vec<Sort> {
        Sort::ALL.into_iter().filter(|s| *s != Sort::Relevance || !self.q.is_empty()).collect()
    }

    fn href(&self, page: impl std::borrow::Borrow<i64>) -> String {
        let page = *page.borrow();
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for (key, value) in [("q", &self.q), ("kind", &self.kind), ("need", &self.need), ("agency", &self.agency), ("status", &self.status)]
        {
            if !value.is_empty() {
                pairs.push((key, value.clone()));
            }
        }
        if self.sort != Sort::default_for(!self.q.is_empty()) {
            pairs.push(("sort", self.sort.as_str().to_owned()));
        }
        if page > 1 {
            pairs.push(("page", page.to_string()));
        }
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        if query.is_empty() { "/platforms".to_owned() } else { format!("/platforms?{query}") }
    }

    fn has_filters(&self) -> bool {
        !(self.q.is_empty() && self.kind.is_empty() && self.need.is_empty() && self.agency.is_empty() && self.status.is_empty())
    }

    fn vocabulary_label(&self, key: &str, value: &str) -> String {
        self.layout.t(&format!("{key}.{value}"))
    }
}

/// `/platforms`: filters with counts, sort, pagination. With words to match, the search index
/// answers (relevance, snippets, facets from the same query); without, plain SQL lists the catalogue.
pub async fn list_platforms(
    PageCtx(layout): PageCtx,
    State(pool): State<PgPool>,
    State(search): State<Search>,
    Query(params): Query<CatalogueParams>,
) -> AppResult<CataloguePage> {
    let (q, q_truncated) = clean_query(params.q.as_deref());
    let slug_param = |v: &Option<String>| v.as_deref().and_then(Slug::parse).map(|s| s.as_str().to_owned());
    let has_words = catalogue::has_words(&q);
    let filter = Filter {
        kind: params.kind.as_deref().and_then(Kind::parse),
        need: slug_param(&params.need),
        agency: slug_param(&params.agency),
        status: params.status.as_deref().and_then(Status::parse),
    };
    let sort = Sort::parse(params.sort.as_deref().unwrap_or(""), has_words);
    let page = params.page.as_deref().and_then(|p| p.trim().parse::<i64>().ok()).unwrap_or(1).clamp(1, 10_000);
    let mut found = if !has_words {
        let ((platforms, total), facets) =
            tokio::try_join!(catalogue::list(&pool, &filter, sort, page), catalogue::facets(&pool, &filter))?;
        Found { platforms, total, facets, updating: false, widened: false }
    } else {
        // A copy: the ratings are attached per request, not cached.
        Found::clone(&*search_catalogue(&pool, &search, &q, &filter, sort, page, Shape::Catalogue).await?)
    };
    catalogue::attach_ratings(&pool, &mut found.platforms).await?;
    Ok(CataloguePage {
        layout,
        q,
        q_truncated,
        kind: filter.kind.map(|k| k.as_str().to_owned()).unwrap_or_default(),
        need: filter.need.unwrap_or_default(),
        agency: filter.agency.unwrap_or_default(),
        status: filter.status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        sort,
        pager: Pager::new(page, found.total, PAGE_SIZE),
        total: found.total,
        platforms: found.platforms,
        facets: found.facets,
        updating: found.updating,
        widened: found.widened,
    })
}

/// One page of catalogue results, however found.
#[derive(Clone)]
pub struct Found {
    /// Cards of the page, in order.
    pub platforms: Vec<PlatformCard>,
    /// Matches in all.
    pub total: i64,
    /// Facet counts.
    pub facets: Facets,
    /// The index is being rebuilt.
    pub updating: bool,
    /// Results come from the typo-tolerant or relaxed retry.
    pub widened: bool,
}

impl Found {
    /// No results (a search without words).
    pub fn empty() -> Self {
        Self { platforms: Vec::new(), total: 0, facets: Facets::default(), updating: false, widened: false }
    }
}

/// What a catalogue search returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// The catalogue page: a page of [`PAGE_SIZE`] with facet counts.
    Catalogue,
    /// The site-wide search's overview: the best few, without facets.
    Overview,
}

/// Platforms the site-wide search shows before linking to the catalogue.
pub const OVERVIEW_SIZE: i64 = 10;

/// Runs a catalogue query through the search index and loads the cards of the page (shared
/// with the results cache, so a cached page is not copied).
pub async fn search_catalogue(
    pool: &PgPool,
    search: &Search,
    q: &str,
    filter: &Filter,
    sort: Sort,
    page: i64,
    shape: Shape,
) -> AppResult<Arc<Found>> {
    let with_facets = shape == Shape::Catalogue;
    let page_size = if with_facets { PAGE_SIZE } else { OVERVIEW_SIZE };
    let query = PlatformQuery {
        text: q.to_owned(),
        filter: FacetFilter {
            kind: filter.kind.map(|k| k.as_str().to_owned()),
            need: filter.need.clone(),
            agency: filter.agency.clone(),
            status: filter.status.map(|s| s.as_str().to_owned()),
        },
        sort: match sort {
            Sort::Relevance => SearchSort::Relevance,
            Sort::Name => SearchSort::Name,
            Sort::Rating => SearchSort::Rating,
            Sort::Newest => SearchSort::Newest,
        },
        offset: usize::try_from((page - 1) * page_size).unwrap_or(0),
        limit: usize::try_from(page_size).unwrap_or(20),
        facets: with_facets,
    };
    let key = format!("catalogue\u{1f}{q}\u{1f}{:?}\u{1f}{:?}\u{1f}{page}\u{1f}{with_facets}", query.filter, query.sort);
    if let Some(found) = search.cached::<Found>(&key) {
        return Ok(found);
    }
    let ticket = search.ticket();
    let found = Arc::new(find_in_index(pool, search, &query).await?);
    if !found.updating {
        let bytes = found.facets.approx_bytes() + found.platforms.iter().map(PlatformCard::approx_bytes).sum::<usize>();
        search.remember(ticket, key, found.clone(), bytes);
    }
    Ok(found)
}

fn card_key(id: i64) -> String {
    format!("card:{id}")
}

/// Cards are kept in the search's row cache: a new search mostly shows platforms shown before.
impl Row for PlatformCard {
    fn key(&self) -> String {
        card_key(self.id)
    }

    fn approx_bytes(&self) -> usize {
        PlatformCard::approx_bytes(self)
    }
}

async fn find_in_index(pool: &PgPool, search: &Search, query: &PlatformQuery) -> AppResult<Found> {
    let with_facets = query.facets;
    let results = match search.platforms(query).map_err(|e| AppError::Internal(e.into()))? {
        Outcome::Ready(r) => r,
        Outcome::Updating => {
            return Ok(Found { platforms: Vec::new(), total: 0, facets: Facets::default(), updating: true, widened: false });
        }
    };
    let keys: Vec<String> = results.hits.iter().map(|h| card_key(h.id)).collect();
    let mut platforms: Vec<PlatformCard> = search
        .rows(&keys, |missing| {
            let ids: Vec<i64> = missing.iter().map(|&i| results.hits[i].id).collect();
            async move { catalogue::cards_by_ids(pool, &ids).await }
        })
        .await?;
    for card in &mut platforms {
        card.snippet_html = results.hits.iter().find(|h| h.id == card.id).map(|h| h.snippet_html.clone()).filter(|s| !s.is_empty());
    }
    let [kind, need, agency, status] = results.facets;
    let slugs = |counts: &[(String, u64)]| counts.iter().map(|(v, _)| v.clone()).collect::<Vec<_>>();
    let labels = if with_facets { catalogue::facet_labels(pool, &slugs(&need), &slugs(&agency)).await? } else { Vec::new() };
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    // Need groups and agencies carry names from the database (values without one are dropped);
    // kinds and statuses are translated from their vocabulary, in its order.
    let labelled = |facet: &str, counts: Vec<(String, u64)>| -> Vec<FacetValue> {
        let mut values: Vec<(i32, FacetValue)> = counts
            .into_iter()
            .filter_map(|(value, n)| {
                let l = labels.iter().find(|l| l.facet == facet && l.slug == value)?;
                Some((l.position, FacetValue { value, label: Some(l.label.clone()), label_en: l.label_en.clone(), count: count(n) }))
            })
            .collect();
        values.sort_by_key(|(position, v)| (*position, -v.count));
        values.into_iter().map(|(_, v)| v).collect()
    };
    let vocabulary = |counts: Vec<(String, u64)>, order: &[&str]| -> Vec<FacetValue> {
        let mut values: Vec<FacetValue> =
            counts.into_iter().map(|(value, n)| FacetValue { value, label: None, label_en: None, count: count(n) }).collect();
        values.sort_by_key(|v| order.iter().position(|o| *o == v.value).unwrap_or(usize::MAX));
        values
    };
    let facets = Facets {
        kind: vocabulary(kind, &Kind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>()),
        need: labelled("need", need),
        agency: labelled("agency", agency),
        status: vocabulary(status, &Status::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
    };
    Ok(Found { platforms, total: i64::try_from(results.total).unwrap_or(0), facets, updating: false, widened: results.widened })
}
