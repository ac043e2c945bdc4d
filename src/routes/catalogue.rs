//! The catalogue (`/platforms`) and the platform page (`/platforms/{slug}`).

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use sqlx::PgPool;

use super::view::{Fact, Link, Pager, Source, clean_query, sources};
use crate::db::catalogue::{
    self, FacetValue, Facets, Filter, LinkedEnterprise, NeedGroupRef, PAGE_SIZE, PlatformCard, PlatformDetail, Sort,
};
use crate::db::content::{self, Decision};
use crate::domain::Slug;
use crate::domain::moderation::RatingOrder;
use crate::domain::platform::{DecisionKind, EnterpriseRole, Kind, Pillar, Status};
use crate::error::{AppError, AppResult};
use crate::extract::{CurrentUser, Layout, PageCtx};
use crate::i18n::Lang;
use crate::search::{FacetFilter, Outcome, PlatformQuery, Row, Search, SearchSort};
use crate::state::AppState;

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

#[derive(Template, WebTemplate)]
#[template(path = "platforms/show.html")]
pub struct PlatformPage {
    layout: Layout,
    p: PlatformDetail,
    enterprises: Vec<LinkedEnterprise>,
    need_groups: Vec<NeedGroupRef>,
    decisions: Vec<Decision>,
    /// Sanitised by `markdown::render`.
    description_html: Option<String>,
    sources: Vec<Source>,
    /// Ratings and feedback.
    pub opinions: crate::routes::opinions::Opinions,
}

impl PlatformPage {
    /// Where a flag form returns to.
    /// The reasons a report (flag) may give.
    fn flag_reasons(&self) -> [&'static str; 6] {
        crate::domain::moderation::REASONS
    }

    fn back_path(&self) -> String {
        format!("/platforms/{}#opinions", self.p.slug)
    }

    /// Not confirmed by its owner for six months (or never).
    fn is_stale(&self) -> bool {
        self.p.last_confirmed_at.is_none_or(|at| time::OffsetDateTime::now_utc() - at > crate::routes::account::CONFIRM_EVERY)
    }

    fn logo_url(&self) -> Option<String> {
        self.p.logo_path.as_deref().filter(|p| crate::domain::listing::is_logo_name(p)).map(|p| format!("/media/logos/{p}"))
    }

    fn facts(&self) -> Vec<Fact> {
        let lang = self.layout.lang;
        let p = &self.p;
        let label = |key: Option<&'static str>| key.map(|k| lang.t(k));
        let yes_no = |v: Option<bool>| v.map(|b| lang.t(if b { "common.answer_yes" } else { "common.answer_no" }));
        let agency = |a: &Option<(String, String, Option<String>)>| {
            a.iter().map(|(slug, name, en)| Link::internal(format!("/agencies/{slug}"), self.layout.pick(name, en).to_owned())).collect()
        };
        let status = match (p.status.as_deref().and_then(Status::parse), p.recognition.as_deref().and_then(Status::parse)) {
            (None, None) => None,
            (a, b) => Some([a, b].into_iter().flatten().map(|s| lang.t(s.label_key())).collect::<Vec<_>>().join(" · ")),
        };
        let apps: Vec<Link> = [&p.android_url, &p.ios_url].into_iter().flatten().filter_map(|u| Link::external(u)).collect();
        let plan = p
            .action_plan
            .iter()
            .map(|(slug, number, title, _)| Link::internal(format!("/documents/{slug}"), format!("{number} — {title}")))
            .collect();
        let users = p.reported_users.map(|n| {
            let mut text = lang.number(n);
            if let Some(as_of) = p.reported_users_as_of {
                text.push_str(&format!(" ({} {})", lang.t("platform.as_of"), lang.date(as_of)));
            }
            if let Some(note) = &p.reported_users_note {
                text.push_str(&format!(" — {note}"));
            }
            text
        });
        vec![
            Fact::text(lang, "platform.kind", label(Kind::parse(&p.kind).map(Kind::label_key))),
            Fact::text(lang, "platform.pillar", label(p.pillar.as_deref().and_then(Pillar::parse).map(Pillar::label_key))),
            Fact::text(lang, "platform.status", status),
            Fact::links(lang, "platform.host_agency", agency(&p.host_agency)),
            Fact::links(lang, "platform.focal_unit", agency(&p.focal_unit)),
            self.enterprises_fact(),
            Fact::links(
                lang,
                "platform.need_groups",
                self.need_groups
                    .iter()
                    .map(|n| Link::internal(format!("/platforms?need={}", n.slug), self.layout.pick(&n.name, &n.name_en).to_owned()))
                    .collect(),
            ),
            Fact::links(lang, "platform.action_plan", plan),
            Fact::links(lang, "platform.website", p.website.iter().filter_map(|u| Link::external(u)).collect()),
            Fact::links(lang, "platform.apps", apps),
            Fact::text(lang, "platform.languages", (!p.languages.is_empty()).then(|| p.languages.join(", "))),
            Fact::links(lang, "platform.accessibility", p.accessibility_url.iter().filter_map(|u| Link::external(u)).collect()),
            Fact::text(lang, "platform.data_in_vietnam", yes_no(p.data_in_vietnam)),
            Fact::text(lang, "platform.security_level", p.security_level.map(|l| l.to_string())),
            Fact::text(lang, "platform.ndxp", yes_no(p.ndxp_connected)),
            Fact::text(lang, "platform.reported_users", users),
            Fact::text(lang, "platform.appendix_number", p.appendix_number.map(|n| n.to_string())),
            Fact::text(lang, "platform.last_confirmed", p.last_confirmed_at.map(|t| lang.date(t.date()))),
        ]
    }

