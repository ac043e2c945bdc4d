//! The platform page (`/platforms/{slug}`): every field of the listing, its agencies, enterprises
//! and decisions, JSON-LD, and the citizens' part (rating summary, published ratings and
//! feedback with the enterprises' replies, the visitor's own rating and what they may do). The
//! forms on it are handled in `routes::opinions`, which shows this page again with their errors.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use serde::Deserialize;

use super::view::{Fact, Link, Source, sources};
use crate::db::catalogue::{self, LinkedEnterprise, NeedGroupRef, PlatformDetail};
use crate::db::content::{self, Decision};
use crate::db::contributions::{self, OwnRating, PublicItem, Summary};
use crate::domain::Slug;
use crate::domain::moderation::RatingOrder;
use crate::domain::platform::{DecisionKind, EnterpriseRole, Kind, Pillar, Status};
use crate::error::{AppError, AppResult};
use crate::extract::{CurrentUser, Layout, PageCtx};
use crate::i18n::Lang;
use crate::routes::form::FormErrors;
use crate::state::AppState;

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
    pub opinions: Opinions,
}

impl PlatformPage {
    /// The reasons a report (flag) may give.
    fn flag_reasons(&self) -> [&'static str; 6] {
        crate::domain::moderation::REASONS
    }

    /// Where a flag form returns to.
    fn back_path(&self) -> String {
        format!("/platforms/{}#opinions", self.p.slug)
    }

    /// Not confirmed by its owner for six months (or never).
    fn is_stale(&self) -> bool {
        crate::domain::listing::is_stale(self.p.last_confirmed_at, time::OffsetDateTime::now_utc())
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
        load_opinions(state, p.id, user, order),
    )?;
    let description_html = p.description.as_deref().filter(|d| !d.trim().is_empty()).map(crate::markdown::render);
    let sources = sources(&p.sources);
    Ok(PlatformPage { layout, p, enterprises, need_groups, decisions, description_html, sources, opinions })
}

/// The citizens' part of a platform page.
#[derive(Debug, Clone, Default)]
pub struct Opinions {
    /// Rating summary.
    pub summary: Summary,
    /// Published ratings with comments.
    pub ratings: Vec<PublicItem>,
    /// Published feedback.
    pub feedback: Vec<PublicItem>,
    /// Median hours to an enterprise reply (last 90 days).
    pub reply_hours: Option<f64>,
    /// Order of the ratings list.
    pub order: RatingOrder,
    /// Who is looking.
    pub viewer: Viewer,
    /// Their rating.
    pub own: Option<OwnRating>,
    /// Form errors of a refused submission.
    pub errors: FormErrors,
    /// Typed stars, comment and feedback, kept after an error.
    pub typed: (String, String, String),
    /// Questions about this platform promoted to the FAQ.
    pub faq: Vec<crate::db::qa::Question>,
}

/// What the visitor may do here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Viewer {
    /// Not signed in.
    #[default]
    Visitor,
    /// Signed in, email not verified.
    Unverified,
    /// The platform's own enterprise.
    Owner,
    /// May rate and send feedback.
    Contributor,
}

impl Opinions {
    /// Percent of ratings with `stars` (for the bars).
    pub fn share(&self, stars: i32) -> i64 {
        let n = self.with_stars(stars);
        if self.summary.count == 0 { 0 } else { n * 100 / self.summary.count }
    }
    /// Ratings with `stars`.
    pub fn with_stars(&self, stars: i32) -> i64 {
        usize::try_from(stars - 1).ok().and_then(|i| self.summary.distribution.get(i).copied()).unwrap_or(0)
    }
    /// The average, one decimal.
    pub fn average(&self) -> String {
        self.summary.average.map(|a| format!("{a:.1}")).unwrap_or_default()
    }
    /// Whether the visitor may post.
    pub fn can_post(&self) -> bool {
        self.viewer == Viewer::Contributor
    }
    /// The orders the ratings list can be shown in.
    pub fn orders(&self) -> &'static [RatingOrder] {
        RatingOrder::ALL
    }
    /// Whether the visitor is not signed in (and is offered to).
    pub fn is_visitor(&self) -> bool {
        self.viewer == Viewer::Visitor
    }
    /// Why a signed-in visitor may not post here, as a translation key.
    pub fn why_not_key(&self) -> Option<&'static str> {
        match self.viewer {
            Viewer::Unverified => Some("opinions.verify_first"),
            Viewer::Owner => Some("opinions.own_platform"),
            Viewer::Visitor | Viewer::Contributor => None,
        }
    }
    /// The distribution bars: label, count, percent of all ratings (5 stars first).
    pub fn bars(&self, layout: &Layout) -> Vec<(String, i64, i64)> {
        (1..=5).rev().map(|stars| (layout.tc("opinions.stars", i64::from(stars)), self.with_stars(stars), self.share(stars))).collect()
    }

    /// The star choices of the form: value, label, checked.
    pub fn star_choices(&self, layout: &Layout) -> Vec<(i32, String, bool)> {
        (1..=5).map(|stars| (stars, layout.tc("opinions.stars", i64::from(stars)), self.checked(stars))).collect()
    }

    /// Whether `stars` should be checked in the form.
    pub fn checked(&self, stars: i32) -> bool {
        if self.typed.0.is_empty() {
            self.own.as_ref().is_some_and(|o| i32::from(o.stars) == stars)
        } else {
            self.typed.0.trim() == stars.to_string()
        }
    }
    /// The comment to show in the form.
    pub fn comment(&self) -> String {
        if self.typed.1.is_empty() { self.own.as_ref().and_then(|o| o.comment.clone()).unwrap_or_default() } else { self.typed.1.clone() }
    }
    /// The median reply time, rounded to hours (at least 1).
    pub fn reply_hours_text(&self) -> Option<i64> {
        self.reply_hours.map(|h| (h.round() as i64).max(1))
    }
}

/// Loads the citizens' part of a platform page for `user`.
pub async fn load_opinions(state: &AppState, platform_id: i64, user: Option<&CurrentUser>, order: RatingOrder) -> AppResult<Opinions> {
    let pool = &state.pool;
    let (summary, ratings, feedback, reply_hours, faq) = tokio::try_join!(
        contributions::summary(pool, platform_id),
        contributions::public_ratings(pool, platform_id, order, 50),
        contributions::public_feedback(pool, platform_id, 50),
        contributions::median_reply_hours(pool, platform_id),
        crate::db::qa::list(pool, Some(platform_id), true, 20),
    )?;
    let (viewer, own) = match user {
        None => (Viewer::Visitor, None),
        Some(u) => (viewer_of(state, u, platform_id).await?, contributions::own_rating(pool, platform_id, u.id()).await?),
    };
    Ok(Opinions { summary, ratings, feedback, reply_hours, order, viewer, own, faq, ..Opinions::default() })
}

/// What `user` may do on the platform's page. An account that speaks for the platform's enterprise
/// (linked to it, or still waiting for approval with its tax code) is its owner and may not rate it.
pub async fn viewer_of(state: &AppState, user: &CurrentUser, platform_id: i64) -> AppResult<Viewer> {
    if !user.verified() {
        return Ok(Viewer::Unverified);
    }
    if contributions::speaks_for_platform(&state.pool, platform_id, user.id()).await? {
        return Ok(Viewer::Owner);
    }
    Ok(Viewer::Contributor)
}
