//! What citizens say about a platform: ratings (1–5 stars, optional comment, one per account,
//! changeable and withdrawable), feedback, flags and appeals; enterprises' public replies.
//! Everything with text waits for a moderator; automatic rules label why.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use axum_extra::extract::Form;
use serde::Deserialize;

use crate::auth::session::set_flash;
use crate::db::audit::{self, Event};
use crate::db::catalogue;
use crate::db::contributions;
use crate::db::moderation::{self, FlagRefused};
use crate::domain::moderation::{Context, Hold, ItemKind, REASONS, RatingOrder, hold_rule};
use crate::error::{AppError, AppResult};
use crate::extract::{CurrentUser, EnterpriseUser, Layout, PageCtx};
use crate::routes::form::{FormErrors, see_other};
use crate::routes::platform_page::{Viewer, platform_page, viewer_of};
use crate::state::AppState;

/// Ratings and feedback an account may post per hour (and a client address, `limits::POSTS`).
pub const POSTS_PER_HOUR: i64 = crate::limits::POSTS.per_hour as i64;
/// Longest comment, feedback, reply or appeal.
const MAX_TEXT: usize = 3000;

/// Checks the posting limits of an account and of its client address (the 11th post in an hour is refused).
async fn within_limits(state: &AppState, user: &CurrentUser) -> AppResult<()> {
    if contributions::recent_posts(&state.pool, user.id()).await? >= POSTS_PER_HOUR {
        return Err(AppError::TooManyRequests("opinions.too_many", 3600));
    }
    if !crate::limits::POSTS.take_from(&state.pool, user.actor.addr.as_deref()).await? {
        return Err(AppError::TooManyRequests("opinions.too_many", 3600));
    }
    Ok(())
}

/// The platform a contribution goes to, and whether this account may post on it.
async fn target(state: &AppState, user: &CurrentUser, slug: &str) -> AppResult<i64> {
    let platform = catalogue::find(&state.pool, slug).await?.ok_or(AppError::NotFound)?;
    match viewer_of(state, user, platform.id).await? {
        Viewer::Contributor => Ok(platform.id),
        Viewer::Unverified => Err(AppError::Conflict("opinions.verify_first")),
        Viewer::Owner => Err(AppError::Conflict("opinions.own_platform")),
        Viewer::Visitor => Err(AppError::Forbidden),
    }
}

fn clean_text(text: &str) -> Option<String> {
    let t = crate::domain::text::normalize(text);
    (!t.is_empty()).then_some(t)
}