    fn enterprises_fact(&self) -> Fact {
        let lang = self.layout.lang;
        let links = self
            .enterprises
            .iter()
            .map(|e| {
                let role = EnterpriseRole::parse(&e.role).map(|r| lang.t(r.label_key())).unwrap_or_else(|| e.role.clone());
                Link::internal(format!("/enterprises/{}", e.slug), format!("{} ({role})", e.name))
            })
            .collect();
        Fact::links(lang, "platform.enterprises", links)
    }

    fn kind_label(&self) -> String {
        Kind::parse(&self.p.kind).map(|k| self.layout.t(k.label_key())).unwrap_or_default()
    }

    fn decision_kind_key(&self, d: &Decision) -> &'static str {
        DecisionKind::parse(&d.kind).map_or("common.unknown", DecisionKind::label_key)
    }

    fn decision_date(&self, d: &Decision) -> String {
        decision_date(self.layout.lang, d)
    }

    /// schema.org description of the platform, as JSON safe inside a `<script>` element.
    fn json_ld(&self) -> String {
        let p = &self.p;
        let mut value = serde_json::json!({
            "@context": "https://schema.org",
            "@type": "SoftwareApplication",
            "name": p.name,
            "alternateName": p.short_name,
            "description": p.summary,
            "applicationCategory": "GovernmentApplication",
            "url": p.website,
            "inLanguage": p.languages,
        });
        if let Some((_, name, _)) = &p.host_agency {
            value["provider"] = serde_json::json!({ "@type": "GovernmentOrganization", "name": name });
        }
        if !self.enterprises.is_empty() {
            value["author"] = self.enterprises.iter().map(|e| serde_json::json!({ "@type": "Organization", "name": e.name })).collect();
        }
        if let Some(obj) = value.as_object_mut() {
            obj.retain(|_, v| !v.is_null());
        }
        value.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
    }
}

/// The date of a decision as known: full date, or the year alone.
pub fn decision_date(lang: Lang, d: &Decision) -> String {
    match (d.decided_on, d.decided_year) {
        (Some(date), _) => lang.date(date),
        (None, Some(year)) => lang.t_with("recognition.in_year", &[("year", &year.to_string())]),
        (None, None) => lang.t("common.unknown"),
    }
}

/// `/platforms/{slug}`: every field, linked agencies and enterprises, decisions, JSON-LD.
pub async fn show_platform(
    PageCtx(layout): PageCtx,
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    Path(slug): Path<String>,
    Query(q): Query<OpinionsQuery>,
) -> AppResult<PlatformPage> {
    let order = RatingOrder::parse(&q.order).unwrap_or(RatingOrder::Newest);
    platform_page(&state, layout, &slug, user.as_ref(), order).await
}

/// `?order=` of the ratings on a platform page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OpinionsQuery {
    order: String,
}

/// The platform page (also re-shown with form errors by the rating and feedback handlers).
pub async fn platform_page(
    state: &AppState,
    layout: Layout,
    slug: &str,
    user: Option<&CurrentUser>,
    order: RatingOrder,
) -> AppResult<PlatformPage> {
    let pool = &state.pool;
    let slug = Slug::parse(slug).ok_or(AppError::NotFound)?;
    let p = catalogue::find(pool, slug.as_str()).await?.ok_or(AppError::NotFound)?;
    let (enterprises, need_groups, decisions, opinions) = tokio::try_join!(
        async { Ok::<_, AppError>(catalogue::enterprises_of(pool, p.id).await?) },
        async { Ok(catalogue::need_groups_of(pool, p.id).await?) },
        async { Ok(content::decisions(pool, None, Some(p.id)).await?) },
        crate::routes::opinions::load(state, p.id, user, order),
    )?;
    let description_html = p.description.as_deref().filter(|d| !d.trim().is_empty()).map(crate::markdown::render);
    let sources = sources(&p.sources);
    Ok(PlatformPage { layout, p, enterprises, need_groups, decisions, description_html, sources, opinions })
}
