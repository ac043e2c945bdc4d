//! The moderation desk (`/staff/moderation`): one queue over ratings, feedback, replies,
//! questions and answers (held, flagged or appealed), decisions with reasons, edits that remove
//! personal data, the blocklist; the enterprise's view of what is said about its platforms; and
//! the public moderation report.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use axum_extra::extract::Form;
use serde::Deserialize;

use crate::auth::session::set_flash;
use crate::db::audit::{self, Event};
use crate::db::contributions::{self, AboutUs};
use crate::db::ids::UserId;
use crate::db::moderation::{self, AuthorHistory, Decision, Flagger, Item, MonthReport, Refused};
use crate::domain::moderation::{ItemKind, REASONS, redact_personal_data};
use crate::error::{AppError, AppResult};
use crate::extract::{Admin, EnterpriseUser, Layout, Moderator, PageCtx};
use crate::routes::form::see_other;
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "staff/moderation.html")]
pub struct QueuePage {
    layout: Layout,
    items: Vec<Item>,
    kind: String,
    platform: String,
    rule: String,
}

impl QueuePage {
    fn kinds(&self) -> &'static [ItemKind] {
        ItemKind::ALL
    }
    fn rules(&self) -> [&'static str; 8] {
        ["link", "phone", "id_number", "blocklist", "new_account", "burst", "flagged", "appealed"]
    }
    fn rule_label(&self, rule: &str) -> String {
        if rule == "appealed" { self.layout.t("moderation.appealed") } else { self.layout.tp("hold", rule) }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct QueueQuery {
    kind: String,
    platform: String,
    rule: String,
}

/// `GET /staff/moderation?kind=`: everything waiting, oldest first.
pub async fn list_queue(
    PageCtx(layout): PageCtx,
    State(state): State<AppState>,
    Moderator(moderator): Moderator,
    Query(q): Query<QueueQuery>,
) -> AppResult<QueuePage> {
    let only = ItemKind::parse(&q.kind);
    let platform: String = q.platform.trim().chars().take(120).collect();
    let rule: String = q.rule.trim().chars().take(40).collect();
    let items = moderation::queue(&state.pool, moderator.id(), only, &platform, &rule, 200).await?;
    Ok(QueuePage { layout, items, kind: only.map(|k| k.as_str().to_owned()).unwrap_or_default(), platform, rule })
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/moderation_item.html")]
pub struct ItemPage {
    layout: Layout,
    item: Item,
    history: AuthorHistory,
    redacted: Option<String>,
    appeal: Option<String>,
    flags: Vec<Flagger>,
    error: Option<&'static str>,
}

impl ItemPage {
    fn reasons(&self) -> [&'static str; 6] {
        REASONS
    }
}

async fn item_page(
    state: &AppState,
    layout: Layout,
    moderator: UserId,
    kind: ItemKind,
    id: i64,
    error: Option<&'static str>,
) -> AppResult<ItemPage> {
    let item = moderation::item(&state.pool, kind, id, moderator).await?.ok_or(AppError::NotFound)?;
    // Who flagged an item is not shown to a moderator it concerns.
    let flags = if item.own { Vec::new() } else { moderation::flags_of(&state.pool, kind, id).await? };
    let history = match item.author_id {
        Some(author) => moderation::author_history(&state.pool, author).await?,
        None => AuthorHistory::default(),
    };
    let redacted = item.text.as_deref().map(redact_personal_data).filter(|r| Some(r.as_str()) != item.text.as_deref());
    let appeal = moderation::pending_appeal(&state.pool, kind, id).await?;
    Ok(ItemPage { layout, item, history, redacted, appeal, flags, error })
}

/// `GET /staff/moderation/{kind}/{id}`.
pub async fn show_item(
    PageCtx(layout): PageCtx,
    State(state): State<AppState>,
    Moderator(moderator): Moderator,
    Path((kind, id)): Path<(String, i64)>,
) -> AppResult<ItemPage> {
    let kind = ItemKind::parse(&kind).ok_or(AppError::NotFound)?;
    item_page(&state, layout, moderator.id(), kind, id, None).await
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DecideForm {
    action: String,
    reason: String,
    note: String,
}

/// `POST /staff/moderation/{kind}/{id}`: approve, reject with a reason, or publish with personal
/// data edited out. Appeals go to a moderator other than the one who decided first.
pub async fn decide_item(
    PageCtx(layout): PageCtx,
    State(state): State<AppState>,
    Moderator(user): Moderator,
    Path((kind, id)): Path<(String, i64)>,
    Form(form): Form<DecideForm>,
) -> AppResult<Response> {
    let kind = ItemKind::parse(&kind).ok_or(AppError::NotFound)?;
    let item = moderation::item(&state.pool, kind, id, user.id()).await?.ok_or(AppError::NotFound)?;
    let Some(decision) = form.decision(&item) else {
        let page = item_page(&state, layout, user.id(), kind, id, Some("moderation.reason_required")).await?;
        return Ok(crate::routes::form::invalid(page));
    };
    let mut tx = state.pool.begin().await?;
    let before = match moderation::decide(&mut tx, kind, id, user.id(), &decision).await? {
        Ok(before) => before,
        Err(refused) => {
            drop(tx);
            let (status, key) = match refused {
                Refused::SameModerator => (StatusCode::CONFLICT, "moderation.other_moderator"),
                Refused::OwnItem => (StatusCode::FORBIDDEN, "moderation.own_item"),
                Refused::NotWaiting => (StatusCode::CONFLICT, "staff.already_decided"),
            };
            return Ok((status, item_page(&state, layout, user.id(), kind, id, Some(key)).await?).into_response());
        }
    };
    audit::record(&mut *tx, &user.actor, decision_event(kind, id, &decision, before)).await?;
    let published = !matches!(decision, Decision::Reject { .. });
    if published
        && matches!(kind, ItemKind::Rating | ItemKind::Feedback)
        && let Some(slug) = &item.platform_slug
        && let Some(platform) = crate::db::catalogue::find(&mut *tx, slug).await?
    {
        crate::mail::queue_new_item_notices(&mut tx, platform.id, &state.link(&format!("/platforms/{slug}#opinions"))).await?;
    }
    tx.commit().await?;
    set_flash(&user.session, if published { "moderation.published" } else { "moderation.rejected" }).await?;
    Ok(see_other("/staff/moderation"))
}

impl DecideForm {
    /// The decision the form asks for; `None` without a valid reason for a rejection (the
    /// reason `other` needs a note).
    fn decision(&self, item: &Item) -> Option<Decision> {
        let note = Some(crate::domain::text::normalize(&self.note)).filter(|n| !n.is_empty());
        match self.action.as_str() {
            "approve" => Some(Decision::Approve),
            "redact" => Some(Decision::Redact { text: redact_personal_data(item.text.as_deref().unwrap_or_default()) }),
            "reject" if REASONS.contains(&self.reason.as_str()) && (self.reason != "other" || note.is_some()) => {
                Some(Decision::Reject { reason: self.reason.clone(), note })
            }
            _ => None,
        }
    }
}

/// The audit event of a decision (with the text before an edit that removed personal data).
fn decision_event(kind: ItemKind, id: i64, decision: &Decision, before: Option<String>) -> Event<'_> {
    match decision {
        Decision::Approve => Event::new("item.approved", kind.as_str(), id).after(serde_json::json!({"state": "published"})),
        Decision::Redact { text } => Event::new("item.redacted", kind.as_str(), id)
            .before(serde_json::json!({"text": before}))
            .after(serde_json::json!({"state": "published", "text": text})),
        Decision::Reject { reason, note } => {
            Event::new("item.rejected", kind.as_str(), id).after(serde_json::json!({"state": "rejected", "reason": reason, "note": note}))
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/blocklist.html")]
pub struct TermsPage {
    layout: Layout,
    terms: Vec<String>,
}

/// `GET /staff/blocklist` (admins).
pub async fn list_terms(PageCtx(layout): PageCtx, State(state): State<AppState>, _a: Admin) -> AppResult<TermsPage> {
    Ok(TermsPage { layout, terms: moderation::terms(&state.pool).await? })
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TermForm {
    add: String,
    remove: String,
}

/// `POST /staff/blocklist` (admins): adds or removes a term.
pub async fn change_terms(State(state): State<AppState>, Admin(admin): Admin, Form(form): Form<TermForm>) -> AppResult<Response> {
    let add = crate::domain::text::normalize(&form.add).to_lowercase();
    if !add.is_empty() {
        if add.chars().count() > 100 {
            return Err(AppError::Conflict("moderation.term_too_long"));
        }
        if moderation::add_term(&state.pool, &add, admin.id()).await? {
            audit::record(&state.pool, &admin.actor, Event::new("blocklist.added", "term", &add)).await?;
        }
    }
    if !form.remove.is_empty() && moderation::remove_term(&state.pool, &form.remove).await? {
        audit::record(&state.pool, &admin.actor, Event::new("blocklist.removed", "term", &form.remove)).await?;
    }
    Ok(see_other("/staff/blocklist"))
}

#[derive(Template, WebTemplate)]
#[template(path = "account/opinions.html")]
pub struct AboutUsPage {
    layout: Layout,
    items: Vec<AboutUs>,
}

/// `GET /account/opinions`: what citizens said about the enterprise's platforms, with reply forms.
pub async fn opinions_about_us(PageCtx(layout): PageCtx, State(state): State<AppState>, user: EnterpriseUser) -> AppResult<AboutUsPage> {
    Ok(AboutUsPage { layout, items: contributions::about_enterprise(&state.pool, user.enterprise_id, 200).await? })
}

#[derive(Template, WebTemplate)]
#[template(path = "moderation_report.html")]
pub struct ReportPage {
    layout: Layout,
    months: Vec<MonthReport>,
}

impl ReportPage {
    fn reason_parts(&self, pair: &str) -> (String, String) {
        let (reason, count) = pair.rsplit_once(':').unwrap_or((pair, ""));
        (reason.to_owned(), count.to_owned())
    }
    fn hours(&self, h: &Option<f64>) -> String {
        h.map(|h| format!("{h:.1}")).unwrap_or_else(|| "—".into())
    }
}

/// `GET /moderation-report`: what was received, published and rejected (by reason), and how fast.
pub async fn public_report(PageCtx(layout): PageCtx, State(state): State<AppState>) -> AppResult<ReportPage> {
    Ok(ReportPage { layout, months: moderation::monthly_report(&state.pool).await? })
}