async fn rule_for(state: &AppState, user: &CurrentUser, text: Option<&str>, burst: bool) -> AppResult<Option<Hold>> {
    let terms = moderation::terms(&state.pool).await?;
    let new_account = time::OffsetDateTime::now_utc() - user.row.created_at < time::Duration::days(1);
    Ok(hold_rule(text, &terms, Context { new_account, burst }))
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RatingForm {
    stars: String,
    comment: String,
}

/// `POST /platforms/{slug}/ratings`: saves (or replaces) the account's rating.
pub async fn rate_platform(
    PageCtx(layout): PageCtx,
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
    Form(form): Form<RatingForm>,
) -> AppResult<Response> {
    let platform_id = target(&state, &user, &slug).await?;
    let stars = form.stars.trim().parse::<i16>().ok().filter(|s| (1..=5).contains(s));
    let comment = clean_text(&form.comment);
    let mut errors = FormErrors::new();
    if stars.is_none() {
        errors.add("stars", "opinions.choose_stars");
    }
    if comment.as_ref().is_some_and(|c| c.chars().count() > MAX_TEXT) {
        errors.add("comment", "form.too_long");
    }
    let Some(stars) = stars.filter(|_| errors.is_empty()) else {
        return refused(&state, layout, user, &slug, errors, (form.stars, form.comment, String::new())).await;
    };
    within_limits(&state, &user).await?;
    let burst = contributions::rating_burst(&state.pool, platform_id).await?;
    let hold = rule_for(&state, &user, comment.as_deref(), burst).await?;
    let mut tx = state.pool.begin().await?;
    let id = contributions::upsert_rating(&mut *tx, platform_id, user.id(), stars, comment.as_deref(), hold).await?;
    let after = serde_json::json!({"stars": stars, "comment": comment, "hold": hold.map(Hold::as_str)});
    audit::record(&mut *tx, &user.actor, Event::new("rating.saved", "rating", id).after(after)).await?;
    if hold.is_none() && comment.is_none() {
        crate::mail::queue_new_item_notices(&mut tx, platform_id, &state.link(&format!("/platforms/{slug}#opinions"))).await?;
    }
    tx.commit().await?;
    let flash = if hold.is_none() && comment.is_none() { "opinions.rating_published" } else { "opinions.rating_pending" };
    set_flash(&user.session, flash).await?;
    Ok(see_other(&format!("/platforms/{slug}#opinions")))
}

/// Re-shows the platform page with the form's errors and what was typed (422).
async fn refused(
    state: &AppState,
    layout: Layout,
    user: CurrentUser,
    slug: &str,
    errors: FormErrors,
    typed: (String, String, String),
) -> AppResult<Response> {
    let mut page = platform_page(state, layout, slug, Some(&user), RatingOrder::Newest).await?;
    page.opinions.errors = errors;
    page.opinions.typed = typed;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// `POST /platforms/{slug}/ratings/withdraw`.
pub async fn withdraw_rating(State(state): State<AppState>, user: CurrentUser, Path(slug): Path<String>) -> AppResult<Response> {
    let platform = catalogue::find(&state.pool, &slug).await?.ok_or(AppError::NotFound)?;
    if contributions::withdraw_rating(&state.pool, platform.id, user.id()).await? {
        audit::record(&state.pool, &user.actor, Event::new("rating.withdrawn", "platform", platform.id)).await?;
        set_flash(&user.session, "opinions.rating_withdrawn").await?;
    }
    Ok(see_other(&format!("/platforms/{slug}#opinions")))
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FeedbackForm {
    body: String,
}

/// `POST /platforms/{slug}/feedback`.
pub async fn send_feedback(
    PageCtx(layout): PageCtx,
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
    Form(form): Form<FeedbackForm>,
) -> AppResult<Response> {
    let platform_id = target(&state, &user, &slug).await?;
    let body = clean_text(&form.body);
    let mut errors = FormErrors::new();
    match &body {
        None => errors.add("body", "form.required"),
        Some(b) if b.chars().count() > MAX_TEXT => errors.add("body", "form.too_long"),
        Some(_) => {}
    }
    let Some(body) = body.filter(|_| errors.is_empty()) else {
        return refused(&state, layout, user, &slug, errors, (String::new(), String::new(), form.body)).await;
    };
    within_limits(&state, &user).await?;
    let hold = rule_for(&state, &user, Some(&body), false).await?;
    let mut tx = state.pool.begin().await?;
    let id = contributions::insert_feedback(&mut *tx, platform_id, user.id(), &body, hold).await?;
    audit::record(
        &mut *tx,
        &user.actor,
        Event::new("feedback.sent", "feedback", id).after(serde_json::json!({"hold": hold.map(Hold::as_str)})),
    )
    .await?;
    tx.commit().await?;
    set_flash(&user.session, "opinions.feedback_pending").await?;
    Ok(see_other(&format!("/platforms/{slug}#opinions")))
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FlagForm {
    reason: String,
    back: String,
}

/// Accounts younger than this may not flag.
const FLAG_MIN_AGE: time::Duration = time::Duration::days(1);

/// `POST /flags/{kind}/{id}`: a verified account at least a day old reports an item (not its own,
/// nor one about its enterprise's platform); three people's reports hide it until reviewed.
pub async fn flag_item(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((kind, id)): Path<(String, i64)>,
    Form(form): Form<FlagForm>,
) -> AppResult<Response> {
    let kind = ItemKind::parse(&kind).ok_or(AppError::NotFound)?;
    if !REASONS.contains(&form.reason.as_str()) {
        return Err(AppError::BadRequest("flag reason"));
    }
    if !user.verified() {
        return Err(AppError::Conflict("opinions.flag_verify_first"));
    }
    if time::OffsetDateTime::now_utc() - user.row.created_at < FLAG_MIN_AGE {
        return Err(AppError::Conflict("opinions.flag_too_new"));
    }
    let mut tx = state.pool.begin().await?;
    let new = match moderation::flag(&mut tx, kind, id, user.id(), &form.reason).await? {
        Ok(new) => new,
        Err(FlagRefused::NotFound) => return Err(AppError::NotFound),
        Err(FlagRefused::OwnItem) => return Err(AppError::Conflict("opinions.flag_own")),
    };
    if new {
        audit::record(
            &mut *tx,
            &user.actor,
            Event::new("item.flagged", kind.as_str(), id).after(serde_json::json!({"reason": form.reason})),
        )
        .await?;
    }
    tx.commit().await?;
    set_flash(&user.session, "opinions.flagged").await?;
    Ok(see_other(&crate::routes::form::safe_next(&form.back)))
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AppealForm {
    body: String,
}

/// `POST /account/appeals/{kind}/{id}`: one appeal per rejected item, decided by another moderator.
pub async fn appeal_item(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((kind, id)): Path<(String, i64)>,
    Form(form): Form<AppealForm>,
) -> AppResult<Response> {
    let kind = ItemKind::parse(&kind).ok_or(AppError::NotFound)?;
    let Some(body) = clean_text(&form.body).filter(|b| b.chars().count() <= MAX_TEXT) else {
        return Err(AppError::Conflict("opinions.appeal_text"));
    };
    let mut tx = state.pool.begin().await?;
    match contributions::appeal(&mut tx, kind, id, user.id(), &body).await? {
        None => return Err(AppError::NotFound),
        Some(false) => return Err(AppError::Conflict("opinions.already_appealed")),
        Some(true) => {}
    }
    audit::record(&mut *tx, &user.actor, Event::new("item.appealed", kind.as_str(), id)).await?;
    tx.commit().await?;
    set_flash(&user.session, "opinions.appealed").await?;
    Ok(see_other("/account#contributions"))
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ReplyForm {
    body: String,
}

/// `POST /account/replies/{kind}/{id}`: the platform's enterprise answers a rating or feedback, once.
pub async fn reply_item(
    State(state): State<AppState>,
    user: EnterpriseUser,
    Path((kind, id)): Path<(String, i64)>,
    Form(form): Form<ReplyForm>,
) -> AppResult<Response> {
    let kind = ItemKind::parse(&kind).ok_or(AppError::NotFound)?;
    let Some(body) = clean_text(&form.body).filter(|b| b.chars().count() <= MAX_TEXT) else {
        return Err(AppError::Conflict("opinions.reply_text"));
    };
    let hold = rule_for(&state, &user.user, Some(&body), false).await?;
    let mut tx = state.pool.begin().await?;
    match contributions::reply(&mut tx, kind, id, user.enterprise_id, user.user.id(), &body, hold).await? {
        None => return Err(AppError::Forbidden),
        Some(None) => return Err(AppError::Conflict("opinions.already_replied")),
        Some(Some(reply)) => audit::record(&mut *tx, &user.user.actor, Event::new("reply.sent", "reply", reply)).await?,
    }
    tx.commit().await?;
    set_flash(&user.user.session, "opinions.reply_pending").await?;
    Ok(see_other("/account/opinions"))
}
